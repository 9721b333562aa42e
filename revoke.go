package oauthgmail

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"example.com/gcf-oauth-gmail/internal/session"
)

// revoke asks Google to revoke token (a refresh token, which also ends its
// access tokens, or an access token), within the request's deadline. A token
// Google no longer knows counts as revoked.
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
	resp, err := a.tokenClient.Do(req) // #nosec G704 -- fixed endpoint, as above
	if err != nil {
		a.log.WarnContext(ctx, "token revocation failed", "cause", causeOf(err))
		return false
	}
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusBadRequest {
		return true
	}
	a.log.WarnContext(ctx, "token revocation refused", "status", resp.StatusCode)
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
