package oauthgmail

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/session"
)

func accountLabels(t *testing.T, e *testEnv, email string) []fakegoogle.Label {
	t.Helper()
	a, ok := fakegoogle.FindAccount(e.google.Options().Accounts, email)
	if !ok {
		t.Fatalf("no account %s", email)
	}
	return a.Labels
}

func TestListLabelsShowsEveryLabelEscaped(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	const email = "mallory@example.com" // has labels with markup in their names
	b.signIn(email)
	r := b.get("/listlabels")
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %q", r.status, r.body)
	}
	labels := accountLabels(t, e, email)
	if want := fmt.Sprintf("%d label(s) found", len(labels)); !strings.Contains(r.body, want) {
		t.Errorf("page lacks %q", want)
	}
	shown := listItems(t, r.body)
	for _, l := range labels {
		if want := shownAs(l.Name, l.Type); !slices.Contains(shown, want) {
			t.Errorf("page does not show label %q as text; it shows %q", want, shown)
		}
	}
	if strings.Contains(r.body, "<img") {
		t.Error("a label name was rendered as markup")
	}
	// System labels keep their API names, as the value of their data element.
	for _, l := range labels {
		if l.Type == "system" && !strings.Contains(r.body, `<data value="`+l.Name+`">`) {
			t.Errorf("page lacks the API name of system label %s", l.Name)
		}
	}
}

// shownAs is the text the labels page shows for a label: the display name
// of a system label, any other label's own name.
func shownAs(name, typ string) string {
	if typ == "system" {
		return cmp.Or(systemLabelNames[name], name)
	}
	return name
}

// listItems returns the text of every <li> of an HTML page, as a browser
// would show it to a screen reader: that of its link when it has one (a
// nested label's item also holds its nested labels).
func listItems(t testing.TB, page string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("page is not HTML: %v", err)
	}
	var items []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "li" {
			continue
		}
		item := n
		for c := range n.ChildNodes() {
			if c.Type == html.ElementNode && c.Data == "a" {
				item = c
				break
			}
		}
		var text strings.Builder
		for d := range item.Descendants() {
			if d.Type == html.TextNode {
				text.WriteString(d.Data)
			}
		}
		items = append(items, text.String())
	}
	return items
}

func TestListLabelsAnswersJSONWhenAsked(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.signIn(demoEmail)
	r := b.do(http.MethodGet, "/listlabels", http.Header{"Accept": {"application/json"}})
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d type %q, want 200 JSON", r.status, r.header.Get("Content-Type"))
	}
	var got struct {
		Labels []fakegoogle.Label `json:"labels"`
	}
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	want := accountLabels(t, e, demoEmail)
	if len(got.Labels) != len(want) {
		t.Fatalf("%d labels, want %d", len(got.Labels), len(want))
	}
	for i := range want {
		if got.Labels[i].ID != want[i].ID || got.Labels[i].Name != want[i].Name || got.Labels[i].Type != want[i].Type {
			t.Errorf("label %d = %+v, want %+v as Gmail returned it", i, got.Labels[i], want[i])
		}
	}
}

func TestTheFlowWorksWithGmailEndpointAndRevokeURLInstead(t *testing.T) {
	// GMAIL_ENDPOINT (the contract's setting) reroutes Gmail only; the
	// token endpoint comes from the client secret and revocation from
	// REVOKE_URL, as an operator would set them without GOOGLE_API_ENDPOINT.
	e := newTestEnv(t)
	e.useTransport(map[string]string{
		"GOOGLE_API_ENDPOINT": "",
		"GMAIL_ENDPOINT":      e.googleURL,
		"REVOKE_URL":          e.googleURL + fakegoogle.RevokePath,
	})
	b := e.newBrowser()
	b.signIn(demoEmail)
	if r := b.get("/listlabels"); r.status != http.StatusOK || e.google.Stats().GmailRequests != 1 {
		t.Fatalf("listlabels: status %d after %d Gmail requests, want 200 after 1", r.status, e.google.Stats().GmailRequests)
	}
	if r := b.do(http.MethodPost, "/signout", http.Header{"Sec-Fetch-Site": {"same-origin"}}); r.status != http.StatusSeeOther || e.google.Stats().Revocations != 1 {
		t.Fatalf("signout: status %d after %d revocations, want 303 after 1", r.status, e.google.Stats().Revocations)
	}
}

func TestPageAsksGmailOnlyForNamesAndTypesAndJSONForEverything(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.signIn(demoEmail)
	if r := b.get("/listlabels"); r.status != http.StatusOK {
		t.Fatalf("page: status %d", r.status)
	}
	if r := b.do(http.MethodGet, "/listlabels", http.Header{"Accept": {"application/json"}}); r.status != http.StatusOK {
		t.Fatalf("JSON: status %d", r.status)
	}
	want := map[string]int{labelsFields: 1, "": 1}
	if got := e.google.Stats().LabelsFields; !maps.Equal(got, want) {
		t.Errorf("Gmail saw fields %v, want %v", got, want)
	}
}

func TestWantsJSONNegotiatesAccept(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"application/json", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
		{"application/json, text/html;q=0.5", true},
		{"text/html, application/json;q=0.5", false},
		{"application/json;q=0", false},
		{"APPLICATION/JSON", true},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept", tt.accept)
		if got := wantsJSON(r); got != tt.want {
			t.Errorf("wantsJSON(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

func TestListLabelsSendsUnusableSessionsToSignIn(t *testing.T) {
	tests := []struct {
		name   string
		spoil  func(e *testEnv, b *browser)
		signIn bool
	}{
		{"no session", func(e *testEnv, b *browser) {}, false},
		{"tampered", func(e *testEnv, b *browser) {
			v := b.cookieValue(sessionCookie)
			b.setCookie(sessionCookie, v[:len(v)-3]+"AAA")
		}, true},
		{"truncated", func(e *testEnv, b *browser) {
			v := b.cookieValue(sessionCookie)
			b.setCookie(sessionCookie, v[:len(v)/2])
		}, true},
		{"not base64", func(e *testEnv, b *browser) { b.setCookie(sessionCookie, "%%%") }, true},
		{"plain JSON token as in the 2018 tutorial", func(e *testEnv, b *browser) {
			b.setCookie(sessionCookie, url.QueryEscape(`{"access_token":"x","expiry_date":99999999999999}`))
		}, true},
		{"made under another key", func(e *testEnv, b *browser) {
			other := newTestEnv(t, func(c *envConfig) { c.vars["COOKIE_SECRET"] = strings.Repeat("B", 43) })
			ob := other.newBrowser()
			ob.signIn(demoEmail)
			b.setCookie(sessionCookie, ob.cookieValue(sessionCookie))
		}, true},
		{"expired without refresh token", func(e *testEnv, b *browser) {
			b.rewriteSession(func(s *session.Session) { s.Token.Expiry = time.Now().Add(-time.Minute) })
		}, true},
		{"older than the session lifetime", func(e *testEnv, b *browser) { e.clock.advance(25 * time.Hour) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			b := e.newBrowser()
			if tt.signIn {
				b.signIn(demoEmail)
			}
			tt.spoil(e, b)
			before := e.google.Stats().GmailRequests
			r := b.get("/listlabels")
			if r.status != http.StatusFound || r.location() != "/oauth2init" {
				t.Fatalf("status %d location %q, want 302 /oauth2init", r.status, r.location())
			}
			if tt.signIn {
				if c := r.cookie(sessionCookie); c == nil || c.MaxAge >= 0 {
					t.Error("the unusable session cookie was not cleared")
				}
			}
			if e.google.Stats().GmailRequests != before {
				t.Error("Gmail was called without a usable session")
			}
		})
	}
}

// rewriteSession changes the browser's session cookie as the app would
// write it, to simulate a session at another point of its life.
func (b *browser) rewriteSession(change func(*session.Session)) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: b.cookieValue(sessionCookie)})
	sess, err := b.env.app.store.Session(req)
	if err != nil {
		b.t.Fatalf("reading the session: %v", err)
	}
	change(&sess)
	rec := newRecorder()
	if err := b.env.app.store.SetSession(rec, sess); err != nil {
		b.t.Fatal(err)
	}
	b.setCookie(sessionCookie, rec.Result().Cookies()[0].Value)
}

func TestListLabelsRefreshesAnExpiredTokenOnce(t *testing.T) {
	e := newTestEnv(t, func(c *envConfig) { c.vars["ACCESS_TYPE"] = "offline" })
	b := e.newBrowser()
	b.signIn(demoEmail)
	b.rewriteSession(func(s *session.Session) { s.Token.Expiry = time.Now().Add(-time.Minute) })

	r := b.get("/listlabels")
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200", r.status)
	}
	if n := e.google.Stats().Refreshes; n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	if c := r.cookie(sessionCookie); c == nil || c.MaxAge <= 0 {
		t.Fatal("the session cookie was not re-issued with the new token")
	}
	if r2 := b.get("/listlabels"); r2.status != http.StatusOK || e.google.Stats().Refreshes != 1 {
		t.Fatalf("second request: status %d, %d refreshes; want 200 and still 1", r2.status, e.google.Stats().Refreshes)
	}
}

func TestListLabelsRefreshesOnceWhenGmailRejectsTheToken(t *testing.T) {
	e := newTestEnv(t, func(c *envConfig) { c.vars["ACCESS_TYPE"] = "offline" })
	b := e.newBrowser()
	b.signIn(demoEmail)
	e.google.ExpireAccessTokens()
	r := b.get("/listlabels")
	if r.status != http.StatusOK || e.google.Stats().Refreshes != 1 {
		t.Fatalf("status %d after %d refreshes, want 200 after 1", r.status, e.google.Stats().Refreshes)
	}
}

func TestListLabelsGivesUpAfterOneRefresh(t *testing.T) {
	e := newTestEnv(t, func(c *envConfig) { c.vars["ACCESS_TYPE"] = "offline" })
	b := e.newBrowser()
	b.signIn(demoEmail)
	e.google.FailGmail(fakegoogle.Fault{Status: http.StatusUnauthorized})
	r := b.get("/listlabels")
	if r.status != http.StatusFound || r.location() != "/oauth2init" {
		t.Fatalf("status %d location %q, want 302 /oauth2init", r.status, r.location())
	}
	if c := r.cookie(sessionCookie); c == nil || c.MaxAge >= 0 {
		t.Error("session not cleared")
	}
	if n := e.google.Stats().Refreshes; n != 1 {
		t.Errorf("%d refreshes, want exactly 1", n)
	}
}

func TestListLabelsWithoutRefreshTokenClearsTheSessionOn401(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.signIn(demoEmail)
	e.google.ExpireAccessTokens()
	r := b.get("/listlabels")
	if r.status != http.StatusFound || r.location() != "/oauth2init" || e.google.Stats().TokenRequests != 1 {
		t.Fatalf("status %d location %q token requests %d; want 302 /oauth2init and no refresh", r.status, r.location(), e.google.Stats().TokenRequests)
	}
}

func TestListLabelsSendsBackToSignInWhenTheRefreshTokenIsRevoked(t *testing.T) {
	e := newTestEnv(t, func(c *envConfig) { c.vars["ACCESS_TYPE"] = "offline" })
	b := e.newBrowser()
	b.signIn(demoEmail)
	b.rewriteSession(func(s *session.Session) { s.Token.Expiry = time.Now().Add(-time.Minute) })
	e.google.FailToken(fakegoogle.Fault{Status: 400, Reason: "invalid_grant"})
	r := b.get("/listlabels")
	if r.status != http.StatusFound || r.location() != "/oauth2init" {
		t.Fatalf("status %d location %q, want 302 /oauth2init", r.status, r.location())
	}
}

func TestListLabelsMapsGmailFailures(t *testing.T) {
	tests := []struct {
		name           string
		fault          fakegoogle.Fault
		wantStatus     int
		wantRetryAfter string
	}{
		{"permission", fakegoogle.Fault{Status: 403, Reason: "forbidden"}, http.StatusForbidden, ""},
		{"API not enabled", fakegoogle.Fault{Status: 403, Reason: "accessNotConfigured"}, http.StatusForbidden, ""},
		{"403 user rate limit", fakegoogle.Fault{Status: 403, Reason: "userRateLimitExceeded", RetryAfter: "17"}, http.StatusServiceUnavailable, "17"},
		{"403 rate limit", fakegoogle.Fault{Status: 403, Reason: "rateLimitExceeded"}, http.StatusServiceUnavailable, ""},
		{"429", fakegoogle.Fault{Status: 429, RetryAfter: "30"}, http.StatusServiceUnavailable, "30"},
		{"500", fakegoogle.Fault{Status: 500}, http.StatusBadGateway, ""},
		{"503", fakegoogle.Fault{Status: 503, RetryAfter: "5"}, http.StatusServiceUnavailable, "5"},
		{"malformed", fakegoogle.Fault{Malformed: true}, http.StatusBadGateway, ""},
		{"huge body", fakegoogle.Fault{HugeBody: 16 << 20}, http.StatusBadGateway, ""},
		{"hang", fakegoogle.Fault{Hang: true}, http.StatusGatewayTimeout, ""},
		{"404", fakegoogle.Fault{Status: 404}, http.StatusNotFound, ""},
		{"400", fakegoogle.Fault{Status: 400}, http.StatusBadRequest, ""},
		{"418", fakegoogle.Fault{Status: 418}, http.StatusBadGateway, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, func(c *envConfig) { c.vars["UPSTREAM_TIMEOUT"] = deadlineFor(tt.fault).String() })
			b := e.newBrowser()
			b.signIn(demoEmail)
			e.google.FailGmail(tt.fault)
			start := time.Now()
			r := b.get("/listlabels")
			if r.status != tt.wantStatus || r.header.Get("Retry-After") != tt.wantRetryAfter {
				t.Fatalf("status %d Retry-After %q, want %d %q; body %q", r.status, r.header.Get("Retry-After"), tt.wantStatus, tt.wantRetryAfter, r.body)
			}
			checkAnsweredWithinDeadline(t, tt.fault, time.Since(start))
			if !strings.Contains(r.body, "href=") {
				t.Error("error page offers no next step")
			}
			if c := r.cookie(sessionCookie); c != nil && c.MaxAge < 0 {
				t.Error("a transient Gmail failure cleared the session")
			}
		})
	}
}
