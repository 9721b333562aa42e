package browsertest

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

// TestEveryPageIsAccessibleAndFitsAPhoneInLightAndDark walks through every
// page a browser can reach, Google's (the emulator's) included, with the
// busy demo account (a long address, over a hundred labels), and inspects
// each one in light and dark color scheme, at 1000, 375 and 320 px: no
// axe-core violation, no horizontal scrolling, tap targets of 44 by 44 px.
// The screenshots it saves are the gallery of the app's pages.
func TestEveryPageIsAccessibleAndFitsAPhoneInLightAndDark(t *testing.T) {
	axe := axeScript(t)
	s := newSession(t)
	s.clearScreenshots()
	busy := account(t, fakegoogle.BusyAccountEmail)

	// reached checks the page reached as name: its basic facts, and a
	// status of the class of want (2xx, 4xx; 0: any but 5xx), so that the
	// page inspected is the one named.
	reached := func(name string, resp *network.Response, want int64) {
		t.Helper()
		s.see(name)
		if ok := resp.Status/100 == want/100 || (want == 0 && resp.Status < 500); !ok {
			t.Fatalf("%s: status %d at %s; want %dxx", name, resp.Status, s.location(), want/100)
		}
	}

	s.open(s.app("/oauth2init"))
	s.expectConsent("google-consent")
	s.inspect("google-consent", axe)
	consent := s.location()

	// Every nested label shown (expectLabels opens every folded list),
	// then the page as it first appears, nested labels folded.
	s.expectLabels("labels-expanded", s.allowAs(busy.Email), busy)
	s.inspect("labels-expanded", axe)
	reached("labels", s.open(s.app("/listlabels")), http.StatusOK)
	s.inspect("labels", axe)
	reached("labels-search", s.open(s.app("/listlabels?q=Clients")), http.StatusOK)
	s.inspect("labels-search", axe)

	// What GET /signout shows a browser that is signed in: a page with a
	// Sign out button, or the method-not-allowed page where sign-out is
	// POST only.
	reached("signout-signed-in", s.open(s.app("/signout")), 0)
	s.inspect("signout-signed-in", axe)

	s.open(s.app("/listlabels"))
	reached("signed-out", s.signOut(), http.StatusOK)
	s.inspect("signed-out", axe)

	// A callback that no sign-in of this browser started, as after the
	// login cookie expired.
	reached("sign-in-expired", s.open(s.app("/oauth2callback?code=forged&state=forged")), http.StatusBadRequest)
	s.inspect("sign-in-expired", axe)

	s.open(s.app("/oauth2init"))
	reached("access-denied", s.press("click Deny", chromedp.Click(chromedp.ID("deny"))), http.StatusForbidden)
	s.inspect("access-denied", axe)

	reached("method-not-allowed", s.submitPost(s.app("/listlabels")), http.StatusMethodNotAllowed)
	s.inspect("method-not-allowed", axe)

	// Google's page for a redirect URI its client does not have, which
	// repeats that URI: a long word to wrap.
	q := consent.Query()
	q.Set("redirect_uri", s.app("/oauth2callback/"+"a-redirect-uri-that-is-not-registered-for-this-client-and-is-long-enough-to-wrap"))
	mismatch := url.URL{Scheme: consent.Scheme, Host: consent.Host, Path: consent.Path, RawQuery: q.Encode()}
	reached("google-error", s.open(mismatch.String()), http.StatusBadRequest)
	s.inspect("google-error", axe)
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
