package browsertest

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/pages"
)

// readonlyScopeWords is how the consent page describes gmail.readonly.
const readonlyScopeWords = "View your email messages and settings"

// consentFacts is what the consent page offers.
type consentFacts struct {
	Heading  string   `json:"heading"`
	Scopes   []string `json:"scopes"`
	Accounts []string `json:"accounts"` // values of the account radios, in order
	Choices  string   `json:"choices"`  // the rendered text of the account chooser
}

const consentFactsJS = `(() => ({
	heading: (document.querySelector("h1") || {textContent: ""}).textContent.trim(),
	scopes: Array.from(document.querySelectorAll("#scopes li, #scopes label"), e => e.textContent.trim()),
	accounts: Array.from(document.querySelectorAll('#consent input[type="radio"][name="account"]'), i => i.value),
	choices: (document.querySelector("#consent fieldset") || {innerText: ""}).innerText,
}))()`

// expectConsent checks that the page shown is the emulator's consent page
// asking for read access to Gmail for one of the demo accounts.
func (s *session) expectConsent(step string) {
	s.t.Helper()
	s.see(step)
	if u := s.location(); u.Host == strings.TrimPrefix(s.demo.base, "http://") {
		s.t.Fatalf("%s: the browser is at %s; want the Google emulator's consent page", step, u)
	}
	f := run(s, "read the consent page", chromedp.Evaluate[consentFacts](consentFactsJS))
	if !strings.Contains(f.Heading, pages.AppName) {
		s.t.Errorf("%s: heading %q; want it to name the app %q", step, f.Heading, pages.AppName)
	}
	if !slices.Contains(f.Scopes, readonlyScopeWords) {
		s.t.Errorf("%s: the page asks for %q; want %q", step, f.Scopes, readonlyScopeWords)
	}
	var want []string
	for _, a := range fakegoogle.DemoAccounts() {
		want = append(want, a.Email)
		if !strings.Contains(f.Choices, a.Email) || !strings.Contains(f.Choices, a.Name) {
			s.t.Errorf("%s: the account chooser shows %q; want it to show %s (%s)", step, f.Choices, a.Name, a.Email)
		}
	}
	if !slices.Equal(f.Accounts, want) {
		s.t.Errorf("%s: account radios %q; want %q", step, f.Accounts, want)
	}
}

// signIn goes from /oauth2init through the consent page as email and
// returns the response of the page Allow leads to.
func (s *session) signIn(email string) *network.Response {
	s.t.Helper()
	s.open(s.app("/oauth2init"))
	s.expectConsent("1-consent")
	return s.allowAs(email)
}

// allowAs chooses email on the consent page shown and presses Allow.
func (s *session) allowAs(email string) *network.Response {
	s.t.Helper()
	radio := chromedp.CSS(fmt.Sprintf(`#consent input[name="account"][value=%q]`, email))
	s.do("choose "+email, chromedp.Click(radio))
	if !run(s, "read whether "+email+" is chosen", chromedp.JavascriptAttribute[bool](radio, "checked")) {
		s.t.Fatalf("clicked the radio of %s, but it is not checked", email)
	}
	return s.press("click Allow", chromedp.Click(chromedp.ID("allow")))
}

// signOutButton is the button that submits a sign-out: a submit button of a
// form that posts to /signout.
const signOutButton = `form[method="post" i][action$="/signout"] button:not([type="button"]):not([type="reset"])`

// signOut presses the Sign out button of the page shown or, when it has
// none, of the page at GET /signout, and returns the response of the page
// that follows.
func (s *session) signOut() *network.Response {
	s.t.Helper()
	if !s.has(signOutButton) {
		s.open(s.app("/signout"))
		if !s.has(signOutButton) {
			s.saveFailure("find a Sign out button")
			s.t.Fatalf("neither the page shown nor /signout has a Sign out button (%s)", signOutButton)
		}
	}
	return s.press("click Sign out", chromedp.Click(chromedp.CSS(signOutButton)))
}

// has reports whether the page shown has an element matching selector.
func (s *session) has(selector string) bool {
	s.t.Helper()
	return run(s, "look for "+selector, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", selector)))
}

// heading returns the text of the page's h1.
func (s *session) heading() string {
	s.t.Helper()
	return strings.TrimSpace(run(s, "read the heading", chromedp.TextContent(chromedp.CSS("h1"))))
}

// mainText returns the text of the page's main content, as rendered.
func (s *session) mainText() string {
	s.t.Helper()
	return run(s, "read the page", chromedp.Evaluate[string](`(document.querySelector("main") || document.body).innerText`))
}

// labelItem is one label as the labels page shows it.
type labelItem struct {
	Text    string `json:"text"`
	HTML    string `json:"html"`
	Visible bool   `json:"visible"`
}

// labelItemsJS opens every folded section (nested labels, the labels Gmail
// hides) as a person would, then reads each label's link: its text is
// what a screen reader says, the full name of a nested label.
const labelItemsJS = `(() => {
	for (const d of document.querySelectorAll("main details")) d.open = true;
	return Array.from(document.querySelectorAll("main li"), li => {
		const a = li.querySelector(":scope > a") || li;
		return {
			text: a.textContent,
			html: a.innerHTML,
			visible: a.getClientRects().length > 0 && getComputedStyle(a).visibility === "visible",
		};
	});
})()`

// expectLabels checks that resp is the labels page of acct: it says how
// many labels there are, and shows every one of them,
// each user label under its exact name (system labels may be shown under a
// display name).
func (s *session) expectLabels(step string, resp *network.Response, acct fakegoogle.Account) []labelItem {
	s.t.Helper()
	s.see(step)
	if u := s.location(); resp.Status != http.StatusOK || u.Path != "/listlabels" {
		s.t.Fatalf("%s: status %d at %s; want 200 at /listlabels", step, resp.Status, u)
	}
	text := s.mainText()
	if want := fmt.Sprintf("%d label(s) found", len(acct.Labels)); !strings.Contains(text, want) {
		s.t.Errorf("%s: the page does not say %q (the number of %s's labels):\n%s", step, want, acct.Email, text)
	}
	items := run(s, "read the labels", chromedp.Evaluate[[]labelItem](labelItemsJS))
	shown := map[string]int{}
	for _, it := range items {
		shown[it.Text]++
		if !it.Visible {
			s.t.Errorf("%s: label %q is not visible", step, it.Text)
		}
	}
	for _, l := range acct.Labels {
		if l.Type == "user" && shown[l.Name] != 1 {
			s.t.Errorf("%s: user label %q is shown %d times; want exactly once, under its exact name", step, l.Name, shown[l.Name])
		}
	}
	if len(items) != len(acct.Labels) {
		s.t.Errorf("%s: the page lists %d labels; want %s's %d", step, len(items), acct.Email, len(acct.Labels))
	}
	return items
}

func TestAllowingBobShowsBobsLabels(t *testing.T) {
	s := newSession(t)
	bob := account(t, "bob@example.org")
	resp := s.signIn(bob.Email)
	s.expectLabels("2-labels", resp, bob)
}

func TestDenyingShowsAccessDeniedWithAWorkingTryAgainLink(t *testing.T) {
	s := newSession(t)
	s.open(s.app("/oauth2init"))
	s.expectConsent("1-consent")
	resp := s.press("click Deny", chromedp.Click(chromedp.ID("deny")))
	s.see("2-access-denied")
	if u := s.location(); resp.Status != http.StatusForbidden || u.Path != "/oauth2callback" {
		t.Errorf("after Deny: status %d at %s; want 403 at /oauth2callback", resp.Status, u)
	}
	if h := s.heading(); !regexp.MustCompile(`(?i)(didn['’]t|did not|not) allow`).MatchString(h) {
		t.Errorf("access-denied heading %q; want it to say that access was not allowed", h)
	}
	if text := s.mainText(); len(strings.TrimSpace(strings.Replace(text, s.heading(), "", 1))) < 20 {
		t.Errorf("access-denied page says only %q; want an explanation under the heading", text)
	}
	tryAgain := `main a[href="/oauth2init"]`
	if !s.has(tryAgain) {
		t.Fatalf("access-denied page: no link to /oauth2init; want one to try again")
	}
	s.press("click the link to try again", chromedp.Click(chromedp.CSS(tryAgain)))
	s.expectConsent("3-consent-again")
}

func TestSigningOutEndsTheSession(t *testing.T) {
	s := newSession(t)
	alice := account(t, "alice@example.com")
	s.expectLabels("2-labels", s.signIn(alice.Email), alice)

	resp := s.signOut()
	s.see("3-signed-out")
	if u := s.location(); resp.Status != http.StatusOK || u.Path != "/signout" {
		t.Errorf("after Sign out: status %d at %s; want 200 at /signout", resp.Status, u)
	}
	if h := s.heading(); !regexp.MustCompile(`(?i)signed out`).MatchString(h) {
		t.Errorf("signed-out page heading %q; want it to say you're signed out", h)
	}
	if !s.has(`main a[href="/oauth2init"]`) {
		t.Errorf("signed-out page: no link to /oauth2init; want one to sign in again")
	}

	// The session cookie is gone: the labels need a new sign-in.
	s.open(s.app("/listlabels"))
	s.expectConsent("4-listlabels-asks-consent-again")
}

func TestLabelNamesAreShownAsTextNotRunAsHTML(t *testing.T) {
	s := newSession(t)
	mallory := account(t, "mallory@example.com")
	if !slices.ContainsFunc(mallory.Labels, func(l fakegoogle.Label) bool { return l.Name == fakegoogle.XSSLabelName }) {
		t.Fatalf("the demo account %s has no label %q any more; this test needs it", mallory.Email, fakegoogle.XSSLabelName)
	}
	items := s.expectLabels("2-labels", s.signIn(mallory.Email), mallory)

	for _, name := range []string{fakegoogle.XSSLabelName, fakegoogle.QuotesLabelName, "Café ☕ / 日本語"} {
		i := slices.IndexFunc(items, func(it labelItem) bool { return it.Text == name })
		if i < 0 {
			t.Errorf("no label whose text is exactly %q; want it shown as text", name)
			continue
		}
		if strings.Contains(items[i].HTML, "<img") {
			t.Errorf("label %q is markup %q; want escaped text", name, items[i].HTML)
		}
	}
	if n := run(s, "count elements in the label lists", chromedp.Evaluate[int](
		`document.querySelectorAll("main li > a :not(data):not(.swatch):not(.vh), main li data *, main li .vh *, main img").length`)); n != 0 {
		t.Errorf("the labels page has %d element(s) inside label items or img elements; want none: a label name became HTML", n)
	}
	// The dialog listener and the console checks of newSession fail the
	// test if the onerror handler ran or a stylesheet was blocked.
}

// TestEveryPageHasLangTitleHeadingViewportAndItsStylesheet walks through
// every page of the app, one after the other in one browser: see checks
// each one (and every test checks every page it meets the same way); here
// the response must also carry the app's page headers.
func TestEveryPageHasLangTitleHeadingViewportAndItsStylesheet(t *testing.T) {
	s := newSession(t)
	steps := []struct {
		name       string
		do         func() *network.Response
		wantStatus int64
		wantPath   string // empty: the emulator's consent page
	}{
		{"1-consent", func() *network.Response { return s.open(s.app("/oauth2init")) }, http.StatusOK, ""},
		{"2-labels", func() *network.Response {
			return s.press("click Allow", chromedp.Click(chromedp.ID("allow")))
		}, http.StatusOK, "/listlabels"},
		{"3-signed-out", s.signOut, http.StatusOK, "/signout"},
		{"4-bad-callback", func() *network.Response {
			return s.open(s.app("/oauth2callback?code=forged&state=forged"))
		}, http.StatusBadRequest, "/oauth2callback"},
		{"5-consent-again", func() *network.Response { return s.open(s.app("/oauth2init")) }, http.StatusOK, ""},
		{"6-access-denied", func() *network.Response {
			return s.press("click Deny", chromedp.Click(chromedp.ID("deny")))
		}, http.StatusForbidden, "/oauth2callback"},
	}
	for _, step := range steps {
		resp := step.do()
		if step.wantPath == "" {
			s.expectConsent(step.name) // sees the page too
		} else {
			s.see(step.name)
		}
		u := s.location()
		if resp.Status != step.wantStatus {
			t.Errorf("%s: status %d at %s; want %d", step.name, resp.Status, u, step.wantStatus)
		}
		if step.wantPath == "" {
			continue
		}
		if u.Path != step.wantPath {
			t.Fatalf("%s: the browser is at %s; want path %s", step.name, u, step.wantPath)
		}
		for name, want := range map[string]string{
			"Content-Type":           "text/html; charset=utf-8",
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
		} {
			if got := header(resp, name); got != want {
				t.Errorf("%s: %s %q; want %q", step.name, name, got, want)
			}
		}
		if csp := header(resp, "Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: Content-Security-Policy %q; want default-src 'none' (no script)", step.name, csp)
		}
	}
}

func TestTheAppsAddressLeadsToTheSignInAndAMistypedOneToAPageWithTheWayBack(t *testing.T) {
	s := newSession(t)
	s.open(s.app("/"))
	s.expectConsent("1-consent-from-root")

	resp := s.open(s.app("/listlabel"))
	s.see("2-not-found")
	if resp.Status != http.StatusNotFound {
		t.Errorf("a mistyped address: status %d, want 404", resp.Status)
	}
	if csp := header(resp, "Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("the 404 page's Content-Security-Policy is %q; want the app's, with default-src 'none'", csp)
	}
	if h := s.heading(); !regexp.MustCompile(`(?i)not found`).MatchString(h) {
		t.Errorf("404 page heading %q; want it to say the page was not found", h)
	}
	start := `main a[href="/oauth2init"]`
	if !s.has(start) {
		t.Fatalf("404 page: no link to /oauth2init; want one to start")
	}
	s.press("click the link to start", chromedp.Click(chromedp.CSS(start)))
	s.expectConsent("3-consent-from-not-found")
}
