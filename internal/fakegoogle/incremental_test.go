package fakegoogle_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/gmail/v1"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

// grantFor runs a consent for email asking for scopes (space-separated)
// with the extra parameters, ticking only ticked (nil: every box), and
// returns the token response.
func (h *harness) grantFor(email, scopes string, ticked []string, params ...string) *oauth2.Token {
	h.t.Helper()
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("scope", scopes)}
	for i := 0; i+1 < len(params); i += 2 {
		opts = append(opts, oauth2.SetAuthURLParam(params[i], params[i+1]))
	}
	u, verifier, _ := h.authURL(opts...)
	var cb *url.URL
	var err error
	if ticked == nil {
		cb, err = h.srv.Approve(u, email)
	} else {
		cb, err = h.srv.ApproveScopes(u, email, ticked)
	}
	if err != nil {
		h.t.Fatalf("consent: %v", err)
	}
	code := cb.Query().Get("code")
	if code == "" {
		h.t.Fatalf("no code in the callback: %s", cb)
	}
	tok, err := h.cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		h.t.Fatalf("exchange: %v", err)
	}
	return tok
}

// grantedScopes returns the token response's "scope", sorted.
func grantedScopes(tok *oauth2.Token) []string {
	s, _ := tok.Extra("scope").(string)
	scopes := strings.Fields(s)
	slices.Sort(scopes)
	return scopes
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

const (
	readonly = gmail.GmailReadonlyScope
	labels   = gmail.GmailLabelsScope
)

func TestIncludeGrantedScopesGrantsTheUnionAndOmitsTheRefreshToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		second      string   // scopes asked for the second time
		ticked      []string // boxes left ticked the second time (nil: all)
		params      []string // of the second request
		wantScopes  []string // of the second token response
		wantRefresh bool     // the second response has a refresh token
	}{
		{"incremental", labels, nil, []string{"include_granted_scopes", "true"}, sorted(readonly, labels), false},
		{"without include_granted_scopes", labels, nil, nil, sorted(labels), false},
		{"include_granted_scopes=false", labels, nil, []string{"include_granted_scopes", "false"}, sorted(labels), false},
		{"prompt=consent", labels, nil, []string{"include_granted_scopes", "true", "prompt", "consent"}, sorted(readonly, labels), true},
		{"new box unticked", "openid " + labels, []string{}, []string{"include_granted_scopes", "true"}, sorted(readonly, "openid"), false},
		{"old scope unticked again", readonly + " " + labels, []string{labels}, []string{"include_granted_scopes", "true"}, sorted(readonly, labels), false},
		{"online", labels, nil, []string{"include_granted_scopes", "true", "access_type", "online"}, sorted(readonly, labels), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fakegoogle.Options{})
			first := h.grantFor("alice@example.com", readonly, nil, "include_granted_scopes", "true")
			if first.RefreshToken == "" || !slices.Equal(grantedScopes(first), []string{readonly}) {
				t.Fatalf("first consent: refresh %t scopes %q, want a refresh token and %s", first.RefreshToken != "", grantedScopes(first), readonly)
			}
			second := h.grantFor("alice@example.com", tt.second, tt.ticked, tt.params...)
			if got := grantedScopes(second); !slices.Equal(got, tt.wantScopes) {
				t.Errorf("second token response scope %q, want %q", got, tt.wantScopes)
			}
			if got := second.RefreshToken != ""; got != tt.wantRefresh {
				t.Errorf("second token response has a refresh token: %t, want %t", got, tt.wantRefresh)
			}
			// The second access token works for what its scope says.
			_, err := h.gmail(second).Users.Labels.List("me").Do()
			if canList := err == nil; canList != (slices.Contains(tt.wantScopes, readonly) || slices.Contains(tt.wantScopes, labels)) {
				t.Errorf("listing labels with the second token: %v, for scopes %q", err, tt.wantScopes)
			}
		})
	}
}

func TestTheFirstRefreshTokenCoversTheIncrementalGrant(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	first := h.grantFor("alice@example.com", readonly, nil, "include_granted_scopes", "true")
	h.grantFor("alice@example.com", labels, nil, "include_granted_scopes", "true")
	// An expired access token with the first refresh token, as an app
	// that kept it.
	kept := &oauth2.Token{AccessToken: "expired", RefreshToken: first.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	refreshed, err := h.cfg.TokenSource(h.ctx(), kept).Token()
	if err != nil {
		t.Fatal(err)
	}
	if got := grantedScopes(refreshed); !slices.Equal(got, sorted(readonly, labels)) {
		t.Errorf("refreshed scope %q, want both grants'", got)
	}
	if _, err := h.gmail(refreshed).Users.Labels.Create("me", &gmail.Label{Name: "Via refresh"}).Do(); err != nil {
		t.Errorf("the refreshed token cannot use the scope granted later: %v", err)
	}
	// Without include_granted_scopes, the refresh token keeps its scopes.
	h.grantFor("alice@example.com", "https://mail.google.com/", nil)
	again, err := h.cfg.TokenSource(h.ctx(), kept).Token()
	if err != nil {
		t.Fatal(err)
	}
	if got := grantedScopes(again); !slices.Equal(got, sorted(readonly, labels)) {
		t.Errorf("refreshed scope after a grant without include_granted_scopes %q, want the first two", got)
	}
}

func TestGrantsArePerAccountAndEndWithARevocation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	alice := h.grantFor("alice@example.com", readonly, nil)
	bob := h.grantFor("bob@example.org", labels, nil, "include_granted_scopes", "true")
	if bob.RefreshToken == "" || !slices.Equal(grantedScopes(bob), []string{labels}) {
		t.Errorf("bob's first consent: refresh %t scopes %q; alice's grant leaked into it", bob.RefreshToken != "", grantedScopes(bob))
	}
	later := h.grantFor("alice@example.com", labels, nil, "include_granted_scopes", "true")
	if status, _ := revoke(t, h, alice.RefreshToken, false); status != http.StatusOK {
		t.Fatalf("revoke: %d", status)
	}
	for name, tok := range map[string]*oauth2.Token{"the first": alice, "the incremental": later} {
		if _, err := h.gmail(&oauth2.Token{AccessToken: tok.AccessToken}).Users.Labels.List("me").Do(); err == nil {
			t.Errorf("%s grant's access token still works after the revocation", name)
		}
	}
	if _, err := h.gmail(&oauth2.Token{AccessToken: bob.AccessToken}).Users.Labels.List("me").Do(); err != nil {
		t.Errorf("revoking alice's access ended bob's: %v", err)
	}
	fresh := h.grantFor("alice@example.com", labels, nil, "include_granted_scopes", "true")
	if fresh.RefreshToken == "" || !slices.Equal(grantedScopes(fresh), []string{labels}) {
		t.Errorf("consent after revocation: refresh %t scopes %q, want a first consent again", fresh.RefreshToken != "", grantedScopes(fresh))
	}
}

func TestInvalidIncludeGrantedScopesIsSentBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	u, _, _ := h.authURL(oauth2.SetAuthURLParam("include_granted_scopes", "yes"))
	_, err := h.srv.Approve(u, "")
	var aerr *fakegoogle.AuthError
	if !errors.As(err, &aerr) || aerr.Code != "invalid_request" || aerr.Redirect == nil {
		t.Errorf("err %v, want invalid_request sent back to the app", err)
	}
}

// idClaims decodes the payload of an ID token, checking its shape.
func idClaims(t *testing.T, idToken string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token has %d parts, want 3", len(parts))
	}
	for i, p := range parts[:2] {
		b, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil {
			t.Fatalf("part %d is not unpadded base64url: %v", i, err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if i == 0 {
			header = m
		} else {
			claims = m
		}
	}
	if sig, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil || len(sig) != 256 {
		t.Errorf("signature: %d bytes, %v; want 256 as RS256 with a 2048-bit key", len(sig), err)
	}
	return header, claims
}

func TestIDTokenWhenOpenIDIsGranted(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	h := newHarness(t, fakegoogle.Options{Now: clock.Now})
	tok := h.grantFor("bob@example.org", "openid email "+readonly, nil)
	if got := grantedScopes(tok); !slices.Equal(got, sorted("openid", fakegoogle.UserinfoEmailScope, readonly)) {
		t.Errorf("scope %q, want email named by its URL", got)
	}
	idToken, _ := tok.Extra("id_token").(string)
	header, claims := idClaims(t, idToken)
	if header["alg"] != "RS256" || header["typ"] != "JWT" || header["kid"] == "" {
		t.Errorf("header %v", header)
	}
	now := float64(clock.Now().Unix())
	want := map[string]any{
		"iss": "https://accounts.google.com", "aud": h.cfg.ClientID, "azp": h.cfg.ClientID,
		"sub": fakegoogle.Subject("bob@example.org"), "email": "bob@example.org", "email_verified": true,
		"iat": now, "exp": now + 3600,
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if sub, _ := claims["sub"].(string); len(sub) != 21 || strings.Trim(sub, "0123456789") != "" {
		t.Errorf("sub %q, want 21 digits like Google's", sub)
	}
	if !slices.Contains(h.srv.Secrets(), idToken) {
		t.Error("the ID token is not among Secrets")
	}

	// The same account gets the same sub; another account another one.
	_, again := idClaims(t, h.grantFor("bob@example.org", "openid email", nil).Extra("id_token").(string))
	_, alice := idClaims(t, h.grantFor("alice@example.com", "openid email", nil).Extra("id_token").(string))
	if again["sub"] != claims["sub"] || alice["sub"] == claims["sub"] || alice["email"] != "alice@example.com" {
		t.Errorf("sub of bob %v then %v, of alice %v (%v)", claims["sub"], again["sub"], alice["sub"], alice["email"])
	}

	// A refresh answers with an ID token too.
	clock.Advance(2 * time.Hour)
	refreshed, err := h.cfg.TokenSource(h.ctx(), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	if err != nil {
		t.Fatal(err)
	}
	_, rc := idClaims(t, refreshed.Extra("id_token").(string))
	if rc["email"] != "bob@example.org" || rc["iat"] != now+7200 {
		t.Errorf("refreshed ID token claims %v", rc)
	}
}

func TestIDTokenClaimsFollowTheGrantedScopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scopes    string
		wantToken bool
		wantEmail bool
		wantName  bool
	}{
		{readonly, false, false, false},
		{"email " + readonly, false, false, false},
		{"openid", true, false, false},
		{"openid https://www.googleapis.com/auth/userinfo.email", true, true, false},
		{"openid email profile " + readonly, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.scopes, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fakegoogle.Options{})
			tok := h.grantFor("alice@example.com", tt.scopes, nil)
			idToken, ok := tok.Extra("id_token").(string)
			if ok != tt.wantToken {
				t.Fatalf("id_token present %t, want %t", ok, tt.wantToken)
			}
			if !ok {
				return
			}
			_, claims := idClaims(t, idToken)
			if _, got := claims["email"]; got != tt.wantEmail {
				t.Errorf("email claim %t, want %t: %v", got, tt.wantEmail, claims)
			}
			if _, got := claims["name"]; got != tt.wantName {
				t.Errorf("name claim %t, want %t: %v", got, tt.wantName, claims)
			}
		})
	}
}

func TestAnIncrementalRequestLetsThePersonUntickTheNewScope(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	h.grantFor("bob@example.org", readonly, nil)
	tests := []struct {
		name      string
		include   string
		wantBox   bool
		wantScope string // granted with the box unticked
	}{
		{"incremental", "true", true, readonly},
		{"not incremental", "", false, labels},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("scope", labels), oauth2.SetAuthURLParam("login_hint", "bob@example.org")}
			if tt.include != "" {
				opts = append(opts, oauth2.SetAuthURLParam("include_granted_scopes", tt.include))
			}
			u, _, _ := h.authURL(opts...)
			resp, err := h.ts.Client().Get(u)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := strings.Contains(string(page), `type="checkbox" name="scope" id="scope-0" value="`+labels+`" checked`); got != tt.wantBox {
				t.Errorf("a box for the new scope: %t, want %t", got, tt.wantBox)
			}
			request := requestIDPattern.FindStringSubmatch(string(page))
			if request == nil {
				t.Fatalf("no request id on the consent page:\n%s", page)
			}
			answer, err := h.noRedirect().PostForm(h.ts.URL+fakegoogle.DecisionPath, url.Values{
				"request": {request[1]}, "decision": {"allow"}, "account": {"bob@example.org"},
			})
			if err != nil {
				t.Fatal(err)
			}
			answer.Body.Close()
			cb, err := url.Parse(answer.Header.Get("Location"))
			if err != nil || cb.Query().Get("scope") != tt.wantScope {
				t.Errorf("callback %q, want scope %q", answer.Header.Get("Location"), tt.wantScope)
			}
		})
	}
}
