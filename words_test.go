package oauthgmail

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"example.com/gcf-oauth-gmail/internal/pages"
)

// TestPagesSayWhatHappenedInThePersonsWords checks the words of the pages a
// person meets when something did not go as planned: no error badge after
// their own choice, the right heading for a callback that no sign-in
// started, and titles that name the app and match the headings.
func TestPagesSayWhatHappenedInThePersonsWords(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()

	denied, err := e.google.Deny(b.startSignIn())
	if err != nil {
		t.Fatal(err)
	}
	r := b.get(denied.String())
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "You didn’t allow access") || strings.Contains(r.body, "Error 403") {
		t.Errorf("after Deny: status %d; want 403 explaining the choice without an error badge: %q", r.status, r.body)
	}

	// Opened directly, with no sign-in in progress.
	r = e.newBrowser().get("/oauth2callback?code=x&state=y")
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "No sign-in in progress") || strings.Contains(r.body, "timed out") {
		t.Errorf("a callback with no sign-in: status %d; want 400 saying no sign-in is in progress: %q", r.status, r.body)
	}
	// A login cookie past its time, as a browser whose clock runs behind
	// the app's still sends it, says the sign-in timed out.
	late := e.newBrowser()
	auth, _ := url.Parse(late.startSignIn())
	login := late.cookieValue(loginCookie)
	e.clock.advance(11 * time.Minute)
	late.setCookie(loginCookie, login)
	r = late.get("/oauth2callback?code=x&state=" + auth.Query().Get("state"))
	if !strings.Contains(r.body, "Your sign-in timed out") {
		t.Errorf("a callback after the login expired: %q, want it to say the sign-in timed out", r.body)
	}

	// Titles name the app, after what the heading says.
	for _, path := range []string{"/oauth2callback", "/signout"} {
		r := e.newBrowser().get(path)
		title := between(r.body, "<title>", "</title>")
		heading := between(r.body, `<h1 id="title">`, "</h1>")
		if title != heading+" – "+pages.AppName {
			t.Errorf("%s: title %q, want the heading %q and the app's name", path, title, heading)
		}
	}
}

// between returns the text of s between the first before and the after
// that follows it.
func between(s, before, after string) string {
	_, rest, _ := strings.Cut(s, before)
	text, _, _ := strings.Cut(rest, after)
	return text
}
