package fakegoogle_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/googleapi"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

// revoke calls the revocation endpoint with the token in the form or query.
func revoke(t *testing.T, h *harness, token string, inQuery bool) (int, string) {
	t.Helper()
	target := h.ts.URL + fakegoogle.RevokePath
	var body io.Reader = strings.NewReader(url.Values{"token": {token}}.Encode())
	if inQuery {
		target += "?token=" + url.QueryEscape(token)
		body = http.NoBody
	}
	res, err := h.ts.Client().Post(target, "application/x-www-form-urlencoded", body)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestRevokeRevokesTheWholeGrant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		token   func(access, refresh string) string
		inQuery bool
	}{
		{"refresh token in the form", func(_, r string) string { return r }, false},
		{"refresh token in the query", func(_, r string) string { return r }, true},
		{"access token in the form", func(a, _ string) string { return a }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fakegoogle.Options{})
			tok := h.login("alice@example.com")
			other := h.login("bob@example.org")

			status, body := revoke(t, h, tc.token(tok.AccessToken, tok.RefreshToken), tc.inQuery)
			if status != 200 || body != "{}" {
				t.Fatalf("revoke = %d %s, want 200 {}", status, body)
			}
			if !h.srv.IsRevoked(tok.AccessToken) || !h.srv.IsRevoked(tok.RefreshToken) {
				t.Errorf("grant not revoked")
			}
			if h.srv.IsRevoked(other.AccessToken) || h.srv.IsRevoked(other.RefreshToken) {
				t.Errorf("another user's grant was revoked too")
			}
			_, err := h.gmail(tok).Users.Labels.List("me").Do()
			var gerr *googleapi.Error
			if !errors.As(err, &gerr) || gerr.Code != 401 {
				t.Errorf("labels with a revoked token: err = %v, want 401", err)
			}
			stale := *tok
			stale.Expiry = time.Now().Add(-time.Minute)
			_, err = h.cfg.TokenSource(h.ctx(), &stale).Token()
			retrieveError(t, err, "invalid_grant", 400)

			status, body = revoke(t, h, tc.token(tok.AccessToken, tok.RefreshToken), tc.inQuery)
			if status != 400 || body != `{"error":"invalid_token","error_description":"Token expired or revoked"}` {
				t.Errorf("second revoke = %d %s, want 400 invalid_token", status, body)
			}
			if got := h.srv.Stats(); got.Revocations != 1 || got.RevokeRequests != 2 {
				t.Errorf("stats = %+v, want 1 revocation of 2 requests", got)
			}
		})
	}
}

func TestRevokeRejectsUnknownAndMissingTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakegoogle.Options{})
	if status, body := revoke(t, h, "ya29.demo-unknown", false); status != 400 || !strings.Contains(body, `"invalid_token"`) {
		t.Errorf("unknown token: %d %s", status, body)
	}
	if status, body := revoke(t, h, "", false); status != 400 || !strings.Contains(body, `"invalid_request"`) {
		t.Errorf("missing token: %d %s", status, body)
	}
	if h.srv.IsRevoked("ya29.demo-unknown") {
		t.Errorf("IsRevoked(unknown) = true")
	}
}
