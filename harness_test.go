package oauthgmail

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/gcf-oauth-gmail/internal/config"
	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/fakegoogle/fakegoogletest"
	"example.com/gcf-oauth-gmail/internal/logging"
	"example.com/gcf-oauth-gmail/internal/pages"
	"example.com/gcf-oauth-gmail/internal/session"
	"example.com/gcf-oauth-gmail/internal/upstream"
)

// testKey is the cookie key of test environments, as COOKIE_SECRET.
var testKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{42}, 32))

// testEnv is the app served on a loopback server, talking to a fake Google
// on another, through the real oauth2 and gmail clients.
type testEnv struct {
	t         testing.TB
	google    *fakegoogle.Server
	googleURL string
	app       *app
	server    *httptest.Server
	logs      *logBuffer
	clock     *testClock
}

// envConfig adjusts a test environment before it starts.
type envConfig struct {
	vars      map[string]string // environment overrides, as an operator would set them
	google    fakegoogle.Options
	functions []Function // the app's functions; Functions() when nil
}

func newTestEnv(t testing.TB, adjust ...func(*envConfig)) *testEnv {
	t.Helper()
	mux := http.NewServeMux()
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)

	cfg := envConfig{vars: map[string]string{}}
	cfg.google.RedirectURIs = []string{server.URL + "/oauth2callback"}
	for _, f := range adjust {
		f(&cfg)
	}
	google, googleServer := fakegoogletest.NewServer(t, cfg.google)
	e := &testEnv{t: t, google: google, googleURL: googleServer.URL, server: server, logs: &logBuffer{}, clock: &testClock{}}
	e.app = buildApp(t, appVars(server.URL, googleServer.URL, google.Options(), cfg.vars),
		appOptions{functions: cfg.functions, logger: logging.New(e.logs, ""), now: e.clock.now})
	mux.Handle("/", e.app.serveAll())
	t.Cleanup(e.checkLogs)
	return e
}

// serveAll serves each of the app's functions at /<name>, as the local
// runner does.
func (a *app) serveAll() http.Handler {
	mux := http.NewServeMux()
	for _, f := range a.functions {
		mux.Handle("/"+f.Name, a.handler(f.Name))
	}
	return mux
}

// handler returns the handler of the function called name.
func (e *testEnv) handler(name string) http.Handler {
	if _, ok := e.app.handlers[name]; !ok {
		e.t.Fatalf("no function %q", name)
	}
	return e.app.handler(name)
}

// appVars returns the environment newTestEnv gives an app served at appURL
// whose Google is the fake at googleURL, with overrides applied. One
// setting, GOOGLE_API_ENDPOINT, sends every call to Google (Gmail, the token
// and revocation endpoints) to the fake.
func appVars(appURL, googleURL string, google fakegoogle.Options, overrides map[string]string) map[string]string {
	vars := map[string]string{
		"CLIENT_SECRET_JSON":  string(fakegoogle.ClientSecretJSON(googleURL, google)),
		"REDIRECT_URL":        appURL + "/oauth2callback",
		"COOKIE_SECRET":       testKey,
		"GOOGLE_API_ENDPOINT": googleURL,
		"UPSTREAM_TIMEOUT":    "2s",
	}
	maps.Copy(vars, overrides)
	return vars
}

// buildApp builds an app from an environment, as newTestEnv does.
func buildApp(tb testing.TB, vars map[string]string, opts appOptions) *app {
	tb.Helper()
	settings, err := config.Load(func(k string) string { return vars[k] }, nil)
	if err != nil {
		tb.Fatalf("config.Load: %v", err)
	}
	a, err := newApp(settings, opts)
	if err != nil {
		tb.Fatalf("newApp: %v", err)
	}
	return a
}

// useTransport replaces e's app by one built from the same environment (plus
// overrides) on a transport the test holds and returns it, so that the test
// can close that transport's idle connections and count what it opened.
func (e *testEnv) useTransport(overrides map[string]string) *http.Transport {
	e.t.Helper()
	transport := upstream.NewTransport()
	e.app = buildApp(e.t, appVars(e.server.URL, e.googleURL, e.google.Options(), overrides),
		appOptions{transport: transport, logger: logging.New(e.logs, ""), now: e.clock.now})
	e.server.Config.Handler = e.app.serveAll()
	return transport
}

// checkLogs fails the test if any log line is not a Cloud Logging JSON
// object or holds a secret the fake Google issued.
func (e *testEnv) checkLogs() {
	checkLogLines(e.t, e.logs.String(), e.google.Secrets())
}

func checkLogLines(t testing.TB, logs string, secrets []string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line == "" {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if msg, ok := obj["message"].(string); !ok || msg == "" {
			t.Errorf("log line has no message: %q", line)
		}
		if !validSeverity[obj["severity"].(string)] {
			t.Errorf("log line has no valid severity: %q", line)
		}
		for _, s := range secrets {
			if containsAnyEncoding(line, s) {
				t.Errorf("log line holds a secret: %q", line)
			}
		}
	}
}

var validSeverity = map[string]bool{"DEFAULT": true, "DEBUG": true, "INFO": true, "NOTICE": true, "WARNING": true, "ERROR": true, "CRITICAL": true, "ALERT": true, "EMERGENCY": true}

// containsAnyEncoding reports whether haystack holds secret as is, URL
// escaped, or base64 encoded.
func containsAnyEncoding(haystack, secret string) bool {
	if secret == "" {
		return false
	}
	forms := []string{secret, url.QueryEscape(secret), base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString([]byte(secret))}
	for _, f := range forms {
		if strings.Contains(haystack, f) {
			return true
		}
	}
	return false
}

// logBuffer is a goroutine-safe log destination.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testClock is the app's clock for cookie lifetimes: real time plus an
// offset a test can move.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// browser is a user agent with a cookie jar that does not follow redirects,
// so each step of the flow can be checked.
type browser struct {
	t      testing.TB
	env    *testEnv
	base   string // the app's URL
	client *http.Client
	jar    *clockJar
}

func (e *testEnv) newBrowser() *browser {
	jar := newClockJar(e.clock)
	base := ""
	if e.server != nil {
		base = e.server.URL
	}
	return &browser{t: e.t, env: e, base: base, jar: jar, client: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// clockJar is a cookie jar that, like a browser, drops a cookie once its
// Max-Age has passed, on the same clock as the app: net/http/cookiejar
// counts Max-Age on the real clock, which would let a test move the app a
// day ahead while the browser still sends cookies it would have dropped.
type clockJar struct {
	clock *testClock
	jar   *cookiejar.Jar // holds the cookies, as session cookies
	mu    sync.Mutex
	until map[string]time.Time // when each cookie expires, by host and name
}

func newClockJar(clock *testClock) *clockJar {
	jar, _ := cookiejar.New(nil)
	return &clockJar{clock: clock, jar: jar, until: map[string]time.Time{}}
}

func (j *clockJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	kept := make([]*http.Cookie, 0, len(cookies))
	for _, c := range cookies {
		c := *c
		key := u.Hostname() + " " + c.Name
		switch {
		case c.MaxAge > 0:
			j.until[key] = j.clock.now().Add(time.Duration(c.MaxAge) * time.Second)
			c.MaxAge = 0
		case !c.Expires.IsZero() && c.MaxAge == 0:
			j.until[key] = c.Expires
		default:
			delete(j.until, key)
		}
		c.Expires = time.Time{}
		kept = append(kept, &c)
	}
	j.jar.SetCookies(u, kept)
}

func (j *clockJar) Cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var live []*http.Cookie
	for _, c := range j.jar.Cookies(u) {
		if until, ok := j.until[u.Hostname()+" "+c.Name]; ok && !j.clock.now().Before(until) {
			continue // the browser has dropped it
		}
		live = append(live, c)
	}
	return live
}

// response is a finished response with its body read.
type response struct {
	status  int
	header  http.Header
	body    string
	cookies []*http.Cookie
}

func (r response) location() string { return r.header.Get("Location") }

// cookie returns the Set-Cookie for name, or nil.
func (r response) cookie(name string) *http.Cookie {
	for _, c := range r.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// do sends a request to the app (path relative to it, or an absolute URL)
// and checks the headers every page must carry.
func (b *browser) do(method, target string, header http.Header) response {
	b.t.Helper()
	return b.send(method, target, nil, header)
}

func (b *browser) send(method, target string, body io.Reader, header http.Header) response {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.base + target
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, body: string(page), cookies: resp.Cookies()}
	checkCommonHeaders(b.t, method+" "+target, r)
	return r
}

func (b *browser) get(target string) response { return b.do(http.MethodGet, target, nil) }

// post sends form to the app's path as a browser submitting it from page
// of origin site ("same-origin" or "cross-site", as Sec-Fetch-Site says),
// with extra headers, if any.
func (b *browser) post(path string, form url.Values, site string, header ...string) response {
	b.t.Helper()
	h := http.Header{"Sec-Fetch-Site": {site}, "Content-Type": {"application/x-www-form-urlencoded"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return b.send(http.MethodPost, path, strings.NewReader(form.Encode()), h)
}

// checkCommonHeaders checks the security headers of every response and the
// page headers of every HTML page.
func checkCommonHeaders(t testing.TB, what string, r response) {
	t.Helper()
	for k, want := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", what, k, got, want)
		}
	}
	if strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		if r.header.Get("Content-Type") != "text/html; charset=utf-8" || r.header.Get("Content-Security-Policy") != pages.ContentSecurityPolicy {
			t.Errorf("%s: HTML page without its content type or CSP: %v", what, r.header)
		}
	}
	if r.status >= 500 && r.status != http.StatusBadGateway && r.status != http.StatusServiceUnavailable && r.status != http.StatusGatewayTimeout {
		t.Errorf("%s: status %d; only upstream faults may give 5xx (502/503/504)", what, r.status)
	}
}

// startSignIn visits oauth2init and returns Google's authorization URL.
func (b *browser) startSignIn() string {
	b.t.Helper()
	r := b.get("/oauth2init")
	if r.status != http.StatusFound || !strings.HasPrefix(r.location(), b.env.googleURL) {
		b.t.Fatalf("oauth2init: status %d location %q, want 302 to Google", r.status, r.location())
	}
	return r.location()
}

// consent approves authURL at the fake Google as email and returns the
// callback URL Google would send the browser to.
func (b *browser) consent(authURL, email string) string {
	b.t.Helper()
	callback, err := b.env.google.Approve(authURL, email)
	if err != nil {
		b.t.Fatalf("Approve: %v", err)
	}
	return callback.String()
}

// signIn runs the whole flow as email and checks it lands on listlabels.
func (b *browser) signIn(email string) {
	b.t.Helper()
	r := b.get(b.consent(b.startSignIn(), email))
	if r.status != http.StatusFound || r.location() != "/listlabels" {
		b.t.Fatalf("oauth2callback: status %d location %q body %q, want 302 /listlabels", r.status, r.location(), r.body)
	}
}

// Names of the app's cookies over plain http, as tests set and read them.
const (
	sessionCookie = "oauth_session"
	loginCookie   = "oauth_login"
	consentCookie = "oauth_consent"
)

// cookieValue returns the value of the named cookie the browser holds.
func (b *browser) cookieValue(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// setCookie replaces a cookie in the browser's jar.
func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.base)
	b.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

const demoEmail = "alice@example.com"

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

// deadlineFor is the upstream deadline a fault test runs with: short when
// Google hangs, so the test is quick, and roomy otherwise, so that a loaded
// machine does not turn a fault into a timeout.
func deadlineFor(f fakegoogle.Fault) time.Duration {
	if f.Hang {
		return time.Second
	}
	return 10 * time.Second
}

// checkAnsweredWithinDeadline fails if a request to a hanging Google was not
// answered soon after the deadline: the contract bounds the wait. The margin
// is wide because this is a bound on behaviour, not a performance test.
func checkAnsweredWithinDeadline(t testing.TB, f fakegoogle.Fault, elapsed time.Duration) {
	t.Helper()
	if limit := deadlineFor(f) + 5*time.Second; f.Hang && elapsed > limit {
		t.Errorf("a hanging Google was answered after %v, want within %v", elapsed, limit)
	}
}

// cookieNamed returns the Set-Cookie of resp for name, or nil.
func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// session returns the session the browser holds, opened with the app's
// keys.
func (b *browser) session() session.Session {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: b.cookieValue(sessionCookie)})
	s, err := b.env.app.store.Session(req)
	if err != nil {
		b.t.Fatalf("the browser's session: %v", err)
	}
	return s
}

// labels returns the names of the labels listlabels lists as JSON.
func (b *browser) labels() []string {
	b.t.Helper()
	r := b.do(http.MethodGet, "/listlabels", http.Header{"Accept": {"application/json"}})
	var list struct{ Labels []struct{ Name string } }
	if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &list) != nil {
		b.t.Fatalf("listlabels as JSON: status %d body %q", r.status, r.body)
	}
	var names []string
	for _, l := range list.Labels {
		names = append(names, l.Name)
	}
	return names
}
