package oauthgmail

import (
	"crypto/rand"
	"net/http"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/session"
)

// oauth2Init redirects a signed-in browser to the labels and any other to
// Google, with a fresh state and PKCE challenge whose secrets travel in the
// login cookie.
func (a *app) oauth2Init(w http.ResponseWriter, r *http.Request) {
	sess, err := a.store.Session(r)
	if err == nil && usable(sess) {
		redirect(w, "/listlabels")
		return
	}
	if err != session.ErrMissing {
		a.store.ClearSession(w)
	}
	login := session.Login{State: rand.Text(), Verifier: oauth2.GenerateVerifier()}
	if err := a.store.SetLogin(w, login); err != nil {
		a.log.ErrorContext(r.Context(), "cannot write the login cookie", "error", err.Error())
		writeProblem(w, problemInternal)
		return
	}
	options := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(login.Verifier)}, a.authParams...)
	redirect(w, a.oauth.AuthCodeURL(login.State, options...))
}

// usable reports whether a session can still reach Gmail without the user:
// its access token is valid or it can be refreshed.
func usable(s session.Session) bool {
	return s.Token.Valid() || s.Token.RefreshToken != ""
}
