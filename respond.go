package oauthgmail

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"example.com/gcf-oauth-gmail/internal/pages"
)

// wantsJSON reports whether the client prefers JSON to HTML.
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return preference(accept, "application/json") > preference(accept, "text/html")
}

// preference returns the q-value the Accept header gives mediaType, or 0.
func preference(accept, mediaType string) float64 {
	for part := range strings.SplitSeq(accept, ",") {
		name, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(name), mediaType) {
			continue
		}
		q := 1.0
		for param := range strings.SplitSeq(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(param), "q="); ok {
				if q, _ = strconv.ParseFloat(v, 64); q < 0 || q > 1 {
					q = 0
				}
			}
		}
		return q
	}
	return 0
}

// writeJSON answers status with v as JSON and the headers every response
// carries.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := w.Header()
	pages.SetSecurityHeaders(h)
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone; nothing to do
	return nil
}

// fail answers with the problem p: a page, which names the account of a
// browser that is signed in, or, for a client that asked for JSON,
// {"error":{"code":N,"message":"..."}}, with the same status.
func (a *app) fail(w http.ResponseWriter, r *http.Request, p pages.Problem) {
	frame := pages.Frame{}
	if sess, err := a.store.Session(r); err == nil {
		frame = a.frameFor(sess, Function{Name: a.home})
	}
	failIn(w, r, frame, p)
}

// failIn is fail with the page shown inside frame.
func failIn(w http.ResponseWriter, r *http.Request, frame pages.Frame, p pages.Problem) {
	if !wantsJSON(r) {
		frame.WriteProblem(w, p)
		return
	}
	if pages.ValidRetryAfter(p.RetryAfter) {
		w.Header().Set("Retry-After", p.RetryAfter)
	}
	message := strings.TrimSuffix(p.Heading, ".") + ". " + p.Detail
	_ = writeJSON(w, p.Status, map[string]map[string]any{"error": {"code": p.Status, "message": message}})
}
