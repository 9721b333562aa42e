package oauthgmail

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/calendar/v3"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/session"
)

// withListCalendars adds ListCalendars (example_test.go) to the app and
// Calendar's calendarList.list to the emulator.
func withListCalendars(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t, func(c *envConfig) { c.functions = append(Functions(), listCalendarsFunction) })
	emulateCalendarList(e.google)
	return e
}

func TestASignInReturnsToTheFunctionThatAskedForIt(t *testing.T) {
	e := withListCalendars(t)
	b := e.newBrowser()
	first := b.get("/listcalendars")
	if first.status != http.StatusFound || first.location() != "/oauth2init?next=listcalendars" {
		t.Fatalf("listcalendars without a session: %d %q, want 302 /oauth2init?next=listcalendars", first.status, first.location())
	}
	auth := b.get(first.location())
	callback := b.get(b.consent(auth.location(), demoEmail))
	if callback.status != http.StatusFound || callback.location() != "/listcalendars" {
		t.Fatalf("callback: %d %q, want 302 /listcalendars", callback.status, callback.location())
	}
	if r := b.get("/listcalendars"); r.status != http.StatusOK || !strings.Contains(r.body, "Holidays") {
		t.Fatalf("listcalendars after sign-in: %d %q", r.status, r.body)
	}
	// Signed in, oauth2init goes straight to the function asked for.
	if r := b.get("/oauth2init?next=listcalendars"); r.status != http.StatusFound || r.location() != "/listcalendars" {
		t.Fatalf("oauth2init?next=listcalendars when signed in: %d %q", r.status, r.location())
	}
}

// TestEveryFunctionSendsTheBrowserToSignInAndBackToItself checks, for
// every function of the table that acts for the user, that without a
// session it asks oauth2init to come back to it.
func TestEveryFunctionSendsTheBrowserToSignInAndBackToItself(t *testing.T) {
	e := withListCalendars(t)
	for _, f := range e.app.functions {
		if f.Call == nil {
			continue
		}
		want := "/oauth2init?next=" + f.Name
		if f.Name == e.app.home {
			want = "/oauth2init"
		}
		if r := e.newBrowser().get("/" + f.Name); r.status != http.StatusFound || r.location() != want {
			t.Errorf("%s without a session: %d %q, want 302 %s", f.Name, r.status, r.location(), want)
		}
	}
}

func TestASignInReturnsOnlyToTheAppsOwnFunctions(t *testing.T) {
	e := withListCalendars(t)
	for _, next := range []string{"", "//evil.example", "https://evil.example/listcalendars", "/listcalendars", "oauth2init", "oauth2callback", "signout", "listcalendars/../x", "LISTCALENDARS", "listlabels"} {
		b := e.newBrowser()
		callback := b.get(b.consent(b.get("/oauth2init?next="+url.QueryEscape(next)).location(), demoEmail))
		if callback.status != http.StatusFound || callback.location() != "/listlabels" {
			t.Errorf("next=%q: callback %d %q, want 302 /listlabels", next, callback.status, callback.location())
		}
	}
}

func TestAGoogleRefusalForAMissingScopeAsksForConsentAgain(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.signIn(demoEmail)
	e.google.FailGmail(fakegoogle.Fault{Status: http.StatusForbidden, Reason: "insufficientPermissions"})
	r := b.get("/listlabels")
	if r.status != http.StatusForbidden || !strings.Contains(r.body, `href="/oauth2init"`) {
		t.Fatalf("status %d body %q, want a 403 page leading to /oauth2init", r.status, r.body)
	}
	if c := r.cookie(sessionCookie); c == nil || c.MaxAge >= 0 {
		t.Fatal("the session was not cleared")
	}
	e.google.ClearFaults()
	// The next sign-in shows the consent screen, instead of a session
	// that leads back to the same refusal.
	auth, _ := url.Parse(b.startSignIn())
	if auth.Query().Get("prompt") != "consent" {
		t.Fatalf("sign-in after the refusal: %s, want prompt=consent", auth.RawQuery)
	}
	callback := b.get(b.consent(auth.String(), demoEmail))
	if c := callback.cookie(consentCookie); callback.location() != "/listlabels" || c == nil || c.MaxAge >= 0 {
		t.Fatalf("callback %d %q; want /listlabels and the consent marker cleared", callback.status, callback.location())
	}
	b.setCookie(sessionCookie, "signed-out")
	if auth, _ := url.Parse(b.startSignIn()); auth.Query().Get("prompt") != "" {
		t.Fatalf("a later sign-in still asks for consent: %s", auth.RawQuery)
	}
}

func TestACallbackWithoutEveryScopeKeepsNothingAndOffersToChooseAgain(t *testing.T) {
	e := withListCalendars(t)
	b := e.newBrowser()
	authURL := b.startSignIn()
	// The person unticks Gmail on the consent screen.
	callback, err := e.google.ApproveScopes(authURL, demoEmail, []string{calendar.CalendarReadonlyScope})
	if err != nil {
		t.Fatal(err)
	}
	secretsBefore := len(e.google.Secrets())
	r := b.get(callback.String())
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "View your email messages and settings") || !strings.Contains(r.body, `href="/oauth2init"`) {
		t.Fatalf("status %d body %q, want 403 naming the missing access and linking /oauth2init", r.status, r.body)
	}
	if c := r.cookie(sessionCookie); c != nil && c.MaxAge > 0 {
		t.Fatal("a session was kept without the scopes the app needs")
	}
	issued := e.google.Secrets()[secretsBefore:]
	if len(issued) == 0 || !e.google.IsRevoked(issued[0]) {
		t.Errorf("the partial token was not given back to Google")
	}
	if auth, _ := url.Parse(b.startSignIn()); auth.Query().Get("prompt") != "consent" {
		t.Fatalf("the next sign-in does not ask for consent: %s", auth.RawQuery)
	}
}

func TestGrantedScopesReadTheTokenResponse(t *testing.T) {
	asked := []string{"a", "b"}
	tests := []struct {
		name  string
		extra map[string]any
		want  string // the scopes of asked that were not granted
	}{
		{"no scope field: what was asked", nil, ""},
		{"all granted, in another order", map[string]any{"scope": "b a"}, ""},
		{"more than asked", map[string]any{"scope": "a b c"}, ""},
		{"one missing", map[string]any{"scope": "a"}, "b"},
		{"empty", map[string]any{"scope": ""}, "a b"},
		{"not a string", map[string]any{"scope": 42}, "a b"},
	}
	for _, tt := range tests {
		tok := (&oauth2.Token{AccessToken: "x"}).WithExtra(tt.extra)
		if got := strings.Join(missingScopes(asked, grantedScopes(tok, asked)), " "); got != tt.want {
			t.Errorf("%s: missing %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestOAuth2InitMovesToTheRedirectURLsHostFirst(t *testing.T) {
	e := newTestEnv(t)
	port := e.server.URL[strings.LastIndex(e.server.URL, ":")+1:]
	e.useTransport(map[string]string{"REDIRECT_URL": "http://localhost:" + port + "/oauth2callback"})
	e.google.AllowRedirectURI("http://localhost:" + port + "/oauth2callback")
	b := e.newBrowser() // at 127.0.0.1
	r := b.get("/oauth2init?next=listlabels&x=1")
	if r.status != http.StatusFound || r.location() != "http://localhost:"+port+"/oauth2init?next=listlabels&x=1&moved=1" {
		t.Fatalf("oauth2init at 127.0.0.1: %d %q, want 302 to the same path and query at localhost, marked moved=1", r.status, r.location())
	}
	if len(r.cookies) != 0 {
		t.Fatalf("cookies set before moving to the redirect URL's host: %v", r.cookies)
	}
	local := e.newBrowser()
	local.base = "http://localhost:" + port
	if r := local.get("/oauth2init"); r.status != http.StatusFound || !strings.HasPrefix(r.location(), e.googleURL) {
		t.Fatalf("oauth2init at localhost: %d %q, want 302 to Google", r.status, r.location())
	}
}

func TestSameHostIgnoresCaseAndDefaultPorts(t *testing.T) {
	tests := []struct {
		request, scheme, redirect string
		want                      bool
	}{
		{"r-p.cloudfunctions.net", "https", "r-p.cloudfunctions.net", true},
		{"R-P.CloudFunctions.net", "https", "r-p.cloudfunctions.net", true},
		{"r-p.cloudfunctions.net:443", "https", "r-p.cloudfunctions.net", true},
		{"r-p.cloudfunctions.net", "https", "r-p.cloudfunctions.net:443", true},
		{"localhost:8080", "http", "localhost:8080", true},
		{"localhost", "http", "localhost:80", true},
		{"127.0.0.1:8080", "http", "localhost:8080", false},
		{"localhost:8081", "http", "localhost:8080", false},
		{"oauth2init-abc-ew.a.run.app", "https", "r-p.cloudfunctions.net", false},
		{"[::1]:8080", "http", "[::1]:8080", true},
	}
	for _, tt := range tests {
		if got := sameHost(tt.request, tt.scheme, tt.redirect); got != tt.want {
			t.Errorf("sameHost(%q, %q, %q) = %v, want %v", tt.request, tt.scheme, tt.redirect, got, tt.want)
		}
	}
}

func TestEveryResponseOverHTTPSCarriesHSTS(t *testing.T) {
	e := newTestEnv(t)
	vars := appVars("https://r-p.cloudfunctions.net", e.googleURL, e.google.Options(), nil)
	a := buildApp(t, vars, appOptions{})
	for _, f := range a.functions {
		for _, method := range []string{http.MethodGet, http.MethodDelete} {
			req := httptest.NewRequest(method, "https://r-p.cloudfunctions.net/"+f.Name, nil)
			rec := newRecorder()
			a.handler(f.Name).ServeHTTP(rec, req)
			hsts := rec.Header().Get("Strict-Transport-Security")
			var maxAge int
			if _, err := fmt.Sscanf(hsts, "max-age=%d", &maxAge); err != nil || maxAge < 180*24*3600 {
				t.Errorf("%s /%s: status %d, Strict-Transport-Security %q, want a max-age of at least 180 days", method, f.Name, rec.Code, hsts)
			}
		}
	}
	// Not over plain http.
	rec := newRecorder()
	e.handler("oauth2init").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, e.server.URL+"/oauth2init", nil))
	if got := rec.Header().Get("Strict-Transport-Security"); got != "" {
		t.Errorf("over http: Strict-Transport-Security %q", got)
	}
}

func TestASessionSealedWithThePreviousKeyIsReissuedUnderTheCurrentOne(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.signIn(demoEmail) // sealed with testKey
	newKey := strings.Repeat("N", 43)
	e.useTransport(map[string]string{"COOKIE_SECRET": newKey, "COOKIE_SECRET_PREVIOUS": testKey})
	r := b.get("/listlabels")
	if r.status != http.StatusOK {
		t.Fatalf("listlabels after the rotation: status %d, want 200", r.status)
	}
	if c := r.cookie(sessionCookie); c == nil || c.MaxAge <= 0 {
		t.Fatal("the session was not written again under the new key")
	}
	// After the next rotation the first key is gone, and the session still
	// works because it was written again.
	e.useTransport(map[string]string{"COOKIE_SECRET": strings.Repeat("M", 43), "COOKIE_SECRET_PREVIOUS": newKey})
	if r := b.get("/listlabels"); r.status != http.StatusOK {
		t.Fatalf("listlabels after a second rotation: status %d, want 200", r.status)
	}
	if r := b.get("/listlabels"); r.cookie(sessionCookie) != nil {
		t.Fatal("a session already under the current key was written again")
	}
}

func TestDiscardedSessionsHaveTheirRefreshTokenRevoked(t *testing.T) {
	refreshTokenOf := func(b *browser) string {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: b.cookieValue(sessionCookie)})
		s, err := b.env.app.store.Session(req)
		if err != nil && err != session.ErrExpired {
			b.t.Fatal(err)
		}
		return s.Token.RefreshToken
	}
	t.Run("expired", func(t *testing.T) {
		for _, visit := range []string{"/listlabels", "/oauth2init"} {
			e := newTestEnv(t, func(c *envConfig) { c.vars["ACCESS_TYPE"] = "offline" })
			b := e.newBrowser()
			b.signIn(demoEmail)
			rt := refreshTokenOf(b)
			e.clock.advance(session.SessionLifetime + time.Minute)
			if r := b.get(visit); r.status != http.StatusFound {
				t.Fatalf("%s with an expired session: status %d", visit, r.status)
			}
			if !e.google.IsRevoked(rt) {
				t.Errorf("%s: the expired session's refresh token was not revoked", visit)
			}
		}
	})
	t.Run("replaced by another account's sign-in", func(t *testing.T) {
		e := newTestEnv(t, func(c *envConfig) { c.vars["ACCESS_TYPE"] = "offline" })
		b := e.newBrowser()
		b.signIn(demoEmail)
		old := refreshTokenOf(b)
		// "Use another account": Google's account chooser, then bob.
		r := b.get("/oauth2init?account=choose")
		auth, _ := url.Parse(r.location())
		if auth.Query().Get("prompt") != "select_account consent" {
			t.Fatalf("switching accounts: prompt %q, want Google's account chooser (and consent, for a refresh token)", auth.Query().Get("prompt"))
		}
		if r := b.get(b.consent(r.location(), "bob@example.org")); r.status != http.StatusFound {
			t.Fatalf("second sign-in: status %d", r.status)
		}
		if refreshTokenOf(b) == old || !e.google.IsRevoked(old) {
			t.Fatal("the replaced session's refresh token was not revoked")
		}
		if r := b.get("/listlabels"); !strings.Contains(r.body, "bob@example.org") || strings.Contains(r.body, demoEmail) {
			t.Fatalf("after switching, the page does not name bob alone: %q", r.body)
		}
	})
	t.Run("the same account signing in again", func(t *testing.T) {
		e := newTestEnv(t, func(c *envConfig) { c.vars["ACCESS_TYPE"] = "offline" })
		b := e.newBrowser()
		b.signIn(demoEmail)
		old := refreshTokenOf(b)
		if r := b.get(b.consent(b.get("/oauth2init?account=choose").location(), demoEmail)); r.status != http.StatusFound {
			t.Fatalf("second sign-in: status %d", r.status)
		}
		// Revoking a token of the account's grant would end the new
		// session's access too.
		if e.google.IsRevoked(old) || e.google.IsRevoked(refreshTokenOf(b)) {
			t.Fatal("signing in again as the same account revoked its grant")
		}
	})
}

func TestEveryPageOfASignedInPersonNamesTheAccountAndOffersAnother(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.signIn(demoEmail)
	visits := []struct {
		name string
		do   func() response
	}{
		{"labels", func() response { return b.get("/listlabels") }},
		{"sign-out page", func() response { return b.get("/signout") }},
		{"callback with no sign-in", func() response { return b.get("/oauth2callback") }},
		{"a method not answered", func() response { return b.do(http.MethodDelete, "/listlabels", nil) }},
		{"Gmail failing", func() response {
			e.google.FailGmail(fakegoogle.Fault{Status: http.StatusInternalServerError})
			defer e.google.ClearFaults()
			return b.get("/listlabels")
		}},
	}
	for _, v := range visits {
		r := v.do()
		if !strings.Contains(r.body, `<strong id="account">`+demoEmail+`</strong>`) || !strings.Contains(r.body, `href="/oauth2init?account=choose"`) {
			t.Errorf("%s (status %d): the page does not name %s and offer another account: %q", v.name, r.status, demoEmail, r.body)
		}
	}
	// Google's account chooser, on the sign-in it starts.
	if auth, _ := url.Parse(b.get("/oauth2init?account=choose").location()); auth.Query().Get("prompt") != "select_account" {
		t.Errorf("Use another account: prompt %q, want select_account", auth.Query().Get("prompt"))
	}
	if r := e.newBrowser().get("/oauth2callback"); strings.Contains(r.body, `id="account"`) {
		t.Error("a page for a browser that is not signed in names an account")
	}
}
