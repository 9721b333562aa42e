package oauthgmail

import (
	"cmp"
	"net/http"

	"example.com/gcf-oauth-gmail/internal/pages"
	"example.com/gcf-oauth-gmail/internal/session"
)

// SignOut is the sign-out page. GET shows a Sign out button to a browser
// that is signed in, and otherwise says that it is signed out. A POST from
// this site revokes the user's token at Google, deletes the app's cookies
// and redirects (303) to the GET page, which says whether Google confirmed
// the revocation (a short-lived cookie carries the outcome, so reloading
// the page shows it again); a POST from another site changes nothing.
func SignOut(w http.ResponseWriter, r *http.Request) {
	serve(w, r, signOutMethods, (*app).signOut)
}

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

func (a *app) signOut(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		page := signOutPage{}
		if _, err := a.store.Session(r); err == nil {
			page.SignedIn = true
		} else if out, ok := a.store.SignOut(r); ok {
			page.Revocation = revocationUnconfirmed
			if out.Revoked {
				page.Revocation = revocationConfirmed
			}
		}
		pages.Write(w, http.StatusOK, "signout", page)
		return
	}
	if err := a.csrf.Check(r); err != nil {
		a.log.WarnContext(r.Context(), "cross-site sign-out refused")
		writeProblem(w, problemCrossSite)
		return
	}
	a.store.ClearAll(w, r)
	if sess, err := a.store.Session(r); (err == nil || err == session.ErrExpired) && sess.Token != nil {
		revoked := a.revoke(r.Context(), cmp.Or(sess.Token.RefreshToken, sess.Token.AccessToken))
		a.log.InfoContext(r.Context(), "signed out", "revoked", revoked)
		if err := a.store.SetSignOut(w, session.SignOut{Revoked: revoked}); err != nil {
			a.log.ErrorContext(r.Context(), "cannot write the sign-out cookie", "error", err.Error())
		}
	}
	pages.SetSecurityHeaders(w.Header())
	w.Header().Set("Location", "/signout")
	w.WriteHeader(http.StatusSeeOther)
}
