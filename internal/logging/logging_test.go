package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

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
			t.Fatalf("log line is not one JSON object: %q: %v", line, err)
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

func TestLinesInsideAFunctionCarryTheTrace(t *testing.T) {
	var buf bytes.Buffer
	logger := logging.New(&buf, "my-project")
	funcframework.RegisterHTTPFunction("/trace-probe", func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "inside")
	})
	// Run the registered function through the framework's own wrapper so the
	// context carries what the framework puts there in production.
	req, _ := http.NewRequest(http.MethodGet, "/trace-probe", nil)
	req.Header.Set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/17;o=1")
	req.Header.Set("Function-Execution-Id", "exec-1")
	serveThroughFramework(t, req)

	line := decodeLines(t, buf.String())[0]
	if line["logging.googleapis.com/trace"] != "projects/my-project/traces/105445aa7843bc8bf206b12000100000" {
		t.Errorf("trace = %v", line["logging.googleapis.com/trace"])
	}
	if line["logging.googleapis.com/spanId"] != "17" || line["execution_id"] != "exec-1" {
		t.Errorf("span/execution id missing: %v", line)
	}
}

// serveThroughFramework starts functions-framework on a free loopback port
// (it offers no way to stop it; the test binary's exit does) and sends req.
func serveThroughFramework(t *testing.T, req *http.Request) {
	t.Helper()
	port := testhost.FreePort(t)
	go func() { _ = funcframework.StartHostPort("127.0.0.1", port) }()
	testhost.WaitListening(t, port)
	req.URL.Scheme, req.URL.Host = "http", "127.0.0.1:"+port
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
}
