package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	"example.com/gcf-oauth-gmail/internal/logging"
	"example.com/gcf-oauth-gmail/internal/testhost"
)

func decodeLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("log line is not one JSON object: %.200q: %v", line, err)
		}
		lines = append(lines, obj)
	}
	return lines
}

func TestLinesCarrySeverityAndMessage(t *testing.T) {
	tests := []struct {
		level slog.Level
		want  string
	}{
		{slog.LevelDebug, "DEBUG"},
		{slog.LevelInfo, "INFO"},
		{slog.LevelWarn, "WARNING"},
		{slog.LevelError, "ERROR"},
		{slog.LevelError + 4, "CRITICAL"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		logging.New(&buf, "").Log(context.Background(), tt.level, "hello", "status", 502)
		line := decodeLines(t, buf.String())[0]
		if line["severity"] != tt.want || line["message"] != "hello" || line["status"] != float64(502) {
			t.Errorf("level %v: got %v, want severity %s and message hello", tt.level, line, tt.want)
		}
		if _, ok := line["level"]; ok {
			t.Errorf("line still has slog's level key: %v", line)
		}
	}
}

func TestFormatTextIsOneReadableLinePerRecordAndAnythingElseIsJSON(t *testing.T) {
	tests := []struct {
		format   string
		wantText bool
	}{
		{"text", true},
		{"", false},
		{"json", false},
		{"TEXT", false},
		{"pretty", false},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		logging.NewFormat(&buf, "", tt.format).Warn("two\nlines", "port", "8080")
		out := buf.String()
		if strings.Count(out, "\n") != 1 {
			t.Errorf("format %q: want exactly one line, got %q", tt.format, out)
			continue
		}
		if !tt.wantText {
			if line := decodeLines(t, out)[0]; line["severity"] != "WARNING" || line["message"] != "two\nlines" {
				t.Errorf("format %q: want a JSON line with severity WARNING, got %q", tt.format, out)
			}
			continue
		}
		if json.Valid([]byte(out)) {
			t.Errorf("format %q: want text, got JSON %q", tt.format, out)
		}
		want := regexp.MustCompile(`^time=\d\d:\d\d:\d\d\.\d\d\d level=WARNING msg="two\\nlines" port=8080\n$`)
		if !want.MatchString(out) {
			t.Errorf("format %q: got %q, want it to match %s", tt.format, out, want)
		}
	}
}

// probe is a function that logs one line and answers with that line, so a
// test sees what a function's log line holds for the request it sent.
func probe(w http.ResponseWriter, r *http.Request) {
	logging.New(w, "my-project").InfoContext(r.Context(), "inside")
}

var frameworkOnce sync.Once
var frameworkURL string

// throughFramework serves probe with functions-framework itself, the way a
// deployed function is served, once per test binary: the framework offers
// no way to stop it, so the test binary's exit does. At /probe-fresh, probe
// first calls WithExecutionID, as every function of the app does.
func throughFramework(t *testing.T) string {
	t.Helper()
	frameworkOnce.Do(func() {
		funcframework.RegisterHTTPFunction("/probe", probe)
		funcframework.RegisterHTTPFunction("/probe-fresh", func(w http.ResponseWriter, r *http.Request) {
			probe(w, logging.WithExecutionID(r))
		})
		port := testhost.FreePort(t)
		go func() { _ = funcframework.StartHostPort("127.0.0.1", port) }()
		testhost.WaitListening(t, port)
		frameworkURL = "http://127.0.0.1:" + port + "/probe"
	})
	return frameworkURL
}

func throughFrameworkWithExecutionID(t *testing.T) string {
	return throughFramework(t) + "-fresh"
}

// throughWithRequestIDs serves probe with WithRequestIDs on a server with
// net/http's default header limit (1 MiB), the same as the framework's.
func throughWithRequestIDs(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(logging.WithRequestIDs(http.HandlerFunc(probe)))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestOnlyWellFormedRequestIDsAreLogged(t *testing.T) {
	const (
		trace          = "105445aa7843bc8bf206b12000100000"
		inCloudLogging = "projects/my-project/traces/" + trace
		generated      = "(any well-formed id)"
		// replaced is a malformed execution id: left out of the line by
		// the framework alone, replaced by a fresh one otherwise.
		replaced = "(left out, or a fresh id)"
		mib      = 1 << 20
	)
	tests := []struct {
		name                            string
		traceContext, execution         string
		wantTrace, wantSpan, wantExecID string
	}{
		{"well-formed ids", trace + "/17;o=1", "exec-1", inCloudLogging, "17", "exec-1"},
		{"largest decimal span id", trace + "/18446744073709551615;o=1", "x", inCloudLogging, "18446744073709551615", "x"},
		{"hex span id", trace + "/00f067aa0ba902b7", "x", inCloudLogging, "00f067aa0ba902b7", "x"},
		{"no execution id: one is made", trace, "", inCloudLogging, "", generated},
		{"1 MiB trace id", strings.Repeat("a", mib) + "/17;o=1", "x", "", "", "x"},
		{"trace id one digit short", trace[1:] + "/17", "x", "", "", "x"},
		{"trace id of non-hex letters", strings.Repeat("z", 32) + "/17", "x", "", "", "x"},
		{"1 MiB span id", trace + "/" + strings.Repeat("7", mib), "x", inCloudLogging, "", "x"},
		{"span id of 21 digits", trace + "/" + strings.Repeat("1", 21), "x", inCloudLogging, "", "x"},
		{"span id zero", trace + "/0;o=1", "x", inCloudLogging, "", "x"},
		{"1 MiB execution id", "", strings.Repeat("e", mib-64), "", "", replaced},
		{"execution id of 65 characters", "", strings.Repeat("e", 65), "", "", replaced},
		{"execution id with a quote", "", `exec"1`, "", "", replaced},
		{"execution id with a space", "", "exec 1", "", "", replaced},
		{"execution id with non-ASCII letters", "", "\xc3\xa9t\xc3\xa9", "", "", replaced},
	}
	sources := []struct {
		name string
		url  func(*testing.T) string
		// fresh is true when a malformed execution id is replaced.
		fresh bool
	}{
		{"functions-framework", throughFramework, false},
		{"functions-framework and WithExecutionID", throughFrameworkWithExecutionID, true},
		{"WithRequestIDs", throughWithRequestIDs, true},
	}
	for _, src := range sources {
		url := src.url(t)
		for _, tt := range tests {
			t.Run(src.name+"/"+tt.name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				if tt.traceContext != "" {
					req.Header.Set("X-Cloud-Trace-Context", tt.traceContext)
				}
				if tt.execution != "" {
					req.Header.Set("Function-Execution-Id", tt.execution)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d, body %.200q", resp.StatusCode, body)
				}
				if len(body) > 512 {
					t.Errorf("the line is %d bytes; a request's headers must not make it long: %.300q", len(body), body)
				}
				line := decodeLines(t, string(body))[0]
				check := func(key, want string) {
					if want == replaced && src.fresh {
						want = generated
					} else if want == replaced {
						want = ""
					}
					got, present := line[key].(string)
					switch {
					case want == generated && (!present || !regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`).MatchString(got)):
						t.Errorf("%s = %q, want a generated id", key, got)
					case want != generated && got != want:
						t.Errorf("%s = %.100q, want %q", key, got, want)
					case want == "" && present:
						t.Errorf("%s present (%.100q), want it left out", key, got)
					}
				}
				check("logging.googleapis.com/trace", tt.wantTrace)
				check("logging.googleapis.com/spanId", tt.wantSpan)
				check("execution_id", tt.wantExecID)
			})
		}
	}
}

func TestLongValuesAreCutToTheCap(t *testing.T) {
	long := strings.Repeat("v", 1<<20)
	// One more byte than the cap puts the cut inside the two-byte é.
	accented := strings.Repeat("v", logging.MaxValueBytes-1) + strings.Repeat("é", 100)
	tests := []struct {
		name string
		log  func(*slog.Logger)
		key  string
		cut  bool
	}{
		{"message", func(l *slog.Logger) { l.Info(long) }, "message", true},
		{"string attribute", func(l *slog.Logger) { l.Info("m", "v", long) }, "v", true},
		{"error attribute", func(l *slog.Logger) { l.Info("m", "v", errors.New(long)) }, "v", true},
		{"attribute added with With", func(l *slog.Logger) { l.With("v", long).Info("m") }, "v", true},
		{"cut inside a multi-byte character", func(l *slog.Logger) { l.Info("m", "v", accented) }, "v", true},
		{"value of exactly the cap", func(l *slog.Logger) { l.Info("m", "v", long[:logging.MaxValueBytes]) }, "v", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(logging.New(&buf, ""))
			if buf.Len() > logging.MaxValueBytes+200 {
				t.Fatalf("the line is %d bytes, want at most the cap (%d) and a little", buf.Len(), logging.MaxValueBytes)
			}
			got, _ := decodeLines(t, buf.String())[0][tt.key].(string)
			if !utf8.ValidString(got) {
				t.Errorf("the cut value is not valid UTF-8")
			}
			if cut := strings.Contains(got, "bytes cut]"); cut != tt.cut {
				t.Errorf("value ends %q; cut = %v, want %v", got[max(0, len(got)-40):], cut, tt.cut)
			}
		})
	}

	var buf bytes.Buffer
	logging.NewFormat(&buf, "", logging.FormatText).WithGroup("g").Info("m", "v", long)
	if buf.Len() > logging.MaxValueBytes+200 {
		t.Errorf("text line with a grouped attribute is %d bytes, want it cut", buf.Len())
	}
}
