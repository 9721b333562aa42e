package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

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
			control, terminal := openTerminal(t)
			cmd := exec.Command(runner(t), "-demo")
			cmd.Dir = t.TempDir()
			cmd.Env = append(baseEnv(testhost.FreePort(t)), tt.env...)
			cmd.Stderr = terminal
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			terminal.Close() // the runner holds the terminal now
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()

			var lines []string
			ready := false
			read := make(chan struct{})
			go func() {
				defer close(read)
				// A terminal ends lines with \r\n; reading the control side
				// fails once the runner has exited and closed its end.
				for s := bufio.NewScanner(control); s.Scan(); {
					line := strings.TrimSuffix(s.Text(), "\r")
					lines = append(lines, line)
					if strings.Contains(line, "in a browser") && !ready {
						ready = true
						_ = cmd.Process.Signal(os.Interrupt)
					}
				}
			}()
			select {
			case err := <-exited:
				if err != nil && !errors.Is(err, os.ErrProcessDone) {
					t.Errorf("the runner exited with %v", err)
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
				t.Fatal("the runner did not start and stop within 30 s")
			}
			<-read
			if !ready || len(lines) < 4 {
				t.Fatalf("want the runner's and the app's start-up lines and a shutdown line, got %q", lines)
			}
			for _, line := range lines {
				isJSON := json.Valid([]byte(line))
				if tt.wantText && (isJSON || !strings.Contains(line, " level=") || !strings.Contains(line, " msg=")) {
					t.Errorf("want a text line (time=... level=... msg=...), got %q", line)
				}
				if !tt.wantText && !isJSON {
					t.Errorf("want a JSON line, got %q", line)
				}
			}
		})
	}
}
