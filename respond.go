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

// writeJSON answers 200 with v as JSON and the headers every response
// carries.
func writeJSON(w http.ResponseWriter, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := w.Header()
	pages.SetSecurityHeaders(h)
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // the client may be gone; nothing to do
	return nil
}
