package oauthgmail

// Benchmarks of the request path, and the helpers that build an app for any
// testing.TB (benchmarks and fuzz targets cannot use newTestEnv, which takes
// a *testing.T). Run them with scripts/bench.sh.

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/config"
	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/fakegoogle/fakegoogletest"
	"example.com/gcf-oauth-gmail/internal/logging"
	"example.com/gcf-oauth-gmail/internal/upstream"
)

// handlerAppURL is where an app whose handlers are called directly pretends
// to be served. Nothing connects to it.
const handlerAppURL = "http://app.example"

// appVars returns the environment newTestEnv gives an app served at appURL
// whose Google is the fake at googleURL, with overrides applied.
func appVars(appURL, googleURL string, google fakegoogle.Options, overrides map[string]string) map[string]string {
	vars := map[string]string{
		"CLIENT_SECRET_JSON": string(fakegoogle.ClientSecretJSON(googleURL, google)),
		"REDIRECT_URL":       appURL + "/oauth2callback",
		"COOKIE_SECRET":      testKey,
		"GMAIL_ENDPOINT":     googleURL,
		"REVOKE_URL":         googleURL + fakegoogle.RevokePath,
		"UPSTREAM_TIMEOUT":   "2s",
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
	mux := http.NewServeMux()
	e.app.routes(mux)
	e.server.Config.Handler = mux
	return transport
}

// newHandlerEnv is newTestEnv for any testing.TB, without a server for the
// app: its handlers are called directly, which keeps a benchmark or fuzz
// iteration cheap. The fake Google is served on loopback and reached
// through the real oauth2 and gmail clients over transport (nil: the app's
// default). Its t field is nil, so browsers cannot be used with it.
func newHandlerEnv(tb testing.TB, transport http.RoundTripper, adjust ...func(*envConfig)) *testEnv {
	tb.Helper()
	cfg := envConfig{vars: map[string]string{}}
	cfg.google.RedirectURIs = []string{handlerAppURL + "/oauth2callback"}
	for _, f := range adjust {
		f(&cfg)
	}
	google, googleServer := fakegoogletest.NewServer(tb, cfg.google)
	e := &testEnv{google: google, googleURL: googleServer.URL, logs: &logBuffer{}, clock: &testClock{}}
	e.app = buildApp(tb, appVars(handlerAppURL, googleServer.URL, google.Options(), cfg.vars),
		appOptions{transport: transport, logger: logging.New(e.logs, ""), now: e.clock.now})
	return e
}

// serveDirect calls h with a GET of target carrying cookies.
func serveDirect(h http.Handler, target string, cookies ...*http.Cookie) *http.Response {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// signInDirect runs the whole flow as email against the app's handlers and
// returns the session cookie as it stands after the first listlabels (which
// reads the account's address once and re-issues the cookie), so that later
// requests with it do no work beyond listing labels.
func signInDirect(tb testing.TB, e *testEnv, email string) *http.Cookie {
	tb.Helper()
	start := serveDirect(e.app.handler(readOnly, (*app).oauth2Init), "/oauth2init")
	login := cookieNamed(start, e.app.store.LoginCookieName())
	if start.StatusCode != http.StatusFound || login == nil {
		tb.Fatalf("oauth2init: status %d, login cookie %v", start.StatusCode, login)
	}
	cb, err := e.google.Approve(start.Header.Get("Location"), email)
	if err != nil {
		tb.Fatalf("Approve: %v", err)
	}
	done := serveDirect(e.app.handler(readOnly, (*app).oauth2Callback), "/oauth2callback?"+cb.RawQuery, login)
	sess := cookieNamed(done, e.app.store.SessionCookieName())
	if done.StatusCode != http.StatusFound || sess == nil {
		tb.Fatalf("oauth2callback: status %d, session cookie %v", done.StatusCode, sess)
	}
	first := serveDirect(e.app.handler(readOnly, (*app).listLabels), "/listlabels", sess)
	if first.StatusCode != http.StatusOK {
		tb.Fatalf("first listlabels: status %d", first.StatusCode)
	}
	if again := cookieNamed(first, e.app.store.SessionCookieName()); again != nil {
		sess = again
	}
	return sess
}

func BenchmarkOpenSession(b *testing.B) {
	e := newHandlerEnv(b, nil)
	sess := signInDirect(b, e, demoEmail)
	req := httptest.NewRequest(http.MethodGet, "/listlabels", nil)
	// What a browser sends: the session cookie among others of the site.
	req.Header.Set("Cookie", "_ga=GA1.1.123456789.1700000000; "+sess.Name+"="+sess.Value+"; theme=dark")
	b.ReportAllocs()
	b.SetBytes(int64(len(sess.Value)))
	for b.Loop() {
		if _, err := e.app.store.Session(req); err != nil {
			b.Fatal(err)
		}
	}
}

// benchConcurrency is the number of requests in flight in the handler
// benchmarks: enough to keep every core busy, so that ns/op measures
// throughput rather than latency.
const benchConcurrency = 32

// The handler benchmarks serve each request in one of two ways:
//
//   - direct: the handler is called with a minimal ResponseWriter, so what
//     is measured is the handler and the upstream call it makes (the
//     stricter comparison, and the one the target is about);
//   - loopback: over HTTP from a pooled client to an httptest server, as
//     functions-framework serves a deployed function; the server and client
//     costs, the same for both handlers, narrow the gap.
var benchPaths = []struct {
	name string
	run  func(b *testing.B, h http.Handler, cookie *http.Cookie)
}{
	{"direct", runDirect},
	{"loopback", runLoopback},
}

// nullNsPerOp holds the ns/op of the last BenchmarkNullHandler run of each
// path in this process, for BenchmarkListLabels to report its throughput
// relative to it.
var nullNsPerOp sync.Map // path name → float64

// BenchmarkNullHandler is the floor for BenchmarkListLabels: a handler that
// makes the same single GET to the same fake Gmail labels endpoint over a
// pooled transport and copies the bytes through, doing nothing else.
// It must stay declared before BenchmarkListLabels so that it runs first.
func BenchmarkNullHandler(b *testing.B) {
	e := newHandlerEnv(b, nil)
	token := accessTokenOf(b, e, signInDirect(b, e, demoEmail))
	client := &http.Client{Transport: upstream.NewTransport()}
	b.Cleanup(client.CloseIdleConnections)
	// The URL the gmail client requests for the labels page.
	query := url.Values{"alt": {"json"}, "fields": {string(pageFields)}, "prettyPrint": {"false"}}
	labelsURL := e.googleURL + fakegoogle.LabelsPath + "?" + query.Encode()
	null := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, labelsURL, nil)
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		copyThrough(w, resp.Body)
	})
	for _, path := range benchPaths {
		b.Run(path.name, func(b *testing.B) {
			path.run(b, null, nil)
			nullNsPerOp.Store(path.name, nsPerOp(b))
		})
	}
}

// BenchmarkListLabels is the real listlabels handler serving a signed-in
// browser whose session needs no refresh, at the same concurrency and
// against the same fake Gmail as BenchmarkNullHandler. The metric
// throughput-vs-null is ns/op of the last null run on the same path divided
// by this one's (the target is at least 0.8).
func BenchmarkListLabels(b *testing.B) {
	e := newHandlerEnv(b, nil)
	sess := signInDirect(b, e, demoEmail)
	runAgainstNull(b, e.app.handler(readOnly, (*app).listLabels), sess)
}

// runAgainstNull runs h on every path, reporting throughput-vs-null: ns/op
// of the last null run on the same path divided by h's.
func runAgainstNull(b *testing.B, h http.Handler, cookie *http.Cookie) {
	for _, path := range benchPaths {
		b.Run(path.name, func(b *testing.B) {
			path.run(b, h, cookie)
			if null, ok := nullNsPerOp.Load(path.name); ok {
				b.ReportMetric(null.(float64)/nsPerOp(b), "throughput-vs-null")
			}
		})
	}
}

func nsPerOp(b *testing.B) float64 { return float64(b.Elapsed().Nanoseconds()) / float64(b.N) }

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// copyThrough copies r to w with a pooled buffer.
func copyThrough(w io.Writer, r io.Reader) {
	buf := copyBuffers.Get().(*[]byte)
	io.CopyBuffer(w, r, *buf) //nolint:errcheck // nothing to do about a failed copy here
	copyBuffers.Put(buf)
}

// browserAccept is what a browser sends when it navigates.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// runParallel runs serve from benchConcurrency goroutines and reports the
// process's CPU time per request besides the wall-clock ns/op. Each
// goroutine gets its own state from newWorker; serve reports whether the
// request was answered 200 with a body.
func runParallel(b *testing.B, newWorker func() (serve func() bool)) {
	b.Helper()
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((benchConcurrency + procs - 1) / procs)
	var failures atomic.Int64
	b.ReportAllocs()
	cpuBefore := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		serve := newWorker()
		for pb.Next() {
			if !serve() {
				failures.Add(1)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpuBefore).Nanoseconds())/float64(b.N), "cpu-ns/op")
	if n := failures.Load(); n > 0 {
		b.Fatalf("%d of %d requests did not answer 200 with a body", n, b.N)
	}
}

// runDirect calls h for GET /listlabels with cookie.
func runDirect(b *testing.B, h http.Handler, cookie *http.Cookie) {
	runParallel(b, func() func() bool {
		req := httptest.NewRequest(http.MethodGet, "/listlabels", nil)
		req.Header.Set("Accept", browserAccept)
		if cookie != nil {
			req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		}
		w := &benchWriter{header: http.Header{}}
		return func() bool {
			w.reset()
			h.ServeHTTP(w, req)
			return w.status == http.StatusOK && w.written > 0
		}
	})
}

// runLoopback serves h on a loopback server and sends it GET /listlabels
// with cookie from a pooled client.
func runLoopback(b *testing.B, h http.Handler, cookie *http.Cookie) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * benchConcurrency}}
	defer client.CloseIdleConnections()
	runParallel(b, func() func() bool {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/listlabels", nil)
		if err != nil {
			panic(err)
		}
		req.Header.Set("Accept", browserAccept)
		if cookie != nil {
			req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		}
		return func() bool {
			resp, err := client.Do(req)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			var n countingWriter
			copyThrough(&n, resp.Body)
			return resp.StatusCode == http.StatusOK && n > 0
		}
	})
}

type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// accessTokenOf opens a session cookie and returns its access token.
func accessTokenOf(tb testing.TB, e *testEnv, sess *http.Cookie) string {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(sess)
	s, err := e.app.store.Session(req)
	if err != nil {
		tb.Fatal(err)
	}
	return s.Token.AccessToken
}

// benchWriter is a reusable ResponseWriter that keeps only the status and
// the byte count.
type benchWriter struct {
	header  http.Header
	status  int
	written int
}

func (w *benchWriter) Header() http.Header { return w.header }

func (w *benchWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *benchWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.written += len(p)
	return len(p), nil
}

func (w *benchWriter) reset() {
	clear(w.header)
	w.status, w.written = 0, 0
}

// processCPU returns the CPU time the process has used so far, user and
// system, in every goroutine (the fake Google's included). Unlike ns/op it
// hardly grows when other processes compete for the machine's cores.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGmailClientFloor is the ceiling of any listlabels built on the
// gmail/v1 client: a handler that makes only the page's users.labels.list
// call through the app's shared gmail.Service (same transport, same
// fields) and writes one label name, with no cookie, sorting or page. Its
// throughput-vs-null is the best BenchmarkListLabels could reach; the gap
// between the two is what the app itself costs.
func BenchmarkGmailClientFloor(b *testing.B) {
	e := newHandlerEnv(b, nil)
	token := &oauth2.Token{AccessToken: accessTokenOf(b, e, signInDirect(b, e, demoEmail))}
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		labels, err := e.app.fetchLabels(r.Context(), token, pageFields)
		if err != nil || len(labels) == 0 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, labels[0].Name)
	})
	runAgainstNull(b, floor, nil)
}
