package oauthgmail

import (
	"net/http"
	"slices"
	"strings"

	"example.com/gcf-oauth-gmail/internal/logging"
	"example.com/gcf-oauth-gmail/internal/pages"
)

// newHandler returns the handler of f: it checks the method, sends HSTS over
// https, turns a panic into a logged error and a 500 page instead of a
// dropped connection, and runs f's Call for the signed-in user or, for the
// app's own functions, f's own code.
func (a *app) newHandler(f Function) http.Handler {
	allowed := f.Methods
	if len(allowed) == 0 {
		allowed = []string{http.MethodGet, http.MethodHead}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = logging.WithExecutionID(r)
		if a.secure {
			// Browsers then refuse plain http to this host for a year.
			w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !slices.Contains(allowed, r.Method) {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			a.fail(w, r, problemMethodNotAllowed(f.Name, allowed))
			return
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.log.ErrorContext(r.Context(), "handler panicked", "function", f.Name)
				a.fail(w, r, problemInternal)
			}
		}()
		if f.Call != nil {
			a.serveSignedIn(w, r, f)
			return
		}
		f.serve(a, w, r)
	})
}

// redirect answers status with no body: 302, or 303 at the end of a
// change (post/redirect/get), for which the browser loads location with GET,
// so that reloading it changes nothing again.
func redirect(w http.ResponseWriter, status int, location string) {
	h := w.Header()
	pages.SetSecurityHeaders(h)
	h.Set("Location", location)
	w.WriteHeader(status)
}

// writeConfigurationProblem answers while the app cannot run: the visitor
// learns only that it is not set up; the operator finds why in the log,
// written once when the configuration was read.
func writeConfigurationProblem(w http.ResponseWriter, r *http.Request) {
	failIn(w, r, pages.Frame{}, problemNotConfigured)
}
