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

// oauth2Callback checks that the browser coming back from Google is the one
// that started this sign-in (state, from the login cookie), exchanges the
// code with the PKCE verifier, and keeps what Google granted in the session
// cookie. A grant without what the function that asked for the sign-in
// needs still serves the functions it covers.
func (a *app) oauth2Callback(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	login, loginErr := a.store.Login.Read(r)
	state := single(query, "state")
	ours := loginErr == nil && state != "" && subtle.ConstantTimeCompare([]byte(state), []byte(login.State)) == 1
	if code := query.Get("error"); code != "" {
		if !ours {
			// Another site can send a browser here: the sign-in in
			// progress, if any, is left alone.
			a.log.WarnContext(r.Context(), "error callback without this browser's state", "oauth_error", printable(code))
			a.fail(w, r, problemForeignCallback)
			return
		}
		a.store.Login.Clear(w)
		a.log.InfoContext(r.Context(), "authorization not granted", "oauth_error", printable(code))
		a.fail(w, r, authorizationProblem(code, a.signInURL(login.Next)))
		return
	}
	if loginErr != session.ErrMissing {
		// The login cookie is single-use: whatever happens next, it is spent.
		a.store.Login.Clear(w)
	}
	code := single(query, "code")
	switch {
	case loginErr == session.ErrMissing:
		a.log.InfoContext(r.Context(), "callback with no sign-in in progress")
		a.fail(w, r, problemNoLogin)
		return
	case loginErr != nil:
		a.log.InfoContext(r.Context(), "callback without a usable login cookie", "reason", loginErr.Error())
		a.fail(w, r, problemLoginExpired)
		return
	case !ours:
		a.log.WarnContext(r.Context(), "callback state does not match this browser's sign-in")
		a.fail(w, r, problemStateMismatch)
		return
	case code == "":
		a.fail(w, r, problemNoCode)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), a.timeout)
	defer cancel()
	f, _ := a.function(cmp.Or(login.Next, a.home))
	tok, err := a.oauth.Exchange(a.tokenContext(ctx), code, oauth2.VerifierOption(login.Verifier))
	if err != nil {
		p, cause := tokenProblem(ctx, err, a.signInURL(login.Next))
		a.log.WarnContext(r.Context(), "code exchange failed", "status", p.Status, "cause", cause)
		a.fail(w, r, p)
		return
	}
	sess := a.newSession(ctx, r, tok, f)
	missing := missingScopes(f.Scopes, sess.Scopes)
	if len(missing) > 0 && !a.servesAny(sess.Scopes) {
		// Nothing is kept: a session that serves no function would only
		// lead to Google's refusals. The token is given back, and the next
		// sign-in shows the consent screen again.
		a.log.InfoContext(r.Context(), "sign-in granted none of the access any function needs", "missing", strings.Join(missing, " "))
		a.revoke(ctx, cmp.Or(tok.RefreshToken, tok.AccessToken))
		if err := a.store.NeedsConsent.Write(w, true); err != nil {
			a.log.ErrorContext(r.Context(), "cannot write the consent cookie", "error", err.Error())
		}
		a.fail(w, r, problemMissingScopes(f, missing, a.signInURL(login.Next)))
		return
	}
	if err := a.store.SetSession(w, sess); err != nil {
		a.log.ErrorContext(r.Context(), "cannot store the token in a cookie", "error", err.Error())
		a.fail(w, r, problemTokenTooLarge)
		return
	}
	a.store.NeedsConsent.Clear(w)
	a.log.InfoContext(r.Context(), "signed in", "function", f.Name, "refresh_token", sess.Token.RefreshToken != "", "missing", strings.Join(missing, " "))
	if len(missing) > 0 {
		// Kept for the functions it serves; this one says what it lacks.
		failIn(w, r, a.frameFor(sess, f), problemMissingScopes(f, missing, a.signInURL(login.Next)))
		return
	}
	redirect(w, http.StatusFound, "/"+f.Name)
}

// newSession is the session a token response starts. Google's "scope"
// lists everything granted, earlier sign-ins included
// (include_granted_scopes); a response without it granted what was asked
// (RFC 6749, 5.1). When the same account signs in again for more scopes,
// Google sends no new refresh token and the session keeps the one it has;
// a session of another account that this one replaces has its refresh token
// revoked, since nothing should outlive its session.
func (a *app) newSession(ctx context.Context, r *http.Request, tok *oauth2.Token, f Function) session.Session {
	asked := append(slices.Clone(signInScopes), f.Scopes...)
	sess := session.Session{Token: tok, Scopes: grantedScopes(tok, asked), Email: accountOf(tok, a.oauth.ClientID), SignedInAt: a.store.Now()}
	old, err := a.store.Session(r)
	if (err != nil && err != session.ErrExpired) || old.Token == nil {
		return sess
	}
	if sess.Email != "" && old.Email == sess.Email {
		if tok.RefreshToken == "" {
			sess.Token.RefreshToken = old.Token.RefreshToken
		}
		if tok.Extra("scope") == nil {
			// Google lists earlier grants in "scope"; without it, they
			// are added here.
			sess.Scopes = union(old.Scopes, sess.Scopes)
		}
		return sess
	}
	if rt := old.Token.RefreshToken; rt != "" && rt != tok.RefreshToken {
		revoked := a.revoke(ctx, rt)
		a.log.InfoContext(r.Context(), "replaced session's refresh token revoked", "revoked", revoked)
	}
	return sess
}

// grantedScopes returns the scopes a token response granted: its "scope",
// or, without one, those asked (RFC 6749, 5.1).
func grantedScopes(tok *oauth2.Token, asked []string) []string {
	switch granted := tok.Extra("scope").(type) {
	case nil:
		return asked
	case string:
		return strings.Fields(granted)
	}
	return nil
}

// servesAny reports whether granted covers every scope of at least one
// function that acts for the user.
func (a *app) servesAny(granted []string) bool {
	return slices.ContainsFunc(a.functions, func(f Function) bool {
		return f.Call != nil && len(missingScopes(f.Scopes, granted)) == 0
	})
}

// union returns the scopes of a followed by those of b that a lacks.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// single returns the value of a query parameter that appears exactly once;
// RFC 6749 forbids repeating them, so a repeated one counts as missing.
func single(q url.Values, name string) string {
	if v := q[name]; len(v) == 1 {
		return v[0]
	}
	return ""
}
