package oauthgmail

import (
	"net/http"
	"strings"
	"testing"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

func TestSignOutRevokesAndClearsCookies(t *testing.T) {
	e := newTestEnv(t, func(c *envConfig) { c.vars["ACCESS_TYPE"] = "offline" })
	b := e.newBrowser()
	b.signIn(demoEmail)
	r := b.do(http.MethodPost, "/signout", http.Header{"Origin": {e.server.URL}, "Sec-Fetch-Site": {"same-origin"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, `href="/oauth2init"`) || !strings.Contains(r.body, "revoked at Google") {
		t.Fatalf("status %d body %q, want the signed-out page", r.status, r.body)
	}
	if c := r.cookie("gmail_session"); c == nil || c.MaxAge >= 0 {
		t.Fatal("session cookie not cleared")
	}
	if e.google.Stats().Revocations != 1 {
		t.Fatalf("%d revocations, want 1", e.google.Stats().Revocations)
	}
	if next := b.get("/listlabels"); next.status != http.StatusFound || next.location() != "/oauth2init" {
		t.Fatalf("after sign-out /listlabels gave %d %q, want 302 /oauth2init", next.status, next.location())
	}
}

func TestSignOutRefusesCrossSiteRequests(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.signIn(demoEmail)
	r := b.do(http.MethodPost, "/signout", http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("status %d, want 403", r.status)
	}
	if r.cookie("gmail_session") != nil || e.google.Stats().RevokeRequests != 0 {
		t.Fatal("a cross-site request signed the user out")
	}
	if b.get("/listlabels").status != http.StatusOK {
		t.Fatal("the session no longer works")
	}
}

func TestSignOutStillClearsCookiesWhenRevocationFails(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.signIn(demoEmail)
	e.google.FailRevoke(fakegoogle.Fault{Status: 503})
	r := b.do(http.MethodPost, "/signout", http.Header{"Sec-Fetch-Site": {"same-origin"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "could not confirm") {
		t.Fatalf("status %d body %q, want the signed-out page saying revocation was not confirmed", r.status, r.body)
	}
	if c := r.cookie("gmail_session"); c == nil || c.MaxAge >= 0 {
		t.Fatal("session cookie not cleared")
	}
}

func TestSignOutWithoutSessionShowsSignedOut(t *testing.T) {
	e := newTestEnv(t)
	r := e.newBrowser().do(http.MethodPost, "/signout", nil)
	if r.status != http.StatusOK || e.google.Stats().RevokeRequests != 0 || !strings.Contains(r.body, "was not signed in") {
		t.Fatalf("status %d, %d revoke requests; want 200 and none", r.status, e.google.Stats().RevokeRequests)
	}
}
