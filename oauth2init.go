package oauthgmail

import (
	"crypto/rand"
	"net"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/session"
)

// signInScopes are asked for at every sign-in, besides the function's own:
// with them Google's token response carries an ID token naming the account,
// which the pages show. People cannot untick them.
var signInScopes = []string{"openid", "https://www.googleapis.com/auth/userinfo.email"}

// oauth2Init sends the browser to Google to grant the scopes of the function
// it came from ("next"; the home function by default), on top of what it
// granted before (incremental authorization), or straight back to that
// function when the session has them already. "account=choose" asks Google
// to show its account chooser, to sign in with another account.
func (a *app) oauth2Init(w http.ResponseWriter, r *http.Request) {
	// A sign-in must start on the host the callback lands on, or its
	// login cookie would never reach the callback.
	if !a.onCanonicalHost(r) {
		redirect(w, http.StatusFound, a.canonicalURL(r))
		return
	}
	query := r.URL.Query()
	f, ok := a.function(query.Get("next"))
	if !ok {
		f, _ = a.function(a.home)
	}
	chooseAccount := query.Get("account") == "choose"
	sess, err := a.store.Session(r)
	signedIn := err == nil && (sess.Token.Valid() || sess.Token.RefreshToken != "")
	if signedIn && !chooseAccount && len(missingScopes(f.Scopes, sess.Scopes)) == 0 {
		redirect(w, http.StatusFound, "/"+f.Name)
		return
	}
	if err != nil && err != session.ErrMissing {
		a.discardSession(w, r, sess, err)
	}
	login := session.Login{State: rand.Text(), Verifier: oauth2.GenerateVerifier()}
	if f.Name != a.home {
		login.Next = f.Name
	}
	if err := a.store.Login.Write(w, login); err != nil {
		a.log.ErrorContext(r.Context(), "cannot write the login cookie", "error", err.Error())
		a.fail(w, r, problemInternal)
		return
	}
	options := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(login.Verifier), a.accessType,
		oauth2.SetAuthURLParam("include_granted_scopes", "true"),
	}
	var prompt []string
	if chooseAccount {
		prompt = append(prompt, "select_account")
	} else if signedIn && sess.Email != "" {
		// More scopes for the same person: Google need not ask who.
		options = append(options, oauth2.SetAuthURLParam("login_hint", sess.Email))
	}
	// Google sends a refresh token only on a consent screen the person has
	// seen: offline access asks for one unless the session holds one.
	needsConsent, _ := a.store.NeedsConsent.Read(r)
	if needsConsent || a.accessType == oauth2.AccessTypeOffline && !(signedIn && sess.Token.RefreshToken != "" && !chooseAccount) {
		prompt = append(prompt, "consent")
	}
	if len(prompt) > 0 {
		options = append(options, oauth2.SetAuthURLParam("prompt", strings.Join(prompt, " ")))
	}
	scopes := append(slices.Clone(signInScopes), f.Scopes...)
	options = append(options, oauth2.SetAuthURLParam("scope", strings.Join(scopes, " ")))
	redirect(w, http.StatusFound, a.oauth.AuthCodeURL(login.State, options...))
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
