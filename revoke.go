package oauthgmail

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"example.com/gcf-oauth-gmail/internal/session"
)

// revoke asks Google to revoke token (a refresh token, which also ends its
// access tokens, or an access token), within the request's deadline, and
// reports whether Google confirmed it. Only two answers confirm: 200, and
// the 400 "invalid_token" Google gives for a token it no longer knows
// (revoked already, or expired), which leaves nothing to revoke. Any other
// answer, a redirect included, may come from something that is not Google
// and proves nothing.
func (a *app) revoke(ctx context.Context, token string) bool {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	body := strings.NewReader(url.Values{"token": {token}}.Encode())
	// The address is configuration (REVOKE_URL); only the body comes from the request.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.revokeURL, body) // #nosec G704 -- fixed endpoint
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// A redirect is not followed: a 307 or 308 would send the token on to
	// wherever it points.
	client := *a.tokenClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req) // #nosec G704 -- fixed endpoint, as above
	if err != nil {
		a.log.WarnContext(ctx, "token revocation not confirmed: no answer", "cause", causeOf(err))
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return true
	}
	var answer struct {
		Error string `json:"error"`
	}
	// Google's error object is well under a hundred bytes.
	_ = json.NewDecoder(io.LimitReader(resp.Body, 4<<10)).Decode(&answer)
	if resp.StatusCode == http.StatusBadRequest && answer.Error == "invalid_token" {
		return true
	}
	a.log.WarnContext(ctx, "token revocation not confirmed", "status", resp.StatusCode, "error", printable(answer.Error))
	return false
}

// discardSession clears the session cookie of a browser whose session can
// no longer be used. When the session expired and holds a refresh token, the
// token is revoked first, best effort: nothing should outlive the session.
func (a *app) discardSession(w http.ResponseWriter, r *http.Request, sess session.Session, err error) {
	if errors.Is(err, session.ErrExpired) && sess.Token != nil && sess.Token.RefreshToken != "" {
		revoked := a.revoke(r.Context(), sess.Token.RefreshToken)
		a.log.InfoContext(r.Context(), "expired session discarded", "revoked", revoked)
	}
	a.store.ClearSession(w)
}
