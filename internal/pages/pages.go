// Package pages renders every HTML page the functions return, escaped by
// html/template, and sets the security headers every page carries.
package pages

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"sync"
)

//go:embed templates
var files embed.FS

// style is the one stylesheet, inlined so the pages need no other request.
// The Content-Security-Policy allows exactly this stylesheet, by its hash.
var style = mustRead("templates/style.css")

// ContentSecurityPolicy allows no script at all, this page's own stylesheet,
// and forms that post back to this host.
var ContentSecurityPolicy = "default-src 'none'; style-src 'sha256-" + hash(style) +
	"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// The templates are parsed on first use rather than at program start, which
// keeps a cold start short when the first request is a redirect.
var (
	problemPage   = sync.OnceValue(func() *template.Template { return parse("templates/problem.html") })
	signedOutPage = sync.OnceValue(func() *template.Template { return parse("templates/signedout.html") })
)

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// SetSecurityHeaders sets the headers every response of the app carries,
// pages and redirects alike: no caching (responses hold personal data or
// set cookies), no MIME sniffing, no referrer (callback URLs hold codes).
func SetSecurityHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// Labels is the data of the labels page.
type Labels struct {
	Email  string // signed-in account, if known
	Count  int
	System []string // label names
	User   []string
}

// Problem describes an error page: what happened and what to do next.
type Problem struct {
	Status     int
	Heading    string
	Detail     string
	Next       *Link
	RetryAfter string // copied to the Retry-After header when it is a valid value
}

// Link is a call to action.
type Link struct{ URL, Text string }

// SignedOut is the data of the signed-out page.
type SignedOut struct {
	HadSession bool // the browser was signed in
	Revoked    bool // Google confirmed the revocation of its token
}

// WriteProblem writes an error page with p.Status.
func WriteProblem(w http.ResponseWriter, p Problem) {
	if validRetryAfter(p.RetryAfter) {
		w.Header().Set("Retry-After", p.RetryAfter)
	}
	write(w, p.Status, problemPage(), page{Title: p.Heading, Data: p})
}

// WriteSignedOut writes the signed-out page with status 200.
func WriteSignedOut(w http.ResponseWriter, data SignedOut) {
	write(w, http.StatusOK, signedOutPage(), page{Title: "Signed out", Data: data})
}

// page is what the layout sees: a title and the content template's data.
type page struct {
	Title string
	Data  any
}

func write(w http.ResponseWriter, status int, t *template.Template, p page) {
	buf := buffers.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); buffers.Put(buf) }()
	if err := t.ExecuteTemplate(buf, "layout", p); err != nil {
		// The templates are fixed and tested; a failure here is a bug.
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("<!doctype html><title>Error</title><p>The page could not be rendered.")
	}
	send(w, status, buf)
}

// send writes buf as an HTML page with status and the headers every page
// carries.
func send(w http.ResponseWriter, status int, buf *bytes.Buffer) {
	h := w.Header()
	SetSecurityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // the client may be gone; nothing to do
}

// validRetryAfter accepts the two forms RFC 9110 allows: a number of
// seconds or an HTTP date.
func validRetryAfter(v string) bool {
	if v == "" {
		return false
	}
	if n, err := strconv.Atoi(v); err == nil {
		return n >= 0
	}
	_, err := http.ParseTime(v)
	return err == nil
}

// parse joins the content template in file name to the layout.
func parse(name string) *template.Template { return parseContent(mustRead(name)) }

// parseContent joins a content template to the layout, which passes it
// page.Data.
func parseContent(content string) *template.Template {
	// The stylesheet is a constant embedded in the binary, never user input.
	funcs := template.FuncMap{
		"style": func() template.CSS { return template.CSS(style) }, // #nosec G203 -- constant, trusted CSS
	}
	t := template.Must(template.New("layout").Funcs(funcs).Parse(mustRead("templates/layout.html")))
	return template.Must(t.Parse(content))
}

func mustRead(name string) string {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}
