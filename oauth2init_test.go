package oauthgmail

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/gmail/v1"
)

func TestEveryFunctionAnswersOnlyItsMethods(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.setCookie(sessionCookie, "garbage")
	tests := []struct {
		path      string
		allowed   []string
		wantAllow string
	}{
		{"/oauth2init", []string{"GET", "HEAD"}, "GET, HEAD"},
		{"/oauth2callback", []string{"GET", "HEAD"}, "GET, HEAD"},
		{"/listlabels", []string{"GET", "HEAD"}, "GET, HEAD"},
		{"/signout", []string{"GET", "HEAD", "POST"}, "GET, HEAD, POST"},
	}
	all := []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"}
	for _, tt := range tests {
		for _, method := range all {
			r := b.do(method, tt.path+"?state=x&code=y", nil)
			allowed := strings.Contains(strings.Join(tt.allowed, " "), method)
			if allowed && r.status == http.StatusMethodNotAllowed {
				t.Errorf("%s %s: 405, want it allowed", method, tt.path)
			}
			if !allowed && (r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != tt.wantAllow) {
				t.Errorf("%s %s: status %d Allow %q, want 405 with Allow %q", method, tt.path, r.status, r.header.Get("Allow"), tt.wantAllow)
			}
			if !allowed && len(r.cookies) > 0 {
				t.Errorf("%s %s: 405 answer touched cookies: %v", method, tt.path, r.cookies)
			}
		}
	}
	if n := e.google.Stats().TokenRequests; n != 0 {
		t.Errorf("%d token requests, want none", n)
	}
}

func TestInitRedirectsToGoogleWithStateAndPKCE(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	first := b.get("/oauth2init")
	if first.status != http.StatusFound {
		t.Fatalf("status %d, want 302", first.status)
	}
	u, err := url.Parse(first.location())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"response_type":          "code",
		"client_id":              e.app.oauth.ClientID,
		"redirect_uri":           e.server.URL + "/oauth2callback",
		"scope":                  "openid https://www.googleapis.com/auth/userinfo.email " + gmail.GmailReadonlyScope,
		"include_granted_scopes": "true",
		"code_challenge_method":  "S256",
		"access_type":            "online",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if u.Scheme+"://"+u.Host+u.Path != e.googleURL+"/o/oauth2/auth" {
		t.Errorf("redirect goes to %s, want the auth_uri of the client secret", u.Redacted())
	}
	// 26 base32 characters carry 130 bits.
	if len(q.Get("state")) < 26 {
		t.Errorf("state %q is shorter than 128 bits", q.Get("state"))
	}
	if len(q.Get("code_challenge")) != 43 {
		t.Errorf("code_challenge %q is not a base64url SHA-256", q.Get("code_challenge"))
	}
	login := first.cookie(loginCookie)
	if login == nil || !login.HttpOnly || login.MaxAge <= 0 || login.MaxAge > 3600 || login.SameSite != http.SameSiteLaxMode {
		t.Fatalf("login cookie missing or without HttpOnly, SameSite=Lax and a short Max-Age: %v", first.header["Set-Cookie"])
	}
	for _, secret := range []string{q.Get("state")} {
		if strings.Contains(login.Value, secret) {
			t.Error("login cookie carries the state in clear")
		}
	}

	second := b.get("/oauth2init")
	u2, _ := url.Parse(second.location())
	if u2.Query().Get("state") == q.Get("state") || u2.Query().Get("code_challenge") == q.Get("code_challenge") {
		t.Error("a second oauth2init reused the state or the PKCE challenge")
	}
}

func TestInitAsksForOfflineAccessWhenConfigured(t *testing.T) {
	e := newTestEnv(t, func(c *envConfig) { c.vars["ACCESS_TYPE"] = "offline" })
	u, _ := url.Parse(e.newBrowser().startSignIn())
	if u.Query().Get("access_type") != "offline" || u.Query().Get("prompt") != "consent" {
		t.Fatalf("auth URL %s lacks access_type=offline&prompt=consent", u.RawQuery)
	}
}

func TestInitSendsSignedInBrowsersToTheLabels(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.signIn(demoEmail)
	r := b.get("/oauth2init")
	if r.status != http.StatusFound || r.location() != "/listlabels" {
		t.Fatalf("status %d location %q, want 302 /listlabels", r.status, r.location())
	}
	if r.cookie(loginCookie) != nil {
		t.Error("a signed-in visit started a new login")
	}
}

func TestInitStartsOverWhenTheSessionIsUnusable(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.signIn(demoEmail)
	e.clock.advance(25 * time.Hour) // past the session lifetime
	r := b.get("/oauth2init")
	if r.status != http.StatusFound || !strings.HasPrefix(r.location(), e.googleURL) {
		t.Fatalf("status %d location %q, want 302 to Google", r.status, r.location())
	}
	if c := r.cookie(sessionCookie); c == nil || c.MaxAge >= 0 {
		t.Error("the expired session cookie was not cleared")
	}
}
