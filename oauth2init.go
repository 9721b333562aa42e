package oauthgmail

import (
	"cmp"
	"crypto/rand"
	"net"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/session"
)

// OAuth2Init starts a sign-in: it redirects the browser to Google's consent
// page, or, when the browser is already signed in, straight to the function
// it asked for (ListLabels unless "next" names another).
func OAuth2Init(w http.ResponseWriter, r *http.Request) {
	serve(w, r, readOnly, (*app).oauth2Init)
}

func (a *app) oauth2Init(w http.ResponseWriter, r *http.Request) {
	// A sign-in must start on the host the callback lands on, or its
	// login cookie would never reach the callback.
	if !a.onCanonicalHost(r) {
		redirect(w, a.canonicalURL(r))
		return
	}
	next := r.URL.Query().Get("next")
	if !a.actsForUser(next) {
		next = ""
	}
	sess, err := a.store.Session(r)
	if err == nil && usable(sess) {
		redirect(w, "/"+cmp.Or(next, a.home))
		return
	}
	if err != session.ErrMissing {
		a.discardSession(w, r, sess, err)
	}
	login := session.Login{State: rand.Text(), Verifier: oauth2.GenerateVerifier(), Next: next}
	if err := a.store.SetLogin(w, login); err != nil {
		a.log.ErrorContext(r.Context(), "cannot write the login cookie", "error", err.Error())
		writeProblem(w, problemInternal)
		return
	}
	options := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(login.Verifier)}, a.authParams...)
	if !a.offline && a.store.NeedsConsent(r) {
		options = append(options, oauth2.SetAuthURLParam("prompt", "consent"))
	}
	redirect(w, a.oauth.AuthCodeURL(login.State, options...))
}

// usable reports whether a session can still reach Google without the user:
// its access token is valid or it can be refreshed.
func usable(s session.Session) bool {
	return s.Token.Valid() || s.Token.RefreshToken != ""
}

// movedParam is the query parameter oauth2init adds when it sends the
// browser to the redirect URL's host (moved=1). A request that carries it
// and still arrives on another host has been moved once already: something
// between the browser and the function (a proxy that rewrites Host) hides
// the host the browser used, and a second redirect would start a loop. The
// parameter means nothing else; oauth2init otherwise ignores it.
const movedParam = "moved"

// onCanonicalHost reports whether oauth2init may serve r where it arrived:
// on the host (and port) of the redirect URL, or anywhere once the browser
// has been moved there (movedParam), which is logged. A front end that
// rewrites Host says which host the browser used in X-Forwarded-Host; a
// forged one can only spare the redirect.
func (a *app) onCanonicalHost(r *http.Request) bool {
	forwarded, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Host"), ",")
	if sameHost(r.Host, a.redirect.Scheme, a.redirect.Host) ||
		forwarded != "" && sameHost(strings.TrimSpace(forwarded), a.redirect.Scheme, a.redirect.Host) {
		return true
	}
	if r.URL.Query().Has(movedParam) {
		a.log.WarnContext(r.Context(), "oauth2init was moved to the redirect URL's host and still arrived on another: serving it there rather than redirecting again; a proxy may rewrite Host without X-Forwarded-Host",
			"host", r.Host, "redirect_url_host", a.redirect.Host)
		return true
	}
	return false
}

// canonicalURL is r's address moved to the redirect URL's scheme, host and
// port, with oauth2init's path there and r's query, marked with movedParam
// so that the move happens at most once.
func (a *app) canonicalURL(r *http.Request) string {
	u := *a.redirect
	u.Path = u.Path[:strings.LastIndex(u.Path, "/")+1] + "oauth2init"
	u.RawPath, u.RawQuery = "", r.URL.RawQuery
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += movedParam + "=1"
	return u.String()
}

// sameHost compares a request's Host header with a URL's host, ignoring case
// and a port that is the scheme's default.
func sameHost(requestHost, scheme, urlHost string) bool {
	return strings.EqualFold(withoutDefaultPort(requestHost, scheme), withoutDefaultPort(urlHost, scheme))
}

func withoutDefaultPort(host, scheme string) string {
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		return strings.Trim(host, "[]")
	}
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		return h
	}
	return net.JoinHostPort(h, port)
}
