package oauthgmail

import (
	"cmp"
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/session"
)

// OAuth2Callback finishes a sign-in: Google redirects the browser here with
// an authorization code, which is exchanged for a token kept in the session
// cookie; the browser then goes on to the function that asked for the
// sign-in.
func OAuth2Callback(w http.ResponseWriter, r *http.Request) {
	serve(w, r, readOnly, (*app).oauth2Callback)
}

// oauth2Callback checks that the browser coming back from Google is the one
// that started this sign-in (state, from the login cookie), exchanges the code
// with the PKCE verifier, checks that every scope the app needs was granted,
// and stores the token in the session cookie.
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
		p, cause := tokenProblem(ctx, err, a.signInURL(login.Next))
		a.log.WarnContext(r.Context(), "code exchange failed", "status", p.Status, "cause", cause)
		writeProblem(w, p)
		return
	}
	if missing := a.missingScopes(tok); len(missing) > 0 {
		// Nothing is kept: a session without what the functions need would
		// only lead to Google's refusals. The token is given back.
		a.log.InfoContext(r.Context(), "sign-in without every scope the app needs", "missing", strings.Join(missing, " "))
		a.revoke(ctx, cmp.Or(tok.RefreshToken, tok.AccessToken))
		if err := a.store.SetNeedsConsent(w); err != nil {
			a.log.ErrorContext(r.Context(), "cannot write the consent cookie", "error", err.Error())
		}
		writeProblem(w, problemMissingScopes(missing))
		return
	}
	a.revokeReplaced(ctx, r, tok)
	if err := a.store.SetSession(w, session.Session{Token: tok, SignedInAt: a.store.Now()}); err != nil {
		a.log.ErrorContext(r.Context(), "cannot store the token in a cookie", "error", err.Error())
		writeProblem(w, problemTokenTooLarge)
		return
	}
	if a.store.NeedsConsent(r) {
		a.store.ClearNeedsConsent(w)
	}
	a.log.InfoContext(r.Context(), "signed in", "refresh_token", tok.RefreshToken != "")
	redirect(w, "/"+cmp.Or(login.Next, a.home))
}

// missingScopes returns the scopes the app asked for that the token
// response did not grant. A response without "scope" grants what was asked
// (RFC 6749, 5.1).
func (a *app) missingScopes(tok *oauth2.Token) []string {
	field := tok.Extra("scope")
	if field == nil {
		return nil
	}
	granted, _ := field.(string)
	have := strings.Fields(granted)
	var missing []string
	for _, s := range a.oauth.Scopes {
		if !slices.Contains(have, s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// revokeReplaced revokes, best effort, the refresh token of the session a
// new sign-in replaces: nothing should outlive its session.
func (a *app) revokeReplaced(ctx context.Context, r *http.Request, tok *oauth2.Token) {
	old, err := a.store.Session(r)
	if (err != nil && err != session.ErrExpired) || old.Token == nil {
		return
	}
	if rt := old.Token.RefreshToken; rt != "" && rt != tok.RefreshToken {
		revoked := a.revoke(ctx, rt)
		a.log.InfoContext(r.Context(), "replaced session's refresh token revoked", "revoked", revoked)
	}
}

// single returns the value of a query parameter that appears exactly once;
// RFC 6749 forbids repeating them, so a repeated one counts as missing.
func single(q url.Values, name string) string {
	if v := q[name]; len(v) == 1 {
		return v[0]
	}
	return ""
}
