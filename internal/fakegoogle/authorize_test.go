package fakegoogle_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

func TestInvalidAuthorizationRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	tests := []struct {
		name     string
		mutate   func(q url.Values)
		code     string
		redirect bool // Google redirects to the app (else it shows a page)
		status   int  // of the page, when not redirecting
	}{
		{"missing client_id", func(q url.Values) { q.Del("client_id") }, "invalid_request", false, 400},
		{"unknown client_id", func(q url.Values) { q.Set("client_id", "other.apps.googleusercontent.com") }, "invalid_client", false, 401},
		{"missing redirect_uri", func(q url.Values) { q.Del("redirect_uri") }, "invalid_request", false, 400},
		{"redirect_uri not registered", func(q url.Values) { q.Set("redirect_uri", "https://evil.example.net/cb") }, "redirect_uri_mismatch", false, 400},
		{"redirect_uri differs by a slash", func(q url.Values) { q.Set("redirect_uri", callbackURL+"/") }, "redirect_uri_mismatch", false, 400},
		{"redirect_uri differs by query", func(q url.Values) { q.Set("redirect_uri", callbackURL+"?x=1") }, "redirect_uri_mismatch", false, 400},
		{"implicit flow", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type", true, 0},
		{"missing response_type", func(q url.Values) { q.Del("response_type") }, "invalid_request", true, 0},
		{"missing scope", func(q url.Values) { q.Del("scope") }, "invalid_request", true, 0},
		{"blank scope", func(q url.Values) { q.Set("scope", "  ") }, "invalid_request", true, 0},
		{"missing code_challenge", func(q url.Values) { q.Del("code_challenge") }, "invalid_request", true, 0},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request", true, 0},
		{"missing code_challenge_method", func(q url.Values) { q.Del("code_challenge_method") }, "invalid_request", true, 0},
		{"short code_challenge", func(q url.Values) { q.Set("code_challenge", "abc") }, "invalid_request", true, 0},
		{"bad access_type", func(q url.Values) { q.Set("access_type", "forever") }, "invalid_request", true, 0},
		{"bad prompt", func(q url.Values) { q.Set("prompt", "always") }, "invalid_request", true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, _, state := h.authURL()
			u := mustParse(t, raw)
			q := u.Query()
			tc.mutate(q)
			u.RawQuery = q.Encode()

			for _, decide := range []struct {
				name string
				call func(string) (*url.URL, error)
			}{
				{"Approve", func(s string) (*url.URL, error) { return h.srv.Approve(s, "alice@example.com") }},
				{"Deny", h.srv.Deny},
			} {
				cb, err := decide.call(u.String())
				var aerr *fakegoogle.AuthError
				if !errors.As(err, &aerr) {
					t.Fatalf("%s: err = %v (callback %v), want *AuthError %s", decide.name, err, cb, tc.code)
				}
				if cb != nil {
					t.Errorf("%s returned callback %v with an error", decide.name, cb)
				}
				if aerr.Code != tc.code || (aerr.Redirect != nil) != tc.redirect {
					t.Errorf("%s: AuthError %+v, want code %s, redirect %v", decide.name, aerr, tc.code, tc.redirect)
				}
				if tc.redirect {
					rq := aerr.Redirect.Query()
					if rq.Get("error") != tc.code || rq.Get("state") != state || !strings.HasPrefix(aerr.Redirect.String(), callbackURL+"?") {
						t.Errorf("%s: redirect %v, want %s with error=%s and the state", decide.name, aerr.Redirect, callbackURL, tc.code)
					}
				}
			}

			// The browser sees the same thing at the endpoint.
			res, err := h.noRedirect().Get(u.String())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if tc.redirect {
				loc, _ := url.Parse(res.Header.Get("Location"))
				if res.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("error") != tc.code || loc.Query().Get("state") != state {
					t.Errorf("GET: %d Location %q, want 302 to the app with error=%s", res.StatusCode, res.Header.Get("Location"), tc.code)
				}
				return
			}
			if res.StatusCode != tc.status || res.Header.Get("Location") != "" {
				t.Errorf("GET: %d Location %q, want a %d page and no redirect", res.StatusCode, res.Header.Get("Location"), tc.status)
			}
			if !strings.Contains(string(body), tc.code) {
				t.Errorf("GET: error page does not name %s:\n%s", tc.code, body)
			}
			if strings.Contains(string(body), "evil.example.net") && strings.Contains(string(body), "<a ") {
				t.Errorf("error page links to the unregistered redirect URI")
			}
		})
	}
}

func TestDenyRedirectsWithAccessDeniedAndState(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	u, _, state := h.authURL()
	cb, err := h.srv.Deny(u)
	if err != nil {
		t.Fatal(err)
	}
	q := cb.Query()
	if q.Get("error") != "access_denied" || q.Get("state") != state || q.Has("code") || len(q) != 2 {
		t.Errorf("deny callback = %v, want only error=access_denied and state", cb)
	}
	if got := h.srv.Stats(); got.Denials != 1 || got.Consents != 0 {
		t.Errorf("stats = %+v, want one denial and no consent", got)
	}
}

func TestApproveRejectsUnknownAccountAndForeignURLs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	u, _, _ := h.authURL()
	if _, err := h.srv.Approve(u, "nobody@example.net"); !errors.Is(err, fakegoogle.ErrUnknownAccount) {
		t.Errorf("unknown account: err = %v, want ErrUnknownAccount", err)
	}
	if _, err := h.srv.Approve(h.ts.URL+"/somewhere?"+mustParse(t, u).RawQuery, ""); err == nil {
		t.Errorf("a URL that is not the authorization endpoint was approved")
	}
	if _, err := h.srv.Approve("%zz", ""); err == nil {
		t.Errorf("an unparsable URL was approved")
	}
}

func TestRedirectURIsAddedLaterAreAllowed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	later := "http://127.0.0.1:9/oauth2callback"
	verifier := oauth2.GenerateVerifier()
	cfg := *h.cfg
	cfg.RedirectURL = later
	u := cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier))
	if _, err := h.srv.Approve(u, ""); err == nil {
		t.Fatalf("unregistered redirect URI accepted")
	}
	h.srv.AllowRedirectURI(later)
	cb, err := h.srv.Approve(u, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Exchange(h.ctx(), cb.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Errorf("Exchange with the added redirect URI: %v", err)
	}
	if got := h.srv.Options().RedirectURIs; len(got) != 2 || got[1] != later {
		t.Errorf("Options().RedirectURIs = %v", got)
	}
}
