package oauthgmail

import (
	"net/http"
	"slices"
	"strings"

	"example.com/gcf-oauth-gmail/internal/logging"
	"example.com/gcf-oauth-gmail/internal/pages"
)

// methods is the set of HTTP methods a function answers.
type methods []string

var (
	readOnly       = methods{http.MethodGet, http.MethodHead}
	signOutMethods = methods{http.MethodGet, http.MethodHead, http.MethodPost}
)

// allow answers 405 with an Allow header when r's method is not allowed.
func (m methods) allow(w http.ResponseWriter, r *http.Request) bool {
	if slices.Contains(m, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(m, ", "))
	pages.WriteProblem(w, problemMethodNotAllowed)
	return false
}

// serve is how every function starts: it finds the app (configured once per
// process), checks the method, and runs handle, turning a panic into a
// logged error and a 500 page instead of a dropped connection.
func serve(w http.ResponseWriter, r *http.Request, allowed methods, handle func(*app, http.ResponseWriter, *http.Request)) {
	r = logging.WithExecutionID(r)
	a, err := appFor(r)
	if err != nil {
		writeConfigurationProblem(w)
		return
	}
	if a.secure {
		// Browsers then refuse plain http to this host for a year.
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
	}
	if !allowed.allow(w, r) {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.log.ErrorContext(r.Context(), "handler panicked", "path", r.URL.Path)
			pages.WriteProblem(w, problemInternal)
		}
	}()
	handle(a, w, r)
}

// appKey is the context key of an app bound to a request.
type appKey struct{}

// appFor returns the app that serves r: the one configured from this
// process's environment, unless an app was bound to r's context. Tests bind
// their own, to run apps with different settings in one process.
func appFor(r *http.Request) (*app, error) {
	if a, ok := r.Context().Value(appKey{}).(*app); ok {
		return a, nil
	}
	return deployed()
}

// redirect answers 302 with no body; a redirect needs no page.
func redirect(w http.ResponseWriter, location string) {
	h := w.Header()
	pages.SetSecurityHeaders(h)
	h.Set("Location", location)
	w.WriteHeader(http.StatusFound)
}

// writeConfigurationProblem answers a request the app cannot serve because
// its configuration is wrong. The page says only that: which file or value
// is at fault, and why, could help a stranger probing the app, so it goes to
// the log alone (appFromEnvironment logs it once, at start).
func writeConfigurationProblem(w http.ResponseWriter) {
	pages.WriteProblem(w, problemNotConfigured)
}
