package oauthgmail

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/session"
)

// sameOrigin is what a browser sends with a form posted from the app.
var sameOrigin = http.Header{"Sec-Fetch-Site": {"same-origin"}}

func TestSignOutRevokesClearsCookiesAndRedirectsToThePage(t *testing.T) {
	e := newTestEnv(t, func(c *envConfig) { c.vars["ACCESS_TYPE"] = "offline" })
	b := e.newBrowser()
	b.signIn(demoEmail)
	r := b.do(http.MethodPost, "/signout", http.Header{"Origin": {e.server.URL}, "Sec-Fetch-Site": {"same-origin"}})
	if r.status != http.StatusSeeOther || r.location() != "/signout" {
		t.Fatalf("status %d location %q, want 303 to /signout", r.status, r.location())
	}
	if c := r.cookie(sessionCookie); c == nil || c.MaxAge >= 0 {
		t.Fatal("session cookie not cleared")
	}
	if e.google.Stats().Revocations != 1 {
		t.Fatalf("%d revocations, want 1", e.google.Stats().Revocations)
	}
	page := b.get(r.location())
	if page.status != http.StatusOK || !strings.Contains(page.body, "Google confirmed") || !strings.Contains(page.body, `href="/oauth2init"`) {
		t.Fatalf("signed-out page: status %d body %q", page.status, page.body)
	}
	// Reloading the page, or coming back to it, is a plain GET.
	if again := b.get(r.location()); again.status != http.StatusOK || again.body != page.body || e.google.Stats().RevokeRequests != 1 {
		t.Fatalf("reload: status %d, %d revoke requests; want the same page and no new revocation", again.status, e.google.Stats().RevokeRequests)
	}
	if next := b.get("/listlabels"); next.status != http.StatusFound || next.location() != "/oauth2init" {
		t.Fatalf("after sign-out /listlabels gave %d %q, want 302 /oauth2init", next.status, next.location())
	}
}

func TestSignOutPageOffersTheButtonToASignedInBrowser(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.signIn(demoEmail)
	r := b.get("/signout")
	if r.status != http.StatusOK || !strings.Contains(r.body, `<form method="post" action="/signout">`) || strings.Contains(r.body, "Google confirmed") {
		t.Fatalf("GET /signout while signed in: status %d body %q, want the Sign out button", r.status, r.body)
	}
	if e.google.Stats().RevokeRequests != 0 || b.get("/listlabels").status != http.StatusOK {
		t.Fatal("showing the sign-out page signed the browser out")
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
	if len(r.cookies) != 0 || e.google.Stats().RevokeRequests != 0 {
		t.Fatal("a cross-site request changed the cookies or revoked the token")
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
	r := b.do(http.MethodPost, "/signout", sameOrigin)
	if r.status != http.StatusSeeOther || r.location() != "/signout" {
		t.Fatalf("status %d location %q, want 303 to /signout", r.status, r.location())
	}
	if c := r.cookie(sessionCookie); c == nil || c.MaxAge >= 0 {
		t.Fatal("session cookie not cleared")
	}
	page := b.get(r.location())
	if !strings.Contains(page.body, "did not confirm") || !strings.Contains(page.body, `href="https://myaccount.google.com/permissions"`) || strings.Contains(page.body, `href="/oauth2init"`) {
		t.Fatalf("page %q, want it to say so and link to the account's permissions only", page.body)
	}
}

func TestSignOutWithoutSessionSaysSo(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	r := b.do(http.MethodPost, "/signout", sameOrigin)
	if r.status != http.StatusSeeOther || r.location() != "/signout" || e.google.Stats().RevokeRequests != 0 {
		t.Fatalf("status %d location %q, %d revoke requests; want 303 /signout and none", r.status, r.location(), e.google.Stats().RevokeRequests)
	}
	if page := b.get("/signout"); !strings.Contains(page.body, "not signed in") {
		t.Fatalf("page %q, want it to say the browser was not signed in", page.body)
	}
}

func TestSignOutPageForgetsTheOutcomeAfterAWhile(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.signIn(demoEmail)
	b.do(http.MethodPost, "/signout", sameOrigin)
	if page := b.get("/signout"); !strings.Contains(page.body, "Google confirmed") {
		t.Fatalf("right after signing out: %q", page.body)
	}
	e.clock.advance(session.SignOutLifetime + time.Second)
	if page := b.get("/signout"); !strings.Contains(page.body, "not signed in") || strings.Contains(page.body, "confirmed") {
		t.Fatalf("long after signing out: %q, want the plain signed-out page", page.body)
	}
}
