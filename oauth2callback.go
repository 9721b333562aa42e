package oauthgmail

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/session"
)

// oauth2Callback checks that the browser coming back from Google is the one
// that started this sign-in (state, from the login cookie), exchanges the code
// with the PKCE verifier, and stores the token in the session cookie.
func (a *app) oauth2Callback(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	login, loginErr := a.store.Login(r)
	if loginErr != session.ErrMissing {
		// The login cookie is single-use: whatever happens next, it is spent.
		a.store.ClearLogin(w)
	}
	if code := query.Get("error"); code != "" {
		a.log.InfoContext(r.Context(), "authorization not granted", "oauth_error", printable(code))
		writeProblem(w, authorizationProblem(code))
		return
	}
	if loginErr != nil {
		a.log.InfoContext(r.Context(), "callback without a usable login cookie", "reason", loginErr.Error())
		writeProblem(w, problemNoLogin)
		return
	}
	state, code := single(query, "state"), single(query, "code")
	switch {
	case state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(login.State)) != 1:
		a.log.WarnContext(r.Context(), "callback state does not match this browser's sign-in")
		writeProblem(w, problemStateMismatch)
		return
	case code == "":
		writeProblem(w, problemNoCode)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), a.timeout)
	defer cancel()
	tok, err := a.oauth.Exchange(a.tokenContext(ctx), code, oauth2.VerifierOption(login.Verifier))
	if err != nil {
		p, kind := tokenProblem(ctx, err)
		a.log.WarnContext(r.Context(), "code exchange failed", "status", p.Status, "cause", kind)
		writeProblem(w, p)
		return
	}
	if err := a.store.SetSession(w, session.Session{Token: tok, SignedInAt: a.store.Now()}); err != nil {
		a.log.ErrorContext(r.Context(), "cannot store the token in a cookie", "error", err.Error())
		writeProblem(w, problemTokenTooLarge)
		return
	}
	a.log.InfoContext(r.Context(), "signed in", "refresh_token", tok.RefreshToken != "")
	redirect(w, "/listlabels")
}

// single returns the value of a query parameter that appears exactly once;
// RFC 6749 forbids repeating them, so a repeated one counts as missing.
func single(q url.Values, name string) string {
	if v := q[name]; len(v) == 1 {
		return v[0]
	}
	return ""
}
