package fakegoogle_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

// retrieveError asserts err is an OAuth error with this code and status.
func retrieveError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want *oauth2.RetrieveError %s", err, code)
	}
	if re.ErrorCode != code || re.Response.StatusCode != status {
		t.Errorf("got %d %s (%s), want %d %s", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription, status, code)
	}
}

func TestCodeExchangeFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		exchange func(h *harness, cfg *oauth2.Config, code, verifier string, clock *fakeClock) error
		code     string
		status   int
	}{
		{
			name: "wrong verifier",
			exchange: func(h *harness, cfg *oauth2.Config, code, _ string, _ *fakeClock) error {
				_, err := cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
				return err
			},
			code: "invalid_grant", status: 400,
		},
		{
			name: "missing verifier",
			exchange: func(h *harness, cfg *oauth2.Config, code, _ string, _ *fakeClock) error {
				_, err := cfg.Exchange(h.ctx(), code)
				return err
			},
			code: "invalid_grant", status: 400,
		},
		{
			name: "expired code",
			exchange: func(h *harness, cfg *oauth2.Config, code, verifier string, clock *fakeClock) error {
				clock.Advance(5*time.Minute + time.Second)
				_, err := cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
				return err
			},
			code: "invalid_grant", status: 400,
		},
		{
			name: "unknown code",
			exchange: func(h *harness, cfg *oauth2.Config, _, verifier string, _ *fakeClock) error {
				_, err := cfg.Exchange(h.ctx(), "4/demo-made-up", oauth2.VerifierOption(verifier))
				return err
			},
			code: "invalid_grant", status: 400,
		},
		{
			name: "redirect_uri differs from the authorization request",
			exchange: func(h *harness, cfg *oauth2.Config, code, verifier string, _ *fakeClock) error {
				other := *cfg
				other.RedirectURL = "http://app.example.test/other"
				_, err := other.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
				return err
			},
			code: "invalid_grant", status: 400,
		},
		{
			name: "wrong client secret",
			exchange: func(h *harness, cfg *oauth2.Config, code, verifier string, _ *fakeClock) error {
				other := *cfg
				other.ClientSecret = "not-the-secret"
				_, err := other.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
				return err
			},
			code: "invalid_client", status: 401,
		},
		{
			name: "unknown client",
			exchange: func(h *harness, cfg *oauth2.Config, code, verifier string, _ *fakeClock) error {
				other := *cfg
				other.ClientID = "someone-else.apps.googleusercontent.com"
				_, err := other.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
				return err
			},
			code: "invalid_client", status: 401,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			h := newHarness(t, fakegoogle.Options{Now: clock.Now})
			u, verifier, state := h.authURL()
			code := h.approve(u, "", state)
			retrieveError(t, tc.exchange(h, h.cfg, code, verifier, clock), tc.code, tc.status)
			if got := h.srv.Stats().CodeExchanges; got != 0 {
				t.Errorf("CodeExchanges = %d after a failed exchange", got)
			}
		})
	}
}

func TestFailedVerifierDoesNotBurnTheCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	u, verifier, state := h.authURL()
	code := h.approve(u, "", state)
	_, err := h.cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	retrieveError(t, err, "invalid_grant", 400)
	if _, err := h.cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier)); err != nil {
		t.Errorf("exchange with the right verifier after a wrong one: %v", err)
	}
}

func TestReusedCodeFailsAndRevokesItsTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	u, verifier, state := h.authURL()
	code := h.approve(u, "alice@example.com", state)
	tok, err := h.cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.gmail(tok).Users.Labels.List("me").Do(); err != nil {
		t.Fatalf("labels before the replay: %v", err)
	}

	_, err = h.cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
	retrieveError(t, err, "invalid_grant", 400)

	if !h.srv.IsRevoked(tok.AccessToken) || !h.srv.IsRevoked(tok.RefreshToken) {
		t.Errorf("tokens from a replayed code are not revoked")
	}
	_, err = h.gmail(tok).Users.Labels.List("me").Do()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) || gerr.Code != 401 {
		t.Errorf("labels after the replay: err = %v, want 401", err)
	}
	stale := *tok
	stale.Expiry = time.Now().Add(-time.Minute)
	_, err = h.cfg.TokenSource(h.ctx(), &stale).Token()
	retrieveError(t, err, "invalid_grant", 400)
}

func TestRefreshAfterServerSideExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	tok := h.login("bob@example.org")

	h.srv.ExpireAccessTokens()
	_, err := h.gmail(tok).Users.Labels.List("me").Do()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) || gerr.Code != 401 || gerr.Errors[0].Reason != "authError" {
		t.Fatalf("labels with a server-side expired token: err = %v, want 401 authError", err)
	}

	stale := *tok
	stale.Expiry = time.Now().Add(-time.Second)
	fresh, err := h.cfg.TokenSource(h.ctx(), &stale).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || !strings.HasPrefix(fresh.AccessToken, "ya29.demo-") {
		t.Errorf("refresh gave access token %q", fresh.AccessToken)
	}
	if fresh.Extra("refresh_token") != nil {
		t.Errorf("refresh response repeated the refresh token, unlike Google")
	}
	if fresh.RefreshToken != tok.RefreshToken {
		t.Errorf("oauth2 lost the refresh token")
	}
	res, err := h.gmail(fresh).Users.Labels.List("me").Do()
	if err != nil {
		t.Fatalf("labels after refresh: %v", err)
	}
	if res.Labels[len(res.Labels)-1].Name != h.account("bob@example.org").Labels[len(res.Labels)-1].Name {
		t.Errorf("refreshed token reads another account")
	}
	if got := h.srv.Stats(); got.Refreshes != 1 || got.CodeExchanges != 1 {
		t.Errorf("stats = %+v, want 1 refresh and 1 code exchange", got)
	}
}

func TestAccessTokenExpiresWithTime(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, fakegoogle.Options{Now: clock.Now, AccessTokenLifetime: 10 * time.Minute})
	tok := h.login("")
	if got := tok.Extra("expires_in"); got != float64(600) {
		t.Errorf("expires_in = %v, want 600", got)
	}
	clock.Advance(10 * time.Minute)
	_, err := h.gmailWith(h.staticClient(tok.AccessToken)).Users.Labels.List("me").Do()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) || gerr.Code != 401 {
		t.Errorf("err = %v, want 401 after the lifetime", err)
	}
}

// postToken posts a raw form to the token endpoint.
func postToken(t *testing.T, h *harness, form url.Values, setup func(*http.Request)) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+fakegoogle.TokenPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if setup != nil {
		setup(req)
	}
	res, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("token endpoint answered non-JSON %q", b)
	}
	return res, body
}

func TestTokenEndpointClientAuthentication(t *testing.T) {
	t.Parallel()
	const id, secret = "id+with/odd:chars.apps.googleusercontent.com", "s3cr:et/+&=%"
	opts := fakegoogle.Options{ClientID: id, ClientSecret: secret}
	tests := []struct {
		name   string
		body   url.Values
		basic  *[2]string // raw user and password of the Authorization header
		status int
		error  string
	}{
		{"basic, url-encoded parts", nil, &[2]string{url.QueryEscape(id), url.QueryEscape(secret)}, 200, ""},
		{"secret in the body", url.Values{"client_id": {id}, "client_secret": {secret}}, nil, 200, ""},
		{"wrong secret in the body", url.Values{"client_id": {id}, "client_secret": {"nope"}}, nil, 401, "invalid_client"},
		{"wrong secret in basic", nil, &[2]string{url.QueryEscape(id), "nope"}, 401, "invalid_client"},
		{"unknown client", url.Values{"client_id": {"x"}, "client_secret": {secret}}, nil, 401, "invalid_client"},
		{"no client at all", nil, nil, 400, "invalid_request"},
		{"both methods", url.Values{"client_secret": {secret}}, &[2]string{url.QueryEscape(id), url.QueryEscape(secret)}, 400, "invalid_request"},
		{"basic and a different body client_id", url.Values{"client_id": {"x"}}, &[2]string{url.QueryEscape(id), url.QueryEscape(secret)}, 401, "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, opts)
			u, verifier, state := h.authURL()
			code := h.approve(u, "", state)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callbackURL}, "code_verifier": {verifier}}
			for k, v := range tc.body {
				form[k] = v
			}
			res, body := postToken(t, h, form, func(r *http.Request) {
				if tc.basic != nil {
					r.SetBasicAuth(tc.basic[0], tc.basic[1])
				}
			})
			if res.StatusCode != tc.status || (tc.error != "" && body["error"] != tc.error) {
				t.Fatalf("got %d %v, want %d %s", res.StatusCode, body, tc.status, tc.error)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			if tc.status == 200 {
				if body["token_type"] != "Bearer" || body["scope"] == nil || body["expires_in"] != float64(3600) ||
					!strings.HasPrefix(body["access_token"].(string), "ya29.demo-") || body["id_token"] != nil {
					t.Errorf("token response = %v", body)
				}
			}
			if tc.status == 401 && tc.basic != nil && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("401 to Basic auth without a Basic challenge")
			}
		})
	}
}

func TestTokenEndpointRejectsBadRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	creds := url.Values{"client_id": {h.cfg.ClientID}, "client_secret": {h.cfg.ClientSecret}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range creds {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		error  string
	}{
		{"unsupported grant", with("grant_type", "password", "username", "a", "password", "b"), 400, "unsupported_grant_type"},
		{"client credentials grant", with("grant_type", "client_credentials"), 400, "unsupported_grant_type"},
		{"missing grant_type", with(), 400, "invalid_request"},
		{"missing code", with("grant_type", "authorization_code"), 400, "invalid_request"},
		{"missing refresh token", with("grant_type", "refresh_token"), 400, "invalid_request"},
		{"unknown refresh token", with("grant_type", "refresh_token", "refresh_token", "1//demo-unknown"), 400, "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := postToken(t, h, tc.form, nil)
			if res.StatusCode != tc.status || body["error"] != tc.error {
				t.Errorf("got %d %v, want %d %s", res.StatusCode, body, tc.status, tc.error)
			}
		})
	}
	t.Run("wrong content type", func(t *testing.T) {
		res, body := postToken(t, h, with("grant_type", "refresh_token"), func(r *http.Request) {
			r.Header.Set("Content-Type", "application/json")
		})
		if res.StatusCode != 400 || body["error"] != "invalid_request" {
			t.Errorf("got %d %v", res.StatusCode, body)
		}
	})
	t.Run("GET", func(t *testing.T) {
		res, err := h.ts.Client().Get(h.ts.URL + fakegoogle.TokenPath)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 405 || res.Header.Get("Allow") != "POST" {
			t.Errorf("GET /token = %d Allow %q, want 405 Allow POST", res.StatusCode, res.Header.Get("Allow"))
		}
	})
}

func TestIssuedCredentialsAreRandomAndListedAsSecrets(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{ClientSecret: "the-client-secret"})
	u, verifier, state := h.authURL()
	code := h.approve(u, "", state)
	tok, err := h.cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]bool{}
	for _, s := range h.srv.Secrets() {
		secrets[s] = true
	}
	for _, want := range []string{"the-client-secret", code, tok.AccessToken, tok.RefreshToken} {
		if !secrets[want] {
			t.Errorf("Secrets() lacks %q", want)
		}
	}
	for _, c := range []struct{ v, prefix string }{{code, "4/demo-"}, {tok.AccessToken, "ya29.demo-"}, {tok.RefreshToken, "1//demo-"}} {
		// 128 bits need at least 22 base64 characters after the prefix.
		if !strings.HasPrefix(c.v, c.prefix) || len(c.v)-len(c.prefix) < 22 {
			t.Errorf("%q: want prefix %s and at least 128 random bits", c.v, c.prefix)
		}
	}
}
