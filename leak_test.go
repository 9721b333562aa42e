package oauthgmail

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/session"

	"example.com/gcf-oauth-gmail/internal/testhost"
)

// leakCheck verifies, when its test ends, that no goroutine the test started
// is still running.
type leakCheck struct {
	transports []*http.Transport // client transports to close before looking
}

// verifyNoLeaks must be called first in a test, so that its cleanup runs
// last: after the servers newTestEnv started are closed (and checkLogs has
// run). It then closes the idle connections of the transports involved and
// looks for goroutines. Only the goroutines that were already running when
// the test started are ignored (goleak.IgnoreCurrent): they belong to
// earlier tests of the package and to the testing package itself, and
// ignoring them by identity, not by function, still catches a goroutine of
// the same kind that this test leaks.
func verifyNoLeaks(t *testing.T) *leakCheck {
	t.Helper()
	lc := &leakCheck{}
	existing := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		for _, tr := range lc.transports {
			tr.CloseIdleConnections()
		}
		// The browsers use the default transport.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		goleak.VerifyNone(t, existing)
	})
	return lc
}

// closedURL returns the URL of a loopback port nothing listens on.
func closedURL(t *testing.T, path string) string {
	return "http://127.0.0.1:" + testhost.FreePort(t) + path
}

// streamingGmail answers every request with a 200 JSON labels list of size
// bytes without a Content-Length (chunked), as a misbehaving server might,
// so that only a bounded read protects the app. It stops when the client
// goes away.
func streamingGmail(size int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		bw := bufio.NewWriterSize(w, 32<<10)
		bw.WriteString(`{"labels":[`)
		for i, n := 0, 0; n < size; i++ {
			item := `{"id":"Label_` + strconv.Itoa(i) + `","name":"Streamed label ` + strconv.Itoa(i) + `","type":"user"},`
			if _, err := bw.WriteString(item); err != nil || r.Context().Err() != nil {
				return
			}
			n += len(item)
		}
		bw.WriteString(`{"id":"last","name":"last","type":"user"}]}`)
		bw.Flush()
	}
}

// TestFaultsLeakNoGoroutines runs every upstream fault through the real
// oauth2 and gmail clients and checks the answer, that the logs hold no
// secret (checkLogs, on cleanup) and that nothing is left running once the
// servers are closed. The finer behaviour of each fault is tested in
// oauth2callback_test.go and listlabels_test.go; this table is about what
// is left behind.
func TestFaultsLeakNoGoroutines(t *testing.T) {
	type env struct {
		*testEnv
		b *browser
	}
	// atCallback consents, applies the fault, then visits the callback.
	atCallback := func(fault func(t *testing.T, e env)) func(*testing.T, env) response {
		return func(t *testing.T, e env) response {
			cb := e.b.consent(e.b.startSignIn(), demoEmail)
			fault(t, e)
			return e.b.get(cb)
		}
	}
	// atLabels signs in, applies the fault, then lists the labels.
	atLabels := func(fault func(t *testing.T, e env)) func(*testing.T, env) response {
		return func(t *testing.T, e env) response {
			e.b.signIn(demoEmail)
			fault(t, e)
			return e.b.get("/listlabels")
		}
	}
	failToken := func(f fakegoogle.Fault) func(*testing.T, env) {
		return func(_ *testing.T, e env) { e.google.FailToken(f) }
	}
	failGmail := func(f fakegoogle.Fault) func(*testing.T, env) {
		return func(_ *testing.T, e env) { e.google.FailGmail(f) }
	}
	tokenDown := func(t *testing.T, e env) { e.app.oauth.Endpoint.TokenURL = closedURL(t, "/token") }
	// expire makes the session's access token expired, so that the next
	// listlabels refreshes it first, then applies fault.
	expire := func(fault func(*testing.T, env)) func(*testing.T, env) {
		return func(t *testing.T, e env) {
			e.b.rewriteSession(func(s *session.Session) { s.Token.Expiry = time.Now().Add(-time.Minute) })
			fault(t, e)
		}
	}
	skew := func(d time.Duration) func(*testing.T, env) {
		return func(_ *testing.T, e env) { e.clock.advance(d) }
	}
	none := func(*testing.T, env) {}
	offline := map[string]string{"ACCESS_TYPE": "offline"}
	// Only the cases where Google hangs run with a short deadline; the others
	// keep a roomy one so that a loaded machine does not turn them into 504s.
	shortDeadline := map[string]string{"UPSTREAM_TIMEOUT": "1s"}
	offlineShortDeadline := map[string]string{"ACCESS_TYPE": "offline", "UPSTREAM_TIMEOUT": "1s"}

	tests := []struct {
		name         string
		vars         map[string]string // environment overrides
		gmail        http.HandlerFunc  // when set, serves as GMAIL_ENDPOINT instead of the fake
		run          func(*testing.T, env) response
		wantStatus   int
		wantLocation string
		wantRetry    string
		check        func(*testing.T, env, response)
	}{
		// Token endpoint, at the callback.
		{name: "token endpoint down", run: atCallback(tokenDown), wantStatus: http.StatusBadGateway},
		{name: "token endpoint hangs", vars: shortDeadline, run: atCallback(failToken(fakegoogle.Fault{Hang: true})), wantStatus: http.StatusGatewayTimeout},
		{name: "token endpoint 500", run: atCallback(failToken(fakegoogle.Fault{Status: 500})), wantStatus: http.StatusBadGateway},
		{name: "token endpoint 503", run: atCallback(failToken(fakegoogle.Fault{Status: 503, RetryAfter: "9"})), wantStatus: http.StatusBadGateway},
		{name: "token invalid_grant", run: atCallback(failToken(fakegoogle.Fault{Status: 400, Reason: "invalid_grant"})), wantStatus: http.StatusBadRequest},
		{name: "token not JSON", run: atCallback(failToken(fakegoogle.Fault{Malformed: true})), wantStatus: http.StatusBadGateway},
		{name: "token huge body", run: atCallback(failToken(fakegoogle.Fault{HugeBody: 64 << 20})), wantStatus: http.StatusBadGateway},

		// Gmail, at listlabels.
		{name: "gmail 401 refreshes once then consent", vars: offline,
			run: atLabels(failGmail(fakegoogle.Fault{Status: 401})), wantStatus: http.StatusFound, wantLocation: "/oauth2init",
			check: func(t *testing.T, e env, r response) {
				if n := e.google.Stats().Refreshes; n != 1 {
					t.Errorf("%d refreshes, want 1", n)
				}
				if c := r.cookie(sessionCookie); c == nil || c.MaxAge >= 0 {
					t.Error("session not cleared")
				}
			}},
		{name: "gmail 403 permission", run: atLabels(failGmail(fakegoogle.Fault{Status: 403, Reason: "insufficientPermissions"})), wantStatus: http.StatusForbidden},
		{name: "gmail 403 rate limit", run: atLabels(failGmail(fakegoogle.Fault{Status: 403, Reason: "userRateLimitExceeded", RetryAfter: "7"})), wantStatus: http.StatusServiceUnavailable, wantRetry: "7"},
		{name: "gmail 429", run: atLabels(failGmail(fakegoogle.Fault{Status: 429, RetryAfter: "30"})), wantStatus: http.StatusServiceUnavailable, wantRetry: "30"},
		{name: "gmail 500", run: atLabels(failGmail(fakegoogle.Fault{Status: 500})), wantStatus: http.StatusBadGateway},
		{name: "gmail 503", run: atLabels(failGmail(fakegoogle.Fault{Status: 503, RetryAfter: "5"})), wantStatus: http.StatusServiceUnavailable, wantRetry: "5"},
		{name: "gmail hangs", vars: shortDeadline, run: atLabels(failGmail(fakegoogle.Fault{Hang: true})), wantStatus: http.StatusGatewayTimeout},
		{name: "gmail malformed JSON", run: atLabels(failGmail(fakegoogle.Fault{Malformed: true})), wantStatus: http.StatusBadGateway},
		{name: "gmail huge body with length", run: atLabels(failGmail(fakegoogle.Fault{HugeBody: 64 << 20})), wantStatus: http.StatusBadGateway},
		// Reading (and decoding) the first 4 MiB takes a while under the race
		// detector: a longer deadline keeps the bound, not the deadline, in
		// charge.
		{name: "gmail huge body streamed", vars: map[string]string{"UPSTREAM_TIMEOUT": "10s"}, gmail: streamingGmail(64 << 20),
			run: atLabels(none), wantStatus: http.StatusBadGateway},

		// Refreshing an expired access token.
		{name: "refresh 500", vars: offline, run: atLabels(expire(failToken(fakegoogle.Fault{Status: 500}))), wantStatus: http.StatusBadGateway},
		{name: "refresh hangs", vars: offlineShortDeadline, run: atLabels(expire(failToken(fakegoogle.Fault{Hang: true}))), wantStatus: http.StatusGatewayTimeout},
		{name: "refresh endpoint down", vars: offline, run: atLabels(expire(tokenDown)), wantStatus: http.StatusBadGateway},
		{name: "refresh token revoked", vars: offline, run: atLabels(expire(failToken(fakegoogle.Fault{Status: 400, Reason: "invalid_grant"}))),
			wantStatus: http.StatusFound, wantLocation: "/oauth2init"},

		// The app's cookie clock off from Google's. Sessions outlive a few
		// minutes of skew either way; a cookie issued in the reader's future
		// is accepted up to one minute ahead, then refused.
		{name: "app clock 5m ahead of Google", run: func(t *testing.T, e env) response {
			e.clock.advance(5 * time.Minute)
			e.b.signIn(demoEmail)
			return e.b.get("/listlabels")
		}, wantStatus: http.StatusOK},
		{name: "app clock 5m behind Google", run: func(t *testing.T, e env) response {
			e.clock.advance(-5 * time.Minute)
			e.b.signIn(demoEmail)
			return e.b.get("/listlabels")
		}, wantStatus: http.StatusOK},
		{name: "session read 5m later", run: atLabels(skew(5 * time.Minute)), wantStatus: http.StatusOK},
		{name: "session from 30s in the future", run: atLabels(skew(-30 * time.Second)), wantStatus: http.StatusOK},
		{name: "session from 5m in the future", run: atLabels(skew(-5 * time.Minute)), wantStatus: http.StatusFound, wantLocation: "/oauth2init"},
		{name: "login cookie from 30s in the future", run: atCallback(skew(-30 * time.Second)), wantStatus: http.StatusFound, wantLocation: "/listlabels"},
		{name: "login cookie from 2m in the future", run: atCallback(skew(-2 * time.Minute)), wantStatus: http.StatusBadRequest,
			check: func(t *testing.T, e env, r response) {
				if n := e.google.Stats().TokenRequests; n != 0 {
					t.Errorf("%d token requests, want none", n)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaks := verifyNoLeaks(t)
			vars := map[string]string{"UPSTREAM_TIMEOUT": "10s"}
			for k, v := range tt.vars {
				vars[k] = v
			}
			if tt.gmail != nil {
				gmail := httptest.NewServer(tt.gmail)
				t.Cleanup(gmail.Close)
				vars["GMAIL_ENDPOINT"] = gmail.URL
			}
			e := newTestEnv(t)
			leaks.transports = append(leaks.transports, e.useTransport(vars))
			r := tt.run(t, env{e, e.newBrowser()})
			if r.status != tt.wantStatus || r.location() != tt.wantLocation || r.header.Get("Retry-After") != tt.wantRetry {
				t.Fatalf("status %d Location %q Retry-After %q, want %d %q %q; body %.300q",
					r.status, r.location(), r.header.Get("Retry-After"), tt.wantStatus, tt.wantLocation, tt.wantRetry, r.body)
			}
			if r.status >= 400 && !strings.Contains(r.body, "href=") {
				t.Error("error page offers no next step")
			}
			if tt.check != nil {
				tt.check(t, env{e, nil}, r)
			}
		})
	}
}
