package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	oauthgmail "example.com/gcf-oauth-gmail"
	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

// TestEveryPageIsAccessibleAndFitsAPhoneInLightAndDark walks through every
// page a browser can reach, Google's (the emulator's) included, with the
// busy demo account (a long address, over a hundred labels), and inspects
// each one in light and dark color scheme, at 1000, 375 and 320 px: no
// axe-core violation, no horizontal scrolling, tap targets of 44 by 44 px.
// The pages of the app's functions come from its table of functions, opened
// signed in and signed out, so a new function joins the gallery by being in
// the table; the pages no plain visit reaches (Deny, a forged callback, a
// POST, Google's own error page, an unknown path) follow. The screenshots
// it saves are the gallery of the app's pages.
func TestEveryPageIsAccessibleAndFitsAPhoneInLightAndDark(t *testing.T) {
	axe := axeScript(t)
	s := newSession(t)
	busy := account(t, fakegoogle.BusyAccountEmail)
	g := &gallery{s: s, axe: axe, seen: map[string]string{}}

	// What a person types: the app's address, which leads to the sign-in.
	resp := s.open(s.app("/"))
	s.expectConsent("google-consent")
	g.add("google-consent", resp, http.StatusOK)
	consent := s.location()
	resp = s.allowAs(busy.Email)
	s.expectLabels("listlabels", resp, busy)
	g.add("listlabels", resp, http.StatusOK) // every nested label open: expectLabels opens them
	// The labels page as it first appears, nested labels folded, and the
	// search for one label among a hundred: the same page to the gallery's
	// key, so inspected under names of their own.
	for _, v := range []struct{ name, path string }{{"listlabels-folded", "/listlabels"}, {"listlabels-search", "/listlabels?q=Clients"}} {
		if resp := s.open(s.app(v.path)); resp.Status != http.StatusOK {
			t.Fatalf("%s: status %d", v.path, resp.Status)
		}
		s.see(v.name)
		s.inspect(v.name, axe)
	}

	// Each function as a person who is signed in meets it. One that needs
	// access not granted yet sends the browser to Google, where the busy
	// account allows it, and the function's own page follows.
	for _, f := range oauthgmail.Functions() {
		resp := s.open(s.app("/" + f.Name))
		if !g.atApp() {
			if !s.has("#allow") {
				s.saveFailure("find the consent page")
				t.Fatalf("/%s led to %s, a page of Google that is not the consent page", f.Name, s.location())
			}
			resp = s.allowAs(busy.Email)
		}
		g.add(g.functionPage(f.Name, ""), resp, 0)
	}

	s.open(s.app("/listlabels"))
	g.add("signed-out", s.signOut(), http.StatusOK)

	// And as a person who is not signed in, or no longer.
	for _, f := range oauthgmail.Functions() {
		resp := s.open(s.app("/" + f.Name))
		g.add(g.functionPage(f.Name, "-signed-out"), resp, 0)
	}

	// A callback that no sign-in of this browser started, as after the
	// login cookie expired.
	g.add("sign-in-expired", s.open(s.app("/oauth2callback?code=forged&state=forged")), http.StatusBadRequest)

	s.open(s.app("/oauth2init"))
	g.add("access-denied", s.press("click Deny", chromedp.Click(chromedp.ID("deny"))), http.StatusForbidden)

	g.add("method-not-allowed", s.submitPost(s.app("/listlabels")), http.StatusMethodNotAllowed)

	// An address that is no page of the app, as a mistyped link gives.
	g.add("not-found", s.open(s.app("/no-such-page")), http.StatusNotFound)

	// Google's page for a redirect URI its client does not have, which
	// repeats that URI: a long word to wrap.
	q := consent.Query()
	q.Set("redirect_uri", s.app("/oauth2callback/"+"a-redirect-uri-that-is-not-registered-for-this-client-and-is-long-enough-to-wrap"))
	mismatch := url.URL{Scheme: consent.Scheme, Host: consent.Host, Path: consent.Path, RawQuery: q.Encode()}
	g.add("google-error", s.open(mismatch.String()), http.StatusBadRequest)
}

// gallery is the pages TestEveryPageIsAccessibleAndFitsAPhoneInLightAndDark
// has inspected, each once.
type gallery struct {
	s    *session
	axe  string
	seen map[string]string // the name each page was inspected under, by pageKey
}

// add inspects the page shown as name, unless it is a page inspected
// already (as when a signed-out visit ends on Google's consent page). resp
// is the response that showed it, whose status must be of the class of
// want (2xx, 4xx; 0: any but 5xx), so that the page inspected is the one
// named.
func (g *gallery) add(name string, resp *network.Response, want int64) {
	s := g.s
	s.t.Helper()
	s.see(name)
	if ok := resp.Status/100 == want/100 || (want == 0 && resp.Status < 500); !ok {
		s.t.Fatalf("%s: status %d at %s; want %dxx", name, resp.Status, s.location(), want/100)
	}
	key := g.pageKey(resp)
	if first, ok := g.seen[key]; ok {
		s.t.Logf("%s: the same page as %s (%s)", name, first, key)
		return
	}
	g.seen[key] = name
	s.inspect(name, g.axe)
}

// pageKey tells pages apart: where the page is (host and path, not the
// query, which holds one-time values), its status and its heading.
func (g *gallery) pageKey(resp *network.Response) string {
	u := g.s.location()
	return fmt.Sprintf("%s%s %d %q", u.Host, u.Path, resp.Status, g.s.heading())
}

// atApp reports whether the page shown is the app's, not Google's.
func (g *gallery) atApp() bool {
	return g.s.location().Host == strings.TrimPrefix(g.s.demo.base, "http://")
}

// functionPage names the page shown after opening the function name: after
// the function whose path the browser is at (oauth2init leads a signed-in
// browser to its first page), else after name, and then suffix.
func (g *gallery) functionPage(name, suffix string) string {
	if g.atApp() {
		at := strings.TrimPrefix(g.s.location().Path, "/")
		for _, f := range oauthgmail.Functions() {
			if f.Name == at {
				return at + suffix
			}
		}
	}
	return name + suffix
}

// submitPost makes the page shown submit an empty form with POST to target,
// as a stale or hand-made form would, and returns the response of the page
// that follows.
func (s *session) submitPost(target string) *network.Response {
	s.t.Helper()
	js := `(() => {
		const f = document.createElement("form");
		f.method = "post";
		f.action = ` + strconv.Quote(target) + `;
		document.body.append(f);
		f.submit();
		return true;
	})()`
	return s.press("submit a POST form to "+target, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](js)(ctx, t)
		return err
	}))
}
