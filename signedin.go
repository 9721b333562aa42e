package oauthgmail

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/session"
)

// A userCall is what a function does for the signed-in user: it calls Google
// with google, an *http.Client that sends the user's token, and writes the
// answer. It returns Google's error, if any, without writing anything; the
// error is then turned into a page (see googleProblem).
type userCall func(w http.ResponseWriter, r *http.Request, google *http.Client) error

// serveSignedIn answers r for the signed-in user, as the function called
// name in Functions(), whose calls go to the Google API called api (a name
// for pages, such as "Gmail"). It:
//
//   - sends a browser with no usable session to sign in, and back here after;
//   - refreshes an expired access token and writes the session cookie again;
//   - runs call with a client that sends the user's token over the process's
//     one transport, under the request's deadline;
//   - when Google answers 401, refreshes the token once and runs call again;
//   - turns Google's errors into pages, and clears the session when Google
//     says it no longer allows what the app needs.
func serveSignedIn(w http.ResponseWriter, r *http.Request, name, api string, call userCall) {
	serve(w, r, readOnly, func(a *app, w http.ResponseWriter, r *http.Request) {
		a.callAsUser(w, r, name, api, call)
	})
}

func (a *app) callAsUser(w http.ResponseWriter, r *http.Request, name, api string, call userCall) {
	sess, err := a.store.Session(r)
	if err != nil {
		a.signInAgain(w, r, name, sess, err, "no usable session")
		return
	}
	if !sess.Token.Valid() && sess.Token.RefreshToken == "" {
		a.signInAgain(w, r, name, sess, session.ErrExpired, "access token expired and there is no refresh token")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.timeout)
	defer cancel()
	r = r.WithContext(ctx)

	tokens := a.oauth.TokenSource(a.tokenContext(ctx), sess.Token)
	refreshed, rewrite := false, sess.SealedWithPreviousKey
	for {
		tok, err := tokens.Token() // refreshes an expired token
		if err != nil {
			a.refreshFailed(w, r, name, err)
			return
		}
		if tok.AccessToken != sess.Token.AccessToken {
			a.log.InfoContext(ctx, "access token refreshed")
			sess.Token, refreshed, rewrite = tok, true, true
		}
		if rewrite {
			// Written before anything else of the response, so that the
			// next request neither refreshes again nor needs an old key.
			if err := a.store.SetSession(w, sess); err != nil {
				a.log.ErrorContext(ctx, "cannot store the session", "error", err.Error())
			}
			rewrite = false
		}

		var rejected atomic.Bool
		err = call(w, r, a.userClient(tokens, &rejected))
		switch {
		case err == nil:
			return
		case rejected.Load() && !refreshed && sess.Token.RefreshToken != "":
			// Google can reject a token before its stated expiry (revoked,
			// password changed): one refresh is worth a try.
			tokens = a.oauth.TokenSource(a.tokenContext(ctx), &oauth2.Token{RefreshToken: sess.Token.RefreshToken})
			continue
		case rejected.Load():
			a.signInAgain(w, r, name, session.Session{}, nil, api+" rejected the token")
			return
		}
		a.writeCallFailure(w, r, name, api, err)
		return
	}
}

// userClient returns a client that sends the user's token from tokens
// (oauth2.Transport), over the app's transport, within the upstream
// deadline. It sets rejected when Google answers 401.
func (a *app) userClient(tokens oauth2.TokenSource, rejected *atomic.Bool) *http.Client {
	return &http.Client{
		Transport: &rejectionTracker{base: &oauth2.Transport{Source: tokens, Base: a.transport}, rejected: rejected},
		Timeout:   a.timeout,
	}
}

// rejectionTracker notes whether Google answered 401 Unauthorized.
type rejectionTracker struct {
	base     http.RoundTripper
	rejected *atomic.Bool
}

func (t *rejectionTracker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		t.rejected.Store(true)
	}
	return resp, err
}

// refreshFailed answers a failed token refresh: a refresh token Google no
// longer accepts means signing in again; anything else is Google's fault.
func (a *app) refreshFailed(w http.ResponseWriter, r *http.Request, name string, err error) {
	var rerr *oauth2.RetrieveError
	if errors.As(err, &rerr) && rerr.ErrorCode == "invalid_grant" {
		a.signInAgain(w, r, name, session.Session{}, nil, "refresh token rejected")
		return
	}
	p, cause := tokenProblem(r.Context(), err, "/"+name)
	a.log.WarnContext(r.Context(), "token refresh failed", "status", p.Status, "cause", cause)
	writeProblem(w, p)
}

// signInAgain sends the browser to oauth2init, and back to the function
// called name afterwards. An unusable session cookie is cleared, and an
// expired session's refresh token revoked.
func (a *app) signInAgain(w http.ResponseWriter, r *http.Request, name string, sess session.Session, err error, reason string) {
	if !errors.Is(err, session.ErrMissing) {
		a.discardSession(w, r, sess, err)
	}
	a.log.InfoContext(r.Context(), "sending the browser to sign in", "reason", reason)
	redirect(w, a.signInURL(name))
}

// signInURL is oauth2init's address for a sign-in that returns to the
// function called name.
func (a *app) signInURL(name string) string {
	if name == "" || name == a.home {
		return "/oauth2init"
	}
	return "/oauth2init?" + url.Values{"next": {name}}.Encode()
}

// writeCallFailure answers a call that failed with err. When Google refused
// for want of a scope, the session is cleared and the next sign-in asks for
// consent again, so that the person can grant it instead of coming back to
// the same refusal.
func (a *app) writeCallFailure(w http.ResponseWriter, r *http.Request, name, api string, err error) {
	f := googleProblem(r.Context(), api, err, "/"+name)
	a.log.WarnContext(r.Context(), "call to Google failed", "status", f.page.Status, "cause", f.cause)
	if f.needsConsent {
		a.store.ClearSession(w)
		if err := a.store.SetNeedsConsent(w); err != nil {
			a.log.ErrorContext(r.Context(), "cannot write the consent cookie", "error", err.Error())
		}
	}
	writeProblem(w, f.page)
}
