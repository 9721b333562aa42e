package oauthgmail

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

func TestCallbackSignsInAndClearsTheLoginCookie(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	r := b.get(b.consent(b.startSignIn(), demoEmail))
	if r.status != http.StatusFound || r.location() != "/listlabels" {
		t.Fatalf("status %d location %q, want 302 /listlabels", r.status, r.location())
	}
	sess := r.cookie(sessionCookie)
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.Secure {
		t.Fatalf("session cookie missing or with wrong attributes: %v", r.header["Set-Cookie"])
	}
	if login := r.cookie(loginCookie); login == nil || login.MaxAge >= 0 {
		t.Fatalf("login cookie not cleared: %v", r.header["Set-Cookie"])
	}
	for _, secret := range e.google.Secrets() {
		if containsAnyEncoding(sess.Value, secret) {
			t.Fatal("session cookie holds a token in a readable form")
		}
	}
	if n := e.google.Stats().CodeExchanges; n != 1 {
		t.Fatalf("%d code exchanges, want 1", n)
	}
}

// TestCallbackRejectsForgedOrStaleAnswers covers every way the browser can
// come back without a valid sign-in: none may exchange a code or set a
// session.
func TestCallbackRejectsForgedOrStaleAnswers(t *testing.T) {
	tests := []struct {
		name string
		// attack returns the callback URL to visit with browser b, possibly
		// after tampering with b's cookies.
		attack func(e *testEnv, b *browser) string
	}{
		{"state missing", func(e *testEnv, b *browser) string {
			return withQuery(b.consent(b.startSignIn(), demoEmail), "state", "")
		}},
		{"state wrong", func(e *testEnv, b *browser) string {
			return withQuery(b.consent(b.startSignIn(), demoEmail), "state", "AAAAAAAAAAAAAAAAAAAAAAAAAA")
		}},
		{"state repeated", func(e *testEnv, b *browser) string {
			cb := b.consent(b.startSignIn(), demoEmail)
			u, _ := url.Parse(cb)
			return cb + "&state=" + url.QueryEscape(u.Query().Get("state"))
		}},
		{"state from another browser's login", func(e *testEnv, b *browser) string {
			other := e.newBrowser()
			b.startSignIn()
			return other.consent(other.startSignIn(), demoEmail)
		}},
		{"no login cookie", func(e *testEnv, b *browser) string {
			return e.newBrowser().consent(e.newBrowser().startSignIn(), demoEmail)
		}},
		{"login cookie tampered", func(e *testEnv, b *browser) string {
			cb := b.consent(b.startSignIn(), demoEmail)
			v := b.cookieValue(loginCookie)
			b.setCookie(loginCookie, v[:20]+strings.Map(func(r rune) rune { return 'A' + (r % 26) }, v[20:21])+v[21:])
			return cb
		}},
		{"login cookie truncated", func(e *testEnv, b *browser) string {
			cb := b.consent(b.startSignIn(), demoEmail)
			b.setCookie(loginCookie, b.cookieValue(loginCookie)[:30])
			return cb
		}},
		{"login cookie older than 10 minutes", func(e *testEnv, b *browser) string {
			cb := b.consent(b.startSignIn(), demoEmail)
			e.clock.advance(11 * time.Minute)
			return cb
		}},
		{"session cookie value used as login cookie", func(e *testEnv, b *browser) string {
			other := e.newBrowser()
			other.signIn(demoEmail)
			cb := b.consent(b.startSignIn(), demoEmail)
			b.setCookie(loginCookie, other.cookieValue(sessionCookie))
			return cb
		}},
		{"callback replayed after success", func(e *testEnv, b *browser) string {
			cb := b.consent(b.startSignIn(), demoEmail)
			b.get(cb)
			b.setCookie(sessionCookie, "")
			return cb
		}},
		{"code missing", func(e *testEnv, b *browser) string {
			return withQuery(b.consent(b.startSignIn(), demoEmail), "code", "")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			b := e.newBrowser()
			target := tt.attack(e, b)
			before := e.google.Stats().TokenRequests
			r := b.get(target)
			if r.status < 400 || r.status > 499 {
				t.Fatalf("status %d, want 4xx; body %q", r.status, r.body)
			}
			if c := r.cookie(sessionCookie); c != nil && c.MaxAge > 0 {
				t.Fatal("a session cookie was set")
			}
			if after := e.google.Stats().TokenRequests; after != before {
				t.Fatalf("%d token requests were made, want none", after-before)
			}
			if !strings.Contains(r.body, `href="/oauth2init"`) {
				t.Error("error page does not offer to sign in again")
			}
		})
	}
}

func TestErrorCallbackFromAnotherSiteLeavesTheSignInAlone(t *testing.T) {
	for _, state := range []string{"", "&state=forged", "&state="} {
		e := newTestEnv(t)
		b := e.newBrowser()
		auth := b.startSignIn()
		r := b.get("/oauth2callback?error=access_denied" + state)
		if r.status < 400 || r.status > 499 || strings.Contains(r.body, "You didn’t allow access") {
			t.Fatalf("error callback with %q: status %d body %q; want a 4xx that does not claim the person refused", state, r.status, r.body)
		}
		if c := r.cookie(loginCookie); c != nil {
			t.Fatalf("error callback with %q touched the login cookie: %v", state, c)
		}
		// The sign-in in progress still completes.
		callback, err := e.google.Approve(auth, demoEmail)
		if err != nil {
			t.Fatal(err)
		}
		if r := b.get(callback.String()); r.status != http.StatusFound || r.location() != "/listlabels" {
			t.Fatalf("after a foreign error callback (%q), the real one: %d %q, want 302 /listlabels", state, r.status, r.location())
		}
	}
}

func TestCallbackExplainsAuthorizationErrors(t *testing.T) {
	tests := []struct {
		name       string
		error      string
		wantStatus int
		wantText   string
	}{
		{"denied", "access_denied", http.StatusForbidden, "You didn’t allow access"},
		{"an error RFC 6749 defines", "invalid_scope", http.StatusBadRequest, "The app asked Google for access that does not exist."},
		{"an error Google defines", "admin_policy_enforced", http.StatusBadRequest, "administrator does not allow this app"},
		{"an unknown error", "made_up", http.StatusBadRequest, "Google could not complete the sign-in"},
		{"hostile error value", "<script>alert(1)</script>", http.StatusBadRequest, "Google could not complete the sign-in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			b := e.newBrowser()
			auth, _ := url.Parse(b.startSignIn())
			r := b.get("/oauth2callback?error=" + url.QueryEscape(tt.error) + "&state=" + url.QueryEscape(auth.Query().Get("state")))
			if r.status != tt.wantStatus || !strings.Contains(r.body, tt.wantText) || !strings.Contains(r.body, `href="/oauth2init`) {
				t.Fatalf("status %d body %q; want %d mentioning %q and linking /oauth2init", r.status, r.body, tt.wantStatus, tt.wantText)
			}
			if strings.Contains(r.body, "script") || strings.Contains(r.body, "made_up") {
				t.Fatal("the error value is repeated on the page")
			}
			if c := r.cookie(loginCookie); c == nil || c.MaxAge >= 0 {
				t.Error("the spent login cookie was not cleared")
			}
		})
	}
}

func TestCallbackDeniedAtTheConsentScreen(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	denied, err := e.google.Deny(b.startSignIn())
	if err != nil {
		t.Fatal(err)
	}
	r := b.get(denied.String())
	if r.status != http.StatusForbidden || !strings.Contains(r.body, `href="/oauth2init"`) {
		t.Fatalf("status %d, want 403 linking to /oauth2init", r.status)
	}
}

func TestCallbackMapsTokenEndpointFailures(t *testing.T) {
	tests := []struct {
		name       string
		fault      fakegoogle.Fault
		stopGoogle bool
		wantStatus int
	}{
		{"invalid_grant", fakegoogle.Fault{Status: 400, Reason: "invalid_grant"}, false, http.StatusBadRequest},
		{"server error", fakegoogle.Fault{Status: 500}, false, http.StatusBadGateway},
		{"unavailable", fakegoogle.Fault{Status: 503}, false, http.StatusBadGateway},
		{"not JSON", fakegoogle.Fault{Malformed: true}, false, http.StatusBadGateway},
		{"huge body", fakegoogle.Fault{HugeBody: 8 << 20}, false, http.StatusBadGateway},
		{"invalid_client", fakegoogle.Fault{Status: 401, Reason: "invalid_client"}, false, http.StatusBadGateway},
		{"hangs", fakegoogle.Fault{Hang: true}, false, http.StatusGatewayTimeout},
		{"unreachable", fakegoogle.Fault{}, true, http.StatusBadGateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, func(c *envConfig) { c.vars["UPSTREAM_TIMEOUT"] = deadlineFor(tt.fault).String() })
			b := e.newBrowser()
			cb := b.consent(b.startSignIn(), demoEmail)
			e.google.FailToken(tt.fault)
			if tt.stopGoogle {
				e.app.oauth.Endpoint.TokenURL = "http://127.0.0.1:1/token"
			}
			start := time.Now()
			r := b.get(cb)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %q", r.status, tt.wantStatus, r.body)
			}
			checkAnsweredWithinDeadline(t, tt.fault, time.Since(start))
			if c := r.cookie(sessionCookie); c != nil && c.MaxAge > 0 {
				t.Fatal("a session cookie was set")
			}
		})
	}
}

func TestCallbackRejectsAReusedCode(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	authURL := b.startSignIn()
	cb := b.consent(authURL, demoEmail)
	loginCookie := b.cookieValue(loginCookie)
	b.signInWith(cb)
	// An attacker who replays both the callback URL and the login cookie
	// still fails: codes are single-use.
	attacker := e.newBrowser()
	attacker.setCookie(loginCookie, loginCookie)
	r := attacker.get(cb)
	if r.status != http.StatusBadRequest || r.cookie(sessionCookie) != nil && r.cookie(sessionCookie).MaxAge > 0 {
		t.Fatalf("status %d, want 400 and no session", r.status)
	}
}

func (b *browser) signInWith(callback string) {
	b.t.Helper()
	if r := b.get(callback); r.status != http.StatusFound || r.location() != "/listlabels" {
		b.t.Fatalf("callback: status %d location %q", r.status, r.location())
	}
}

// withQuery returns rawURL with parameter name set to value, or removed
// when value is empty.
func withQuery(rawURL, name, value string) string {
	u, _ := url.Parse(rawURL)
	q := u.Query()
	if value == "" {
		q.Del(name)
	} else {
		q.Set(name, value)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
