package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/testhost"
)

// openTerminal returns both ends of a new pseudo-terminal, closed when the
// test ends.
func openTerminal(t *testing.T) (control, terminal *os.File) {
	t.Helper()
	control, terminal, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	}
	t.Cleanup(func() { control.Close(); terminal.Close() })
	return control, terminal
}

func TestIsTerminalOnlyForATerminal(t *testing.T) {
	_, terminal := openTerminal(t)
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	tests := []struct {
		name string
		w    io.Writer
		want bool
	}{
		{"pseudo-terminal", terminal, true},
		{"/dev/null (a character device)", devNull, false},
		{"pipe", w, false},
		{"regular file", file, false},
		{"not a file", &strings.Builder{}, false},
	}
	for _, tt := range tests {
		if got := isTerminal(tt.w); got != tt.want {
			t.Errorf("%s: isTerminal = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLogFormatIsLOG_FORMATElseTextOnATerminal(t *testing.T) {
	_, terminal := openTerminal(t)
	tests := []struct {
		name, env string
		stderr    io.Writer
		want      string
		wantErr   bool
		exported  string // LOG_FORMAT in the process environment afterwards
	}{
		{"unset, on a terminal", "", terminal, "text", false, "text"},
		{"unset, not a terminal", "", &strings.Builder{}, "json", false, ""},
		{"json on a terminal", "json", terminal, "json", false, "json"},
		{"text, not a terminal", "text", &strings.Builder{}, "text", false, "text"},
		{"unknown", "pretty", terminal, "json", true, "pretty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LOG_FORMAT", tt.env) // and restores it after the test
			got, err := logFormat(os.Getenv, tt.stderr)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("logFormat = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
			if exported := os.Getenv("LOG_FORMAT"); exported != tt.exported {
				t.Errorf("LOG_FORMAT is %q afterwards, want %q", exported, tt.exported)
			}
		})
	}
}

// onTerminal runs the runner with args and env in dir, its standard error
// a terminal, and returns the lines the terminal showed and how the runner
// exited. Once a line contains until, it calls ready with the lines so far
// and interrupts the runner; with until "", the runner is expected to exit
// by itself.
func onTerminal(t *testing.T, dir string, env []string, until string, ready func(lines []string), args ...string) ([]string, error) {
	t.Helper()
	control, terminal := openTerminal(t)
	cmd := exec.Command(runner(t), args...)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(testhost.FreePort(t)), env...)
	cmd.Stderr = terminal
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	terminal.Close() // the runner holds the terminal now
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var lines []string
	read := make(chan struct{})
	go func() {
		defer close(read)
		reached := false
		// A terminal ends lines with \r\n; reading the control side fails
		// once the runner has exited and closed its end.
		for s := bufio.NewScanner(control); s.Scan(); {
			line := strings.TrimSuffix(s.Text(), "\r")
			lines = append(lines, line)
			if until != "" && strings.Contains(line, until) && !reached {
				reached = true
				if ready != nil {
					ready(append([]string(nil), lines...))
				}
				_ = cmd.Process.Signal(os.Interrupt)
			}
		}
	}()
	var err error
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatal("the runner did not start and stop within 30 s")
	}
	<-read
	return lines, err
}

// isTextRecord reports whether line is a log record in slog's text format.
func isTextRecord(line string) bool {
	return strings.HasPrefix(line, "time=") && strings.Contains(line, " level=") && strings.Contains(line, " msg=")
}

func TestLogsAreReadableTextWhenStderrIsATerminal(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		wantText bool
	}{
		{"terminal", nil, true},
		{"terminal with LOG_FORMAT=json", []string{"LOG_FORMAT=json"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, err := onTerminal(t, t.TempDir(), tt.env, "in a browser", nil, "-demo")
			if err != nil {
				t.Errorf("the runner exited with %v", err)
			}
			if len(lines) < 3 {
				t.Fatalf("want the start-up lines and a shutdown line, got %q", lines)
			}
			// On a terminal, the start-up ends with sentences between the
			// log records: from "The demo is ready" to "Press Ctrl-C".
			sentences := false
			for _, line := range lines {
				isJSON := json.Valid([]byte(line))
				switch {
				case tt.wantText && line == "":
				case tt.wantText && strings.HasPrefix(line, "The demo is ready"):
					sentences = true
				case tt.wantText && sentences:
					sentences = line != "Press Ctrl-C to stop."
				case tt.wantText && (isJSON || !isTextRecord(line)):
					t.Errorf("want a text line (time=... level=... msg=...), got %q", line)
				case !tt.wantText && !isJSON:
					t.Errorf("want a JSON line, got %q", line)
				}
			}
			if !isTextRecord(lines[len(lines)-1]) && tt.wantText {
				t.Errorf("the last line %q is not the shutdown record", lines[len(lines)-1])
			}
		})
	}
}

func TestTerminalStartUpEndsWithTheAppsAddressTheDemoAccountsAndHowToStop(t *testing.T) {
	var screen []string
	lines, err := onTerminal(t, t.TempDir(), nil, "Press Ctrl-C to stop.", func(lines []string) {
		screen = lines
		// The address shown leads to the sign-in: the emulator's consent
		// page, through / and /oauth2init.
		base := regexp.MustCompile(`http://localhost:\d+/`).FindString(strings.Join(lines, "\n"))
		if base == "" {
			return
		}
		jar, _ := cookiejar.New(nil)
		resp, body := get(t, &http.Client{Jar: jar, Timeout: 10 * time.Second}, base)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="allow"`) {
			t.Errorf("%s led to status %d at %s, want the consent page", base, resp.StatusCode, resp.Request.URL)
		}
	}, "-demo")
	if err != nil {
		t.Errorf("the runner exited with %v", err)
	}
	text := strings.Join(screen, "\n")
	// The sentences after the log records give the address to open first;
	// the emulator's address appears only in the records that warn of the
	// endpoints it overrides.
	var sentences []string
	for _, line := range screen {
		if !isTextRecord(line) {
			sentences = append(sentences, line)
		} else if strings.Contains(line, "127.0.0.1") && !strings.Contains(line, "level=WARNING") {
			t.Errorf("a record shows the emulator's address, which is not to be opened: %s", line)
		}
	}
	if strings.Contains(strings.Join(sentences, "\n"), "127.0.0.1") {
		t.Errorf("the sentences show the emulator's address, which is not to be opened:\n%s", text)
	}
	urls := regexp.MustCompile(`https?://[^\s>]+`).FindAllString(strings.Join(sentences, "\n"), -1)
	if len(urls) == 0 || !regexp.MustCompile(`^http://localhost:\d+/$`).MatchString(urls[0]) {
		t.Fatalf("the first address in the sentences is %q, want the app's http://localhost:PORT/; screen:\n%s", urls, text)
	}
	if !strings.Contains(text, "Open "+urls[0]+" in a browser") {
		t.Errorf("the screen does not say to open %s in a browser:\n%s", urls[0], text)
	}
	for _, a := range fakegoogle.DemoAccounts() {
		if !strings.Contains(text, a.Name) || !strings.Contains(text, a.Email) {
			t.Errorf("the screen does not name the demo account %s <%s>:\n%s", a.Name, a.Email, text)
		}
	}
	if last := screen[len(screen)-1]; last != "Press Ctrl-C to stop." {
		t.Errorf("the start-up ends with %q, want how to stop", last)
	}
	if len(lines) <= len(screen) || !strings.Contains(lines[len(lines)-1], "shutting down") {
		t.Errorf("after Ctrl-C, want a shutdown line; got %q", lines[len(screen):])
	}
}

func TestWithoutAClientSecretTheRunnerSaysToTryTheDemoWhereTheFileGoesAndTheRedirectURI(t *testing.T) {
	port := testhost.FreePort(t)
	redirect := "http://localhost:" + port + "/oauth2callback"
	check := func(t *testing.T, output, dir string) {
		t.Helper()
		for _, want := range []string{"go run ./cmd -demo", filepath.Join(dir, "client_secret.json"), redirect, "CLIENT_SECRET_FILE"} {
			if !strings.Contains(output, want) {
				t.Errorf("the runner did not say %q:\n%s", want, output)
			}
		}
		for _, bad := range []string{"every request", "serverless_function_source_code", "panic"} {
			if strings.Contains(output, bad) {
				t.Errorf("the runner said %q:\n%s", bad, output)
			}
		}
	}
	t.Run("terminal", func(t *testing.T) {
		dir := t.TempDir()
		lines, err := onTerminal(t, dir, []string{"PORT=" + port}, "", nil)
		if err == nil {
			t.Fatalf("the runner started without a client secret: %q", lines)
		}
		check(t, strings.Join(lines, "\n"), dir)
		for _, line := range lines {
			if isTextRecord(line) || json.Valid([]byte(line)) && line != "" {
				t.Errorf("want sentences on a terminal, got the record %q", line)
			}
		}
	})
	t.Run("JSON", func(t *testing.T) {
		out := runToEnd(t, []string{"PORT=" + port})
		lines := splitLines(out.stderr)
		checkJSONLines(t, lines)
		if out.err == nil || len(lines) != 1 {
			t.Fatalf("err %v, stderr %q; want an exit and one line", out.err, out.stderr)
		}
		var line struct {
			Message     string `json:"message"`
			File        string `json:"file"`
			RedirectURI string `json:"redirect_uri"`
		}
		_ = json.Unmarshal([]byte(lines[0]), &line)
		if line.RedirectURI != redirect || filepath.Base(line.File) != "client_secret.json" {
			t.Errorf("file %q, redirect_uri %q; want client_secret.json and %s", line.File, line.RedirectURI, redirect)
		}
		check(t, line.Message, filepath.Dir(line.File))
	})
}

func TestATakenPortGetsTheCommandToChooseAnother(t *testing.T) {
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, port, _ := net.SplitHostPort(other.Addr().String())
	n, _ := strconv.Atoi(port)
	want := fmt.Sprintf("PORT=%d", n+1)
	t.Run("terminal", func(t *testing.T) {
		lines, err := onTerminal(t, t.TempDir(), []string{"PORT=" + port}, "", nil, "-demo")
		text := strings.Join(lines, "\n")
		if err == nil || !strings.Contains(text, want+" go run ./cmd -demo") || !strings.Contains(text, "Port "+port+" is taken") {
			t.Fatalf("err %v; want an exit and the command %s go run ./cmd -demo; screen:\n%s", err, want, text)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		out := runToEnd(t, []string{"PORT=" + port}, "-demo")
		lines := splitLines(out.stderr)
		checkJSONLines(t, lines)
		if out.err == nil || len(lines) != 1 || !strings.Contains(lines[0], want) || !strings.Contains(lines[0], "taken") {
			t.Fatalf("err %v, stderr %q; want an exit and one line that suggests %s", out.err, out.stderr, want)
		}
	})
}
