package oauthgmail

import (
	"errors"
	"net/http"
	"strings"

	"example.com/gcf-oauth-gmail/internal/config"
	"example.com/gcf-oauth-gmail/internal/pages"
)

// methods is the set of HTTP methods a function answers.
type methods []string

var (
	readOnly = methods{http.MethodGet, http.MethodHead}
	postOnly = methods{http.MethodPost}
)

// check answers 405 with an Allow header when r's method is not allowed.
func (m methods) check(w http.ResponseWriter, r *http.Request) bool {
	for _, allowed := range m {
		if r.Method == allowed {
			return true
		}
	}
	allow := strings.Join(m, ", ")
	w.Header().Set("Allow", allow)
	pages.WriteProblem(w, pages.Problem{
		Status:  http.StatusMethodNotAllowed,
		Heading: "Method not allowed",
		Detail:  "This address answers only " + allow + " requests.",
		Next:    &pages.Link{URL: "/oauth2init", Text: "Go to sign-in"},
	})
	return false
}

// serve runs handle, turning a panic into a logged error and a 500 page
// instead of a dropped connection and a stack trace.
func (a *app) serve(w http.ResponseWriter, r *http.Request, handle func(*app, http.ResponseWriter, *http.Request)) {
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

// handler returns handle as an http.Handler with the method check, for
// tests and for serving an app that is not the deployed one.
func (a *app) handler(allowed methods, handle func(*app, http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allowed.check(w, r) {
			a.serve(w, r, handle)
		}
	})
}

// redirect answers 302 with no body; a redirect needs no page.
func redirect(w http.ResponseWriter, location string) {
	h := w.Header()
	pages.SetSecurityHeaders(h)
	h.Set("Location", location)
	w.WriteHeader(http.StatusFound)
}

func writeConfigurationProblem(w http.ResponseWriter, err error) {
	detail := "The server is not configured correctly."
	var cerr *config.Error
	if errors.As(err, &cerr) {
		detail = "The server is not configured correctly: " + cerr.Error() + "."
	}
	pages.WriteProblem(w, pages.Problem{
		Status:  http.StatusInternalServerError,
		Heading: "This app is not set up yet",
		Detail:  detail + " The operator can find the same message in the logs.",
	})
}
