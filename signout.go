package oauthgmail

import (
	"cmp"
	"net/http"

	"example.com/gcf-oauth-gmail/internal/pages"
	"example.com/gcf-oauth-gmail/internal/session"
)

// Outcomes of a sign-out, as the page names them.
const (
	revocationConfirmed   = "confirmed"
	revocationUnconfirmed = "unconfirmed"
)

// signOutPage is the data of the sign-out page.
type signOutPage struct {
	SignedIn   bool   // show the Sign out button
	Revocation string // after a sign-out: revocationConfirmed, revocationUnconfirmed or ""
}

// signOut shows the sign-out page (GET) or signs out (POST): the token is
// revoked at Google, the app's cookies deleted, and the browser sent (303)
// to the page, which a short-lived cookie tells what happened, so that
// reloading it shows the same.
func (a *app) signOut(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		page := signOutPage{}
		frame := pages.Frame{}
		if sess, err := a.store.Session(r); err == nil {
			page.SignedIn, frame = true, a.frameFor(sess, Function{Name: a.home})
		} else if out, err := a.store.LastSignOut.Read(r); err == nil {
			page.Revocation = revocationUnconfirmed
			if out.Revoked {
				page.Revocation = revocationConfirmed
			}
		}
		frame.Write(w, http.StatusOK, "signout", page)
		return
	}
	if err := a.csrf.Check(r); err != nil {
		a.log.WarnContext(r.Context(), "cross-site sign-out refused")
		a.fail(w, r, problemCrossSiteSignOut)
		return
	}
	a.store.ClearAll(w, r)
	if sess, err := a.store.Session(r); (err == nil || err == session.ErrExpired) && sess.Token != nil {
		revoked := a.revoke(r.Context(), cmp.Or(sess.Token.RefreshToken, sess.Token.AccessToken))
		a.log.InfoContext(r.Context(), "signed out", "revoked", revoked)
		if err := a.store.LastSignOut.Write(w, session.SignOut{Revoked: revoked}); err != nil {
			a.log.ErrorContext(r.Context(), "cannot write the sign-out cookie", "error", err.Error())
		}
	}
	redirect(w, http.StatusSeeOther, "/signout")
}
