package fakegoogle

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

//go:embed templates/*.html
var templateFiles embed.FS

// The templates are parsed on first use, not at program start: the local
// runner imports this package, and its start-up time is measured.
var (
	consentTemplate = sync.OnceValue(func() *template.Template { return pageTemplate("templates/consent.html") })
	errorTemplate   = sync.OnceValue(func() *template.Template { return pageTemplate("templates/error.html") })
)

// pageTemplate parses the layout with one content template.
func pageTemplate(content string) *template.Template {
	return template.Must(template.ParseFS(templateFiles, "templates/layout.html", content))
}

// pageData is what the layout template needs.
type pageData struct {
	Title string
	Nonce string
}

// newNonce returns a fresh CSP nonce of 128 random bits.
func newNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b) // CSP allows - and _; html/template leaves them alone
}

// writePage renders tmpl with data and sends it with the security headers of
// every page: a CSP that allows no script at all, only the page's own nonced
// style, and form submissions only to formAction (a CSP source list; empty
// means none).
func writePage(w http.ResponseWriter, status int, tmpl *template.Template, nonce, formAction string, data any) {
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "layout", data); err != nil {
		// The templates are fixed and their data is plain strings, so this
		// is a programming error; say so without leaking anything.
		http.Error(w, "fakegoogle: internal error rendering page", http.StatusInternalServerError)
		return
	}
	if formAction == "" {
		formAction = "'none'"
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; form-action "+formAction+
		"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPageData fills the error template.
type errorPageData struct {
	pageData
	Heading     string
	Description string
	Code        string
	Status      int
}

// writeErrorPage shows an authorization error the way Google does when it
// cannot trust the redirect URI: a page, no redirect.
func writeErrorPage(w http.ResponseWriter, status int, heading, code, description string) {
	nonce := newNonce()
	writePage(w, status, errorTemplate(), nonce, "", errorPageData{
		pageData:    pageData{Title: "Error " + strconv.Itoa(status) + ": " + code, Nonce: nonce},
		Heading:     heading,
		Description: description,
		Code:        code,
		Status:      status,
	})
}

// originOf returns scheme://host of a URL for a CSP source list, or "" when
// it is not a plain http(s) origin that can go in a header safely.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	for _, r := range u.Host {
		ok := r == '.' || r == '-' || r == ':' || r == '[' || r == ']' ||
			('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
		if !ok {
			return ""
		}
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host
}
