package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	oauthgmail "example.com/gcf-oauth-gmail"
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

// process is the local runner started as a user would start it.
type process struct {
	cmd      *exec.Cmd
	stopOnce sync.Once
	readers  sync.WaitGroup
	port     string
	mu       sync.Mutex
	lines    []string
	opened   chan struct{}
}

// start runs the binary with args and env in dir and waits until it says
// which URL to open.
func start(t *testing.T, dir string, env []string, args ...string) *process {
	t.Helper()
	port := testhost.FreePort(t)
	cmd := exec.Command(runner(t), args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PORT=" + port}, env...)
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
			for s.Scan() {
				p.mu.Lock()
				p.lines = append(p.lines, s.Text())
				p.mu.Unlock()
				if strings.Contains(s.Text(), "in a browser") || strings.Contains(s.Text(), "Serving ") && strings.Contains(s.Text(), "at http") {
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
	testhost.WaitListening(t, port)
	return p
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
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-read
		}
		_ = p.cmd.Wait()
	})
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// checkLines verifies that every line but the framework's own start-up
// lines is a Cloud Logging JSON object; an empty line is not.
func (p *process) checkLines(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	lines := append([]string(nil), p.lines...)
	p.mu.Unlock()
	for _, line := range lines {
		if strings.HasPrefix(line, "Serving function:") {
			continue
		}
		var obj struct {
			Message  string `json:"message"`
			Severity string `json:"severity"`
		}
		if err := json.Unmarshal([]byte(line), &obj); err != nil || obj.Message == "" || obj.Severity == "" {
			t.Errorf("output line is not a JSON log line with message and severity: %q", line)
		}
	}
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
	// With K_SERVICE set, functions-framework prints an empty line after
	// each request; the runner must not let it through.
	p := start(t, t.TempDir(), []string{"K_SERVICE=listlabels", "COOKIE_SECRET=" + strings.Repeat("A", 43)}, "-demo")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 3 {
		if resp, _ := get(t, client, "http://localhost:"+p.port+"/listlabels"); resp.StatusCode != http.StatusFound {
			t.Fatalf("listlabels without a session: status %d, want 302", resp.StatusCode)
		}
	}
	p.stop(t)
	if len(p.lines) < 4 {
		t.Fatalf("expected the runner's log lines, got %q", p.output())
	}
	p.checkLines(t)
}

func TestFunctionTargetServesOneFunctionAtRoot(t *testing.T) {
	p := start(t, t.TempDir(), []string{"FUNCTION_TARGET=listlabels"}, "-demo")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := get(t, client, "http://localhost:"+p.port+"/")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/oauth2init" {
		t.Fatalf("GET / as listlabels: status %d location %q, want 302 /oauth2init", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, client, "http://localhost:"+p.port+"/oauth2init"); resp.StatusCode == http.StatusFound && strings.Contains(resp.Header.Get("Location"), "o/oauth2") {
		t.Fatal("with FUNCTION_TARGET the other functions are still served")
	}
}

func TestMissingClientSecretExitsNamingTheFile(t *testing.T) {
	cmd := exec.Command(runner(t))
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PORT=" + testhost.FreePort(t)}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the runner started without a client secret; output %q", out)
	}
	if !strings.Contains(string(out), "client_secret.json") || strings.Contains(string(out), "panic") {
		t.Fatalf("want a message naming client_secret.json and no panic, got %q", out)
	}
	p := &process{lines: strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")}
	p.checkLines(t)
}

func TestRunReportsBadFlags(t *testing.T) {
	var stderr strings.Builder
	err := run(context.Background(), []string{"-nope"}, func(string) string { return "" }, io.Discard, &stderr)
	if err == nil || !strings.Contains(stderr.String(), `"severity":"ERROR"`) || !strings.Contains(stderr.String(), "usage") {
		t.Fatalf("err %v, stderr %q; want an error logged as JSON with the usage", err, stderr.String())
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
	values := url.Values{}
	for _, m := range regexp.MustCompile(`<input[^>]*type="hidden"[^>]*>`).FindAllString(body, -1) {
		name := regexp.MustCompile(`name="([^"]*)"`).FindStringSubmatch(m)
		value := regexp.MustCompile(`value="([^"]*)"`).FindStringSubmatch(m)
		if name != nil && value != nil {
			values.Set(name[1], value[1])
		}
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

func TestFunctionsFlagListsTheRouteTable(t *testing.T) {
	var stdout strings.Builder
	if err := run(context.Background(), []string{"-functions"}, func(string) string { return "" }, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range oauthgmail.Functions() {
		want = append(want, f.Name)
	}
	if got := strings.Fields(stdout.String()); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("-functions printed %q, want %q", got, want)
	}
}
