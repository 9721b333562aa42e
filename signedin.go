package oauthgmail

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"example.com/gcf-oauth-gmail/internal/pages"
	"example.com/gcf-oauth-gmail/internal/session"
)

// A Call is what a function does for the signed-in user: it calls Google
// through user.Google and writes the answer, with user.Page, writeJSON or,
// after a change, user.SeeOther. On failure it returns the error Google's
// client returned (a *googleapi.Error; googleapi.CheckResponse makes one
// from a raw response) and writes nothing: the app answers with a page, or
// JSON for a JSON client.
type Call func(w http.ResponseWriter, r *http.Request, user *User) error

// User is the signed-in person a Call acts for.
type User struct {
	// Google is a client that sends the user's token with every request,
	// within the request's deadline; Google's API clients take it with
	// option.WithHTTPClient.
	Google *http.Client
	// Email is the signed-in Google account, or "" when Google did not say.
	Email string

	frame pages.Frame
	store *session.Store
}

// Page writes the page templates/name.html of internal/pages with status,
// showing who is signed in and any notice the last change left.
func (u *User) Page(w http.ResponseWriter, status int, name string, data any) {
	u.frame.Write(w, status, name, data)
}

// SeeOther ends a change: it leaves notice ("Label created") for the next
// page, sealed and shown once, and sends the browser to location with a
// 303, so that reloading that page does not change anything again.
func (u *User) SeeOther(w http.ResponseWriter, location, notice string) {
	if notice != "" {
		_ = u.store.Notice.Write(w, notice) // a notice too long to keep is only lost
	}
	redirect(w, http.StatusSeeOther, location)
}

// maxFormBytes caps the body of a change: a form of a few fields, not an
// upload.
const maxFormBytes = 64 << 10

// serveSignedIn answers r for the signed-in user as f:
//
//   - a change (POST, PUT, PATCH, DELETE) must come from the app's own pages
//     and carry a form of at most maxFormBytes;
//   - a browser with no usable session, or whose session lacks f's scopes,
//     is sent to sign in for them, and back here after;
//   - an expired access token is refreshed and the session cookie written
//     again;
//   - f.Call runs with a client that sends the user's token; when Google
//     answers 401 and the token was not just refreshed, it is refreshed and
//     f.Call runs once more;
//   - Google's errors become pages (or JSON), and a session Google no
//     longer honours is cleared.
func (a *app) serveSignedIn(w http.ResponseWriter, r *http.Request, f Function) {
	if changes := r.Method != http.MethodGet && r.Method != http.MethodHead; changes && !a.acceptChange(w, r, f) {
		return
	}
	sess, err := a.store.Session(r)
	switch {
	case err != nil:
		a.signInAgain(w, r, f, sess, err, "no usable session")
		return
	case !sess.Token.Valid() && sess.Token.RefreshToken == "":
		a.signInAgain(w, r, f, sess, session.ErrExpired, "access token expired and there is no refresh token")
		return
	case len(missingScopes(f.Scopes, sess.Scopes)) > 0:
		// The session stays: it still serves the functions it covers.
		a.log.InfoContext(r.Context(), "sending the browser to grant the function's scopes", "function", f.Name)
		redirect(w, http.StatusFound, a.signInURL(f.Name))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.timeout)
	defer cancel()
	r = r.WithContext(ctx)
	user := &User{Email: sess.Email, frame: a.frameFor(sess, f), store: a.store}
	if r.Method == http.MethodGet {
		user.frame.Notice, _ = a.store.Notice.Take(w, r)
	}

	// First attempt: the session's token, refreshed first if it has expired.
	tok, err := a.oauth.TokenSource(a.tokenContext(ctx), sess.Token).Token()
	if err != nil {
		a.refreshFailed(w, r, f, user, err)
		return
	}
	refreshed := tok.AccessToken != sess.Token.AccessToken
	a.keepSession(w, r, &sess, tok)
	err = f.Call(w, r, user.with(a, tok))

	// Second attempt: Google can reject a token before its stated expiry
	// (revoked, password changed), so a token that was not just refreshed
	// is refreshed once more.
	if rejectedToken(err) && !refreshed && sess.Token.RefreshToken != "" {
		a.log.InfoContext(ctx, "Google rejected the access token; refreshing it", "function", f.Name)
		tok, err = a.oauth.TokenSource(a.tokenContext(ctx), &oauth2.Token{RefreshToken: sess.Token.RefreshToken}).Token()
		if err != nil {
			a.refreshFailed(w, r, f, user, err)
			return
		}
		a.keepSession(w, r, &sess, tok)
		err = f.Call(w, r, user.with(a, tok))
	}

	switch {
	case err == nil:
	case rejectedToken(err):
		a.signInAgain(w, r, f, session.Session{}, nil, f.API+" rejected the token")
	default:
		a.callFailed(w, r, f, user, err)
	}
}

// with returns u with a client that sends tok over the app's transport,
// within the request's deadline.
func (u *User) with(a *app, tok *oauth2.Token) *User {
	u.Google = &http.Client{
		Transport: &oauth2.Transport{Source: oauth2.StaticTokenSource(tok), Base: a.transport},
		Timeout:   a.timeout,
	}
	return u
}

// acceptChange checks a request that changes something: it must come from
// the app's own pages (a browser says so in Sec-Fetch-Site or Origin), and
// its form must be small. Otherwise it answers 403 or 413 (or 400 for a form
// that does not parse) and returns false.
func (a *app) acceptChange(w http.ResponseWriter, r *http.Request, f Function) bool {
	if err := a.csrf.Check(r); err != nil {
		a.log.WarnContext(r.Context(), "cross-site request refused", "function", f.Name, "method", r.Method)
		a.fail(w, r, problemCrossSite(f))
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			a.fail(w, r, problemFormTooLarge(f))
		} else {
			a.fail(w, r, problemBadForm(f))
		}
		return false
	}
	return true
}

// keepSession writes the session again when its token changed or it was
// sealed with the previous key, before anything else of the response, so
// that the next request neither refreshes again nor needs an old key.
func (a *app) keepSession(w http.ResponseWriter, r *http.Request, sess *session.Session, tok *oauth2.Token) {
	if tok.AccessToken == sess.Token.AccessToken && !sess.SealedWithPreviousKey {
		return
	}
	if tok.AccessToken != sess.Token.AccessToken {
		a.log.InfoContext(r.Context(), "access token refreshed")
		if tok.RefreshToken == "" {
			tok.RefreshToken = sess.Token.RefreshToken
		}
		sess.Token = tok
	}
	if err := a.store.SetSession(w, *sess); err != nil {
		a.log.ErrorContext(r.Context(), "cannot store the session", "error", err.Error())
	}
	sess.SealedWithPreviousKey = false
}

// rejectedToken reports whether Google answered 401: the token is not (or
// no longer) good.
func rejectedToken(err error) bool {
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && gerr.Code == http.StatusUnauthorized
}

// frameFor is what the pages of f show a person signed in as sess.
func (a *app) frameFor(sess session.Session, f Function) pages.Frame {
	return pages.Frame{Account: sess.Email, SwitchURL: a.switchAccountURL(f.Name)}
}

// refreshFailed answers a failed token refresh: a refresh token Google no
// longer accepts means signing in again; anything else is Google's fault.
func (a *app) refreshFailed(w http.ResponseWriter, r *http.Request, f Function, user *User, err error) {
	var rerr *oauth2.RetrieveError
	if errors.As(err, &rerr) && rerr.ErrorCode == "invalid_grant" {
		a.signInAgain(w, r, f, session.Session{}, nil, "refresh token rejected")
		return
	}
	p, cause := tokenProblem(r.Context(), err, "/"+f.Name)
	a.log.WarnContext(r.Context(), "token refresh failed", "status", p.Status, "cause", cause)
	failIn(w, r, user.frame, p)
}

// callFailed answers a call that failed with err. When Google refused for
// want of a scope, the session is cleared and the next sign-in asks for
// consent again, so that the person can grant it instead of coming back to
// the same refusal.
func (a *app) callFailed(w http.ResponseWriter, r *http.Request, f Function, user *User, err error) {
	p := googleProblem(r.Context(), f, err)
	a.log.WarnContext(r.Context(), "call to Google failed", "function", f.Name, "status", p.page.Status, "cause", p.cause)
	if p.needsConsent {
		a.store.ClearSession(w)
		if err := a.store.NeedsConsent.Write(w, true); err != nil {
			a.log.ErrorContext(r.Context(), "cannot write the consent cookie", "error", err.Error())
		}
		user.frame = pages.Frame{}
	}
	failIn(w, r, user.frame, p.page)
}

// signInAgain sends the browser to oauth2init, and back to f afterwards. An
// unusable session cookie is cleared, and an expired session's refresh
// token revoked.
func (a *app) signInAgain(w http.ResponseWriter, r *http.Request, f Function, sess session.Session, err error, reason string) {
	if !errors.Is(err, session.ErrMissing) {
		a.discardSession(w, r, sess, err)
	}
	a.log.InfoContext(r.Context(), "sending the browser to sign in", "reason", reason)
	redirect(w, http.StatusFound, a.signInURL(f.Name))
}

// signInURL is oauth2init's address for a sign-in that returns to the
// function called name.
func (a *app) signInURL(name string) string {
	if name == "" || name == a.home {
		return "/oauth2init"
	}
	return "/oauth2init?" + url.Values{"next": {name}}.Encode()
}

// switchAccountURL starts a sign-in with Google's account chooser that
// returns to the function called name.
func (a *app) switchAccountURL(name string) string {
	v := url.Values{"account": {"choose"}}
	if name != "" && name != a.home {
		v.Set("next", name)
	}
	return "/oauth2init?" + v.Encode()
}

// missingScopes returns the scopes of want that granted lacks.
func missingScopes(want, granted []string) []string {
	return slices.DeleteFunc(slices.Clone(want), func(s string) bool { return slices.Contains(granted, s) })
}
