package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"

	"example.com/gcf-oauth-gmail/internal/testhost"
)

const (
	// stepTimeout bounds every chromedp run: a hang fails the test instead
	// of blocking CI.
	stepTimeout = 20 * time.Second
	// browserTimeout bounds the life of each test's browser, its start
	// included.
	browserTimeout = 60 * time.Second
)

var (
	buildOnce sync.Once
	buildDir  string
	binary    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// chromium returns the browser to drive. Without it the test is skipped,
// or fails when CI=true: CI must run these tests.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const msg = "Chromium is not installed: install the Debian package chromium (apt-get install chromium) to run the browser tests"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// demoBinary builds ./cmd once per test binary.
func demoBinary(t *testing.T) string {
	t.Helper()
	root := testhost.RepoRoot(t)
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "browsertest")
		if buildErr != nil {
			return
		}
		binary = filepath.Join(buildDir, "demo")
		cmd := exec.Command("go", "build", "-o", binary, "./cmd")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("go build ./cmd: %v", buildErr)
	}
	return binary
}

// demo is `go run ./cmd -demo` started as a user would start it.
type demo struct {
	base string // http://localhost:PORT, as the demo's redirect URI has it
	mu   sync.Mutex
	out  []string
}

func (d *demo) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.out, "\n")
}

// startDemo runs the demo on a free port and waits until it logs the URL to
// open and accepts connections. It stops when the test ends.
func startDemo(t *testing.T) *demo {
	t.Helper()
	port := testhost.FreePort(t)
	d := &demo{base: "http://localhost:" + port}
	cmd := exec.Command(demoBinary(t), "-demo")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PORT=" + port}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("demo output:\n%s", d.output())
		}
	})
	ready := make(chan struct{})
	go func() {
		defer r.Close()
		var once sync.Once
		want := "Open " + d.base + "/oauth2init in a browser"
		for s := bufio.NewScanner(r); s.Scan(); {
			d.mu.Lock()
			d.out = append(d.out, s.Text())
			d.mu.Unlock()
			if strings.Contains(s.Text(), want) {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("the demo exited before it said which URL to open; output:\n%s", d.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("the demo did not say which URL to open within 30 s; output:\n%s", d.output())
	}
	testhost.WaitListening(t, port)
	return d
}

// session is one test's browser tab on one demo.
type session struct {
	t    *testing.T
	ctx  context.Context // the tab; every step derives a timeout from it
	demo *demo
	dir  string // screenshot folder

	axeMissingNoted bool // the test log says that axe-core is not installed

	mu          sync.Mutex
	dialogs     []string // JavaScript dialogs the tab opened
	dialogsSeen int      // how many of them a page check reported
	console     []chromedp.ConsoleMessage
}

// newSession starts the demo and a fresh headless Chromium, and records
// every JavaScript dialog and console message of the tab.
func newSession(t *testing.T) *session {
	t.Helper()
	exe := chromium(t)
	return newBrowser(t, exe, startDemo(t))
}

// newBrowser starts a fresh headless Chromium for a test of d (nil: of no
// demo), and records every JavaScript dialog and console message of the tab.
func newBrowser(t *testing.T, exe string, d *demo) *session {
	t.Helper()
	s := &session{t: t, demo: d, dir: screenshotDir(t)}

	profile := t.TempDir() // removed after the browser's cleanup below
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root in CI
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("lang", "en-US"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	lifeCtx, cancelLife := context.WithTimeout(allocCtx, browserTimeout)
	ctx, cancelTab := chromedp.NewContext(lifeCtx)
	s.ctx = ctx
	t.Cleanup(func() {
		closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		chromedp.Cancel(closeCtx) // graceful close; errors do not matter here
		cancel()
		cancelTab()
		cancelLife()
		cancelAlloc() // waits until the browser process has exited
		waitProfileFree(t, profile)
	})
	// The first run starts the browser and binds its life to ctx, which
	// browserTimeout bounds.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			s.mu.Lock()
			s.dialogs = append(s.dialogs, string(ev.Type)+": "+ev.Message)
			s.mu.Unlock()
			// Close it from another goroutine, so that the test fails
			// instead of hanging on the dialog.
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false}) //nolint:errcheck
		}
	}); err != nil {
		t.Fatal(err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			s.mu.Lock()
			s.console = append(s.console, m)
			s.mu.Unlock()
		}
	}()
	// Runs before the browser closes: the console has seen every page.
	t.Cleanup(s.checkNoDialogsNorStyleViolations)
	return s
}

// waitProfileFree waits until no process of the browser uses the profile
// any more, so that the test's temporary directory can be removed. Helper
// processes (zygote, renderers) can outlive the browser process for a
// moment; those still there after 3 s are killed by process id. Each
// profile directory is unique, so only this test's browser matches.
func waitProfileFree(t *testing.T, profile string) {
	t.Helper()
	flag := []byte("--user-data-dir=" + profile)
	deadline := time.Now().Add(3 * time.Second)
	for {
		var pids []int
		entries, _ := os.ReadDir("/proc") // none outside Linux: nothing to wait for
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err == nil && bytes.Contains(cmdline, flag) {
				pids = append(pids, pid)
			}
		}
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range pids {
				if p, err := os.FindProcess(pid); err == nil {
					p.Kill()
				}
			}
			t.Logf("killed %d Chromium helper process(es) still running after the browser closed", len(pids))
			deadline = time.Now().Add(3 * time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// app is the URL of path on the demo's app.
func (s *session) app(path string) string { return s.demo.base + path }

// run runs one chromedp action with a timeout, failing the test with what
// the step was meant to do.
func run[T any](s *session, what string, a chromedp.Action[T]) T {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		s.saveFailure(what)
		s.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// do runs actions that return nothing.
func (s *session) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	run(s, what, chromedp.Steps(steps...))
}

// open navigates to target and returns the HTTP response of the page it
// ends on, after redirects.
func (s *session) open(target string) *network.Response {
	s.t.Helper()
	return run(s, "open "+target, chromedp.NavigateResponse(target))
}

// press runs steps that submit a form or follow a link, waits until the
// next page loads and returns its response.
func (s *session) press(what string, steps ...chromedp.Action[chromedp.Void]) *network.Response {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		s.saveFailure(what)
		s.t.Fatalf("%s, then wait for the next page: %v", what, err)
	}
	return resp
}

// location returns the URL of the page shown.
func (s *session) location() *url.URL {
	s.t.Helper()
	loc := run(s, "read the location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		s.t.Fatalf("location %q: %v", loc, err)
	}
	return u
}

// pageFacts is what a person and an accessibility check see of a page.
type pageFacts struct {
	URL        string   `json:"url"`
	Lang       string   `json:"lang"`
	Title      string   `json:"title"`
	H1         []string `json:"h1"`
	Viewport   string   `json:"viewport"`
	FontFamily string   `json:"fontFamily"`
	MarginTop  string   `json:"marginTop"`
	Images     int      `json:"images"`
}

const pageFactsJS = `(() => {
	const body = getComputedStyle(document.body);
	const viewport = document.querySelector('meta[name="viewport"]');
	return {
		url: location.href,
		lang: document.documentElement.getAttribute("lang") || "",
		title: document.title,
		h1: Array.from(document.querySelectorAll("h1"), h => h.textContent.trim()),
		viewport: viewport ? viewport.getAttribute("content") || "" : "",
		fontFamily: body.fontFamily,
		marginTop: body.marginTop,
		images: document.images.length,
	};
})()`

// see checks the quality of the page shown as step: a language, a title, one
// non-empty h1, a viewport meta tag for phones, its own stylesheet applied (so
// the Content-Security-Policy allows it), and no violation that axe-core
// finds. Every page a test meets goes through here; inspect looks further.
func (s *session) see(step string) pageFacts {
	s.t.Helper()
	f := run(s, "read the facts of the "+step+" page", chromedp.Evaluate[pageFacts](pageFactsJS))
	where := fmt.Sprintf("%s page (%s)", step, f.URL)
	if f.Lang == "" {
		s.t.Errorf("%s: <html> has no lang attribute; want e.g. lang=\"en\"", where)
	}
	if strings.TrimSpace(f.Title) == "" {
		s.t.Errorf("%s: <title> is empty; want a title naming the page", where)
	}
	if len(f.H1) != 1 || f.H1[0] == "" {
		s.t.Errorf("%s: h1 headings %q; want exactly one, not empty", where, f.H1)
	}
	if !strings.Contains(f.Viewport, "width=device-width") {
		s.t.Errorf("%s: viewport meta %q; want content with width=device-width", where, f.Viewport)
	}
	// Unstyled, Chromium renders body in its default serif font with an
	// 8px margin; both stylesheets set a sans-serif stack and margin 0.
	if f.FontFamily == "" || strings.Contains(f.FontFamily, "Times") || f.FontFamily == "serif" || f.MarginTop != "0px" {
		s.t.Errorf("%s: body font-family %q, margin-top %q; want the page's stylesheet applied (a sans-serif stack, margin 0), not the browser defaults: does the Content-Security-Policy block the inline <style>?",
			where, f.FontFamily, f.MarginTop)
	}
	s.mu.Lock()
	dialogs := s.dialogs[s.dialogsSeen:]
	s.dialogsSeen = len(s.dialogs)
	s.mu.Unlock()
	if len(dialogs) > 0 {
		s.t.Errorf("%s: JavaScript dialogs opened: %q; want none (the pages run no script)", where, dialogs)
	}
	if src, ok := axeInstalled(s.t); ok {
		s.checkAxe(src, where)
	} else if !s.axeMissingNoted {
		s.axeMissingNoted = true
		s.t.Log(axeMissing + "; the pages were not checked with it")
	}
	return f
}

// checkNoDialogsNorStyleViolations fails the test if the tab opened any
// JavaScript dialog or the console reported that a Content-Security-Policy
// blocked a stylesheet.
func (s *session) checkNoDialogsNorStyleViolations() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.dialogs) > 0 {
		s.t.Errorf("JavaScript dialogs opened: %q; want none", s.dialogs)
	}
	for _, m := range s.console {
		csp := strings.Contains(m.Text, "Content Security Policy")
		switch {
		case csp && strings.Contains(m.Text, "style"):
			s.t.Errorf("console (%s): %s; want the page's own stylesheet allowed", m.URL, m.Text)
		case csp:
			s.t.Logf("console (%s): %s", m.URL, m.Text)
		}
	}
}

// screenshotDir is <repo root>/artifacts/screenshots, without the failure
// screenshot of this test from an earlier run.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(testhost.RepoRoot(t), "artifacts", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, failureFile(t)))
	return dir
}

// failureFile is the name of the screenshot saved when a step of t fails.
func failureFile(t *testing.T) string { return "failure-" + fileName(t.Name()) + ".png" }

func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

// saveFailure saves what the browser shows when a step fails, if it can.
func (s *session) saveFailure(what string) {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return
	}
	path := filepath.Join(s.dir, failureFile(s.t))
	if os.WriteFile(path, png, 0o644) == nil {
		s.t.Logf("the browser showed %s when this failed: %s", path, what)
	}
}

// account returns the demo account with this address.
func account(t *testing.T, email string) fakegoogle.Account {
	t.Helper()
	a, ok := fakegoogle.FindAccount(fakegoogle.DemoAccounts(), email)
	if !ok {
		t.Fatalf("no demo account %s in fakegoogle.DemoAccounts()", email)
	}
	return a
}

// header returns the response header name, whatever its case.
func header(resp *network.Response, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return fmt.Sprint(v)
		}
	}
	return ""
}
