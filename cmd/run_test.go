package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	oauthgmail "example.com/gcf-oauth-gmail"
	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/pages"
	"example.com/gcf-oauth-gmail/internal/testhost"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// runner builds this command once per test binary.
func runner(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cmd-test")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "cmd")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binary
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// baseEnv is the environment every started runner gets, before the test's
// own variables.
func baseEnv(port string) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PORT=" + port}
}

// process is the local runner started as a user would start it.
type process struct {
	cmd      *exec.Cmd
	stopOnce sync.Once
	readers  sync.WaitGroup
	port     string
	mu       sync.Mutex
	lines    []string
	opened   chan struct{}
	exitErr  error
}

// isOpenLine reports whether line is the one that says where to open the
// app, which the runner writes once it is ready.
func isOpenLine(line string) bool {
	return strings.Contains(line, "in a browser") || strings.Contains(line, "Serving ") && strings.Contains(line, "at http")
}

// start runs the binary with args and env in dir and waits until it says
// which URL to open.
func start(t *testing.T, dir string, env []string, args ...string) *process {
	t.Helper()
	port := testhost.FreePort(t)
	cmd := exec.Command(runner(t), args...)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(port), env...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	p := &process{cmd: cmd, port: port, opened: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stop(t)
		p.checkLines(t)
	})
	var once sync.Once
	for _, r := range []io.Reader{stdout, stderr} {
		p.readers.Add(1)
		go func() {
			defer p.readers.Done()
			s := bufio.NewScanner(r)
			s.Buffer(nil, 4<<20)
			for s.Scan() {
				p.mu.Lock()
				p.lines = append(p.lines, s.Text())
				p.mu.Unlock()
				if isOpenLine(s.Text()) {
					once.Do(func() { close(p.opened) })
				}
			}
		}()
	}
	select {
	case <-p.opened:
	case <-time.After(30 * time.Second):
		t.Fatalf("the runner did not start; output:\n%s", p.output())
	}
	for _, addr := range strings.Fields(p.openLine().Listening) {
		waitListening(t, addr)
	}
	return p
}

// openLine is what the line that says where to open the app holds.
type openLine struct {
	Message   string `json:"message"`
	Listening string `json:"listening"`
}

func (p *process) openLine() openLine {
	var open openLine
	for _, line := range splitLines(p.output()) {
		if isOpenLine(line) {
			_ = json.Unmarshal([]byte(line), &open)
		}
	}
	return open
}

// waitListening waits up to 10 seconds for a server on addr.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s after 10 s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop interrupts the runner and waits until it exited and its output was
// read.
func (p *process) stop(t *testing.T) {
	t.Helper()
	p.stopOnce.Do(func() {
		// Read the output to its end before Wait, which closes the pipes.
		_ = p.cmd.Process.Signal(os.Interrupt)
		read := make(chan struct{})
		go func() { p.readers.Wait(); close(read) }()
		select {
		case <-read:
		case <-time.After(15 * time.Second):
			t.Errorf("the runner did not stop within 15 s of an interrupt")
			_ = p.cmd.Process.Kill()
			<-read
		}
		p.exitErr = p.cmd.Wait()
	})
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

func (p *process) lineCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

// linesAfter waits up to 5 seconds for lines past the first n and returns
// them.
func (p *process) linesAfter(n int) []string {
	deadline := time.Now().Add(5 * time.Second)
	for p.lineCount() <= n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the rest of a burst
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines[n:]...)
}

// checkLines verifies that every line is a Cloud Logging JSON object; an
// empty line is not.
func (p *process) checkLines(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	lines := append([]string(nil), p.lines...)
	p.mu.Unlock()
	checkJSONLines(t, lines)
}

// logLine is what every line must hold.
type logLine struct {
	Message  string `json:"message"`
	Severity string `json:"severity"`
}

var severities = regexp.MustCompile(`^(DEFAULT|DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL|ALERT|EMERGENCY)$`)

func checkJSONLines(t *testing.T, lines []string) {
	t.Helper()
	for _, line := range lines {
		var obj logLine
		if err := json.Unmarshal([]byte(line), &obj); err != nil || obj.Message == "" || !severities.MatchString(obj.Severity) {
			t.Errorf("output line is not a JSON log line with message and severity: %.300q", line)
		}
	}
}

// exited is a runner that ran to its end.
type exited struct {
	stdout, stderr string
	err            error
}

// runToEnd runs the binary with args and env in a fresh directory and
// waits, at most 30 seconds, for it to exit.
func runToEnd(t *testing.T, env []string, args ...string) exited {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, runner(t), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(baseEnv(testhost.FreePort(t)), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return exited{stdout.String(), stderr.String(), err}
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func TestDemoRunsTheWholeFlowWithoutGoogle(t *testing.T) {
	p := start(t, t.TempDir(), nil, "-demo")
	if !strings.Contains(p.output(), "http://localhost:"+p.port+"/oauth2init") {
		t.Fatalf("the runner did not print the URL to open; output:\n%s", p.output())
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	// Following redirects, oauth2init ends on the emulator's consent page.
	resp, body := get(t, client, "http://localhost:"+p.port+"/oauth2init")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="allow"`) {
		t.Fatalf("oauth2init led to status %d, want the consent page; body %q", resp.StatusCode, body)
	}
	if !strings.Contains(body, pages.AppName) || strings.Contains(body, fakegoogle.DefaultAppName) {
		t.Errorf("the consent page does not name the app as its pages do (%q); body %q", pages.AppName, body)
	}
	form := parseConsentForm(t, resp.Request.URL, body)
	form.values.Set("decision", "allow")
	resp, err := client.PostForm(form.action, form.values)
	if err != nil {
		t.Fatal(err)
	}
	labels, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/listlabels" || !strings.Contains(string(labels), "label(s) found") {
		t.Fatalf("after Allow: status %d at %s, want the labels page; body %q", resp.StatusCode, resp.Request.URL, labels)
	}
}

func TestEveryLineIsJSONWhenRunAsOnCloudFunctions(t *testing.T) {
	// With K_SERVICE set, functions-framework's own server prints an empty
	// line after each request; the runner serves the functions itself. As
	// deployed, the redirect URL is https.
	dir := t.TempDir()
	secret := `{"web":{"client_id":"id","client_secret":"s","auth_uri":"https://accounts.example/auth","token_uri":"https://oauth2.example/token",` +
		`"redirect_uris":["https://europe-west1-demo.cloudfunctions.net/oauth2callback"]}}`
	if err := os.WriteFile(filepath.Join(dir, "client_secret.json"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, dir, []string{"K_SERVICE=listlabels", "COOKIE_SECRET=" + strings.Repeat("A", 43)})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 3 {
		if resp, _ := get(t, client, "http://localhost:"+p.port+"/listlabels"); resp.StatusCode != http.StatusFound {
			t.Fatalf("listlabels without a session: status %d, want 302", resp.StatusCode)
		}
	}
	p.stop(t)
	if p.lineCount() < 4 {
		t.Fatalf("expected the runner's log lines, got %q", p.output())
	}
	p.checkLines(t)
}

func TestInterruptOrTerminateStopsTheRunnerCleanly(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			p := start(t, t.TempDir(), nil, "-demo")
			p.stopOnce.Do(func() {
				_ = p.cmd.Process.Signal(sig)
				done := make(chan struct{})
				go func() { p.readers.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(15 * time.Second):
					_ = p.cmd.Process.Kill()
					<-done
					t.Errorf("the runner did not stop within 15 s of %v", sig)
				}
				p.exitErr = p.cmd.Wait()
			})
			if p.exitErr != nil {
				t.Errorf("exit after %v: %v, want status 0", sig, p.exitErr)
			}
			if !strings.Contains(p.output(), `"message":"shutting down"`) {
				t.Errorf("no shutdown line; output:\n%s", p.output())
			}
		})
	}
}

func TestFunctionTargetServesOneFunctionAtRoot(t *testing.T) {
	p := start(t, t.TempDir(), []string{"FUNCTION_TARGET=listlabels"}, "-demo")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/", "/any/path"} {
		resp, _ := get(t, client, "http://localhost:"+p.port+path)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/oauth2init" {
			t.Fatalf("GET %s as listlabels: status %d location %q, want 302 /oauth2init", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if !strings.Contains(p.output(), "Serving listlabels at http://localhost:"+p.port+"/") {
		t.Errorf("the runner did not say what it serves where; output:\n%s", p.output())
	}
}

func TestUnknownFunctionTargetExitsListingTheFunctions(t *testing.T) {
	out := runToEnd(t, []string{"FUNCTION_TARGET=listlabel"}, "-demo")
	if out.err == nil {
		t.Fatalf("the runner started with an unknown FUNCTION_TARGET; stderr %q", out.stderr)
	}
	lines := splitLines(out.stderr)
	checkJSONLines(t, lines)
	if len(lines) != 1 || !strings.Contains(lines[0], `\"listlabel\"`) {
		t.Fatalf("want one line naming the unknown target, got %q", lines)
	}
	for _, f := range oauthgmail.Functions() {
		if !strings.Contains(lines[0], f.Name) {
			t.Errorf("the message does not list %s: %q", f.Name, lines[0])
		}
	}
}

func TestMissingClientSecretExitsNamingTheFile(t *testing.T) {
	out := runToEnd(t, nil)
	if out.err == nil {
		t.Fatalf("the runner started without a client secret; stderr %q", out.stderr)
	}
	if !strings.Contains(out.stderr, "client_secret.json") || strings.Contains(out.stderr+out.stdout, "panic") {
		t.Fatalf("want a message naming client_secret.json and no panic, got %q", out.stderr)
	}
	checkJSONLines(t, splitLines(out.stdout+out.stderr))
}

func TestRunReportsBadCommandLinesAsOneJSONLineWithTheUsage(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"-host"}, {"-demo", "extra"}, {"-demo=maybe"}} {
		var stdout, stderr strings.Builder
		err := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr)
		lines := splitLines(stderr.String())
		if err == nil || len(lines) != 1 || stdout.Len() != 0 {
			t.Errorf("%q: err %v, stdout %q, stderr %q; want an error and exactly one line on stderr", args, err, stdout.String(), stderr.String())
			continue
		}
		checkJSONLines(t, lines)
		var line struct {
			Severity string `json:"severity"`
			Usage    string `json:"usage"`
		}
		_ = json.Unmarshal([]byte(lines[0]), &line)
		if line.Severity != "ERROR" || !strings.HasPrefix(line.Usage, "usage: go run ./cmd") {
			t.Errorf("%q: want an ERROR line with the usage, got %q", args, lines[0])
		}
	}
}

func TestHelpPrintsUsageToStdoutAndExitsZero(t *testing.T) {
	for _, flag := range []string{"-h", "-help", "--help"} {
		out := runToEnd(t, nil, flag)
		if out.err != nil || out.stderr != "" {
			t.Errorf("%s: err %v, stderr %q; want status 0 and nothing on stderr", flag, out.err, out.stderr)
		}
		for _, want := range []string{"usage: go run ./cmd", "-demo", "-functions", "-host", "PORT", "HOST", "FUNCTION_TARGET", "LOG_FORMAT"} {
			if !strings.Contains(out.stdout, want) {
				t.Errorf("%s: usage lacks %q:\n%s", flag, want, out.stdout)
			}
		}
	}
}

// deploy.sh reads -functions: one line per function, its name and then the
// Google API services it calls, each separated by one space.
func TestFunctionsFlagListsEachFunctionWithItsServices(t *testing.T) {
	var stdout strings.Builder
	if err := run(context.Background(), []string{"-functions"}, func(string) string { return "" }, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range oauthgmail.Functions() {
		line := f.Name
		for _, service := range f.Services {
			line += " " + service
		}
		want = append(want, line)
	}
	got := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("-functions printed\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The Gmail labels function calls Gmail, and the sign-in functions no Google API of their own.
	for _, line := range []string{"listlabels gmail.googleapis.com", "oauth2init", "oauth2callback"} {
		if !slices.Contains(got, line) {
			t.Errorf("-functions printed no line %q:\n%s", line, stdout.String())
		}
	}
}

func TestBadPortOrLogFormatExitsWithOneLine(t *testing.T) {
	tests := []struct{ name, env, want string }{
		{"port not a number", "PORT=http", "PORT"},
		{"port zero", "PORT=0", "PORT"},
		{"port too large", "PORT=65536", "PORT"},
		{"unknown log format", "LOG_FORMAT=pretty", "LOG_FORMAT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := runToEnd(t, []string{tt.env}, "-demo")
			lines := splitLines(out.stderr)
			if out.err == nil || len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Fatalf("err %v, stderr %q; want an exit and one line naming %s", out.err, out.stderr, tt.want)
			}
			checkJSONLines(t, lines)
		})
	}
}

// hasIPv6Loopback reports whether this machine can listen on ::1.
func hasIPv6Loopback() bool {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func TestListensOnLoopbackUnlessToldOtherwise(t *testing.T) {
	ipv6 := hasIPv6Loopback()
	both := func(port string) string {
		if ipv6 {
			return "127.0.0.1:" + port + " [::1]:" + port
		}
		return "127.0.0.1:" + port
	}
	tests := []struct {
		name string
		env  []string
		args []string
		want func(port string) string
	}{
		{"default", nil, nil, both},
		{"HOST=localhost", []string{"HOST=localhost"}, nil, both},
		{"HOST=127.0.0.1", []string{"HOST=127.0.0.1"}, nil, func(p string) string { return "127.0.0.1:" + p }},
		{"-host wins over HOST", []string{"HOST=localhost"}, []string{"-host", "127.0.0.1"}, func(p string) string { return "127.0.0.1:" + p }},
		{"-host ::1", nil, []string{"-host", "::1"}, func(p string) string { return "[::1]:" + p }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !ipv6 && strings.Contains(strings.Join(tt.args, " "), "::1") {
				t.Skip("no IPv6 loopback on this machine")
			}
			p := start(t, t.TempDir(), tt.env, append([]string{"-demo"}, tt.args...)...)
			open := p.openLine()
			if want := tt.want(p.port); open.Listening != want {
				t.Errorf("listening on %q, want %q", open.Listening, want)
			}
			if want := "Open http://localhost:" + p.port + "/oauth2init in a browser"; open.Message != want {
				t.Errorf("message %q, want %q", open.Message, want)
			}
			// Every address it says it listens on answers, as oauth2init does
			// off the redirect URL's host: a redirect to localhost.
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for _, addr := range strings.Fields(open.Listening) {
				resp, _ := get(t, client, "http://"+addr+"/oauth2init")
				if resp.StatusCode != http.StatusFound {
					t.Errorf("GET http://%s/oauth2init: status %d, want 302", addr, resp.StatusCode)
				}
			}
		})
	}
}

func TestPortTakenOnIPv6LoopbackStopsTheRunner(t *testing.T) {
	if !hasIPv6Loopback() {
		t.Skip("no IPv6 loopback on this machine")
	}
	// Another program on [::1]:PORT would get the browser's requests to
	// http://localhost:PORT wherever localhost resolves to ::1 first.
	other, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, port, _ := net.SplitHostPort(other.Addr().String())
	out := runToEnd(t, []string{"PORT=" + port}, "-demo")
	if out.err == nil || !strings.Contains(out.stderr, "::1") {
		t.Fatalf("err %v, stderr %q; want an exit and a line about ::1", out.err, out.stderr)
	}
	checkJSONLines(t, splitLines(out.stderr))
}

func TestSlowHeadersAreCutOffAfterTheHeaderTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("takes the header timeout, 10 s")
	}
	p := start(t, t.TempDir(), nil, "-demo")
	tests := []struct {
		name  string
		sends func(conn net.Conn, done <-chan struct{})
	}{
		{"client sends nothing", func(net.Conn, <-chan struct{}) {}},
		{"client sends a header byte a second", func(conn net.Conn, done <-chan struct{}) {
			if _, err := io.WriteString(conn, "GET /oauth2init HTTP/1.1\r\nHost: localhost\r\nX-Slow: "); err != nil {
				return
			}
			for {
				select {
				case <-done:
					return
				case <-time.After(time.Second):
					if _, err := io.WriteString(conn, "x"); err != nil {
						return
					}
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", "127.0.0.1:"+p.port)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			began := time.Now()
			_ = conn.SetReadDeadline(began.Add(readHeaderTimeout + 10*time.Second))
			done := make(chan struct{})
			defer close(done)
			go tt.sends(conn, done)
			got, err := io.ReadAll(conn)
			elapsed := time.Since(began)
			var netErr net.Error
			if errors.As(err, &netErr) && netErr.Timeout() {
				t.Fatalf("the server kept the connection open for %v", elapsed.Round(time.Second))
			}
			if elapsed < readHeaderTimeout-time.Second || elapsed > readHeaderTimeout+5*time.Second {
				t.Errorf("connection closed after %v, want about %v", elapsed.Round(100*time.Millisecond), readHeaderTimeout)
			}
			if len(got) != 0 {
				t.Errorf("the server answered %q to an unfinished request", got)
			}
		})
	}
}

// rawRequest sends request on a new connection to addr while reading the
// answer, and returns the answer's status code.
func rawRequest(t *testing.T, addr, request string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	// The server may answer before it has read everything: write alongside.
	go func() { _, _ = io.WriteString(conn, request) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestOversizedHeadersGet431(t *testing.T) {
	p := start(t, t.TempDir(), nil, "-demo")
	request := func(value string) string {
		return "GET /listlabels HTTP/1.1\r\nHost: localhost\r\nX-Cloud-Trace-Context: " + value + "\r\nConnection: close\r\n\r\n"
	}
	tests := []struct {
		name  string
		value string
		want  int
	}{
		{"1 MiB header", strings.Repeat("a", 1<<20), http.StatusRequestHeaderFieldsTooLarge},
		{"headers just over the limit and its slack", strings.Repeat("a", maxHeaderBytes+4096), http.StatusRequestHeaderFieldsTooLarge},
		{"headers within the limit", strings.Repeat("a", maxHeaderBytes-1024), http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rawRequest(t, "127.0.0.1:"+p.port, request(tt.value)); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRequestHeadersNeverMakeALogLineLong(t *testing.T) {
	p := start(t, t.TempDir(), nil, "-demo")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const trace = "105445aa7843bc8bf206b12000100000"
	big := strings.Repeat("a", 28<<10) // two of them fit under the header limit
	// fresh stands for an execution id the app made because the request's
	// was malformed.
	const fresh = "(a fresh id)"
	tests := []struct {
		name                    string
		traceContext, execution string
		wantTrace, wantExecID   string
	}{
		{"well-formed ids are logged", trace + "/17;o=1", "exec-1", trace, "exec-1"},
		{"a long trace and execution id are not", big + "/" + strings.Repeat("1", 4<<10), big, "", fresh},
		{"a long span id is not", trace + "/" + big, "exec-2", trace, "exec-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := p.lineCount()
			req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+p.port+"/listlabels", nil)
			req.Header.Set("X-Cloud-Trace-Context", tt.traceContext)
			req.Header.Set("Function-Execution-Id", tt.execution)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d, want 302 to sign in", resp.StatusCode)
			}
			lines := p.linesAfter(before)
			if len(lines) == 0 {
				t.Fatal("the request logged nothing; this test needs a request the app logs (listlabels without a session)")
			}
			for _, line := range lines {
				if len(line) > 1024 {
					t.Errorf("a %d-byte line: %.200q", len(line), line)
				}
				var ids struct {
					Trace       string `json:"logging.googleapis.com/trace"`
					Span        string `json:"logging.googleapis.com/spanId"`
					ExecutionID string `json:"execution_id"`
				}
				_ = json.Unmarshal([]byte(line), &ids)
				freshID := tt.wantExecID == fresh && ids.ExecutionID != "" && len(ids.ExecutionID) <= 64
				if ids.Trace != tt.wantTrace || ids.ExecutionID != tt.wantExecID && !freshID {
					t.Errorf("trace %.60q, execution id %.60q; want %q and %q in %.200q", ids.Trace, ids.ExecutionID, tt.wantTrace, tt.wantExecID, line)
				}
				if tt.name == "a long span id is not" && ids.Span != "" {
					t.Errorf("span %.60q logged", ids.Span)
				}
			}
		})
	}
}

// consentForm is the consent page's form.
type consentForm struct {
	action string
	values url.Values
}

// parseConsentForm reads the form's action and hidden fields with regular
// expressions; the page is the emulator's own, stable markup.
func parseConsentForm(t *testing.T, page *url.URL, body string) consentForm {
	t.Helper()
	action := regexp.MustCompile(`<form[^>]*id="consent"[^>]*action="([^"]+)"|<form[^>]*action="([^"]+)"[^>]*id="consent"`).FindStringSubmatch(body)
	if action == nil {
		t.Fatalf("no consent form in %q", body)
	}
	target, _ := url.Parse(strings.ReplaceAll(action[1]+action[2], "&amp;", "&"))
	// What a browser submits: the hidden fields, and the boxes left ticked
	// (there is one per scope when the app asks for several).
	values := url.Values{}
	for _, m := range regexp.MustCompile(`<input[^>]*type="(?:hidden|checkbox)"[^>]*>`).FindAllString(body, -1) {
		name := regexp.MustCompile(`name="([^"]*)"`).FindStringSubmatch(m)
		value := regexp.MustCompile(`value="([^"]*)"`).FindStringSubmatch(m)
		if name == nil || value == nil || strings.Contains(m, `type="checkbox"`) && !strings.Contains(m, " checked") {
			continue
		}
		values.Add(name[1], html.UnescapeString(value[1]))
	}
	values.Set("account", "alice@example.com")
	return consentForm{action: page.ResolveReference(target).String(), values: values}
}

func get(t *testing.T, client *http.Client, target string) (*http.Response, string) {
	t.Helper()
	resp, err := client.Get(target)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestRunnerLinksNoTestCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" || pkg == "net/http/httptest" || strings.HasSuffix(pkg, "/fakegoogletest") {
			t.Errorf("the runner links %s", pkg)
		}
	}
}

func TestABadClientSecretStopsTheRunnerSayingSo(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "client_secret.json")
	if err := os.WriteFile(bad, []byte(`{"web":`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runToEnd(t, []string{"CLIENT_SECRET_FILE=" + bad})
	lines := splitLines(out.stderr)
	checkJSONLines(t, lines)
	if out.err == nil || len(lines) < 2 {
		t.Fatalf("err %v, stderr %q; want an exit, the app's line about the file and the runner's", out.err, out.stderr)
	}
	if !strings.Contains(out.stderr, "not a valid client secret file") || !strings.Contains(lines[len(lines)-1], "the runner stopped") {
		t.Errorf("want the problem, then a last line saying that the runner stopped; got %q", lines)
	}
}
