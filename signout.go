package oauthgmail

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"example.com/gcf-oauth-gmail/internal/pages"
	"example.com/gcf-oauth-gmail/internal/session"
)

// signOut revokes the session's token at Google and deletes both cookies.
// Cross-site requests are refused, so another site cannot sign a user out.
func (a *app) signOut(w http.ResponseWriter, r *http.Request) {
	if err := a.csrf.Check(r); err != nil {
		a.log.WarnContext(r.Context(), "cross-site sign-out refused")
		writeProblem(w, problemCrossSite)
		return
	}
	var page pages.SignedOut
	if sess, err := a.store.Session(r); err == nil {
		page.HadSession, page.Revoked = true, a.revoke(r.Context(), sess)
	}
	if session.HasCookie(r, a.store.SessionCookieName()) {
		a.store.ClearSession(w)
	}
	if session.HasCookie(r, a.store.LoginCookieName()) {
		a.store.ClearLogin(w)
	}
	pages.WriteSignedOut(w, page)
}

// revoke asks Google to revoke the refresh token (which also ends its access
// tokens) or else the access token. A token Google no longer knows counts as
// revoked.
func (a *app) revoke(ctx context.Context, sess session.Session) bool {
	token := sess.Token.RefreshToken
	if token == "" {
		token = sess.Token.AccessToken
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.revokeURL, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.google.Do(req)
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
