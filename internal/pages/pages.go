// Package pages renders every HTML page the functions return with
// html/template, and sets the headers every response carries.
//
// Each page is one file, templates/NAME.html, that defines a "title" and a
// "content" template; the layout (templates/layout.html) wraps the content.
// A page is written by name: Write(w, status, "labels", data), or, for a
// signed-in person, inside a Frame that names the account and shows a
// notice: frame.Write(w, status, "labels", data).
package pages

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// AppName is the app's name as people see it: every page's title ends
// with it, and the demo's emulator of Google names the app so on its
// consent page. Name your app here.
const AppName = "Gmail labels"

//go:embed templates
var files embed.FS

// style is the one stylesheet, inlined so the pages need no other request.
// The Content-Security-Policy allows exactly this stylesheet, by its hash.
var style = mustRead("templates/style.css")

// ContentSecurityPolicy allows no script at all, this page's own stylesheet,
// and forms that post back to this host.
var ContentSecurityPolicy = "default-src 'none'; style-src 'sha256-" + hash(style) +
	"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// templates are parsed on first use rather than at program start, which
// keeps a cold start short when the first request is a redirect.
var templates = sync.OnceValue(parseAll)

// SetSecurityHeaders sets the headers every response of the app carries,
// pages and redirects alike: no caching (responses hold personal data or
// set cookies), no MIME sniffing, no referrer (callback URLs hold codes).
func SetSecurityHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// Write writes the page templates/name.html, rendered with data, with
// status, for a visitor who is not signed in. A page that does not exist or
// fails to render is a bug: it is answered with a plain 500 page.
func Write(w http.ResponseWriter, status int, name string, data any) {
	Frame{}.Write(w, status, name, data)
}

// Frame is what the layout shows around every page of a signed-in person:
// the account, a way to switch to another one, and a notice left by the
// last change.
type Frame struct {
	Account   string // the signed-in Google account; empty when not known
	SwitchURL string // starts a sign-in with Google's account chooser
	Notice    string // shown once, above the page ("Label created")
}

// view is what the layout is rendered with: the frame, and the page's own
// data, which the page's templates see as their dot.
type view struct {
	Frame Frame
	Data  any
}

// Write writes the page templates/name.html inside f; see the package
// function Write.
func (f Frame) Write(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	t, ok := templates()[name]
	if !ok || t.ExecuteTemplate(&buf, "layout", view{f, data}) != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`<!doctype html><html lang="en"><title>Error</title><main><h1>Something went wrong</h1><p>This page could not be shown.</p></main>`)
	}
	h := w.Header()
	SetSecurityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // the client may be gone; nothing to do
}

// Problem describes an error page: what happened, in plain words, and the
// one thing to do next.
type Problem struct {
	Status     int
	Heading    string
	Detail     string
	Next       *Link
	RetryAfter string // copied to the Retry-After header when it is a valid value
	// Choice marks the outcome of the person's own choice (they denied
	// access): the page shows no error status.
	Choice bool
}

// Link is a call to action.
type Link struct{ URL, Text string }

// WriteProblem writes an error page with p.Status.
func WriteProblem(w http.ResponseWriter, p Problem) { Frame{}.WriteProblem(w, p) }

// WriteProblem writes an error page with p.Status inside f.
func (f Frame) WriteProblem(w http.ResponseWriter, p Problem) {
	if ValidRetryAfter(p.RetryAfter) {
		w.Header().Set("Retry-After", p.RetryAfter)
	}
	f.Write(w, p.Status, "problem", p)
}

// ValidRetryAfter accepts the two forms of Retry-After that RFC 9110
// allows: a number of seconds or an HTTP date.
func ValidRetryAfter(v string) bool {
	if v == "" {
		return false
	}
	if n, err := strconv.Atoi(v); err == nil {
		return n >= 0
	}
	_, err := http.ParseTime(v)
	return err == nil
}

// parseAll parses every page with the layout.
func parseAll() map[string]*template.Template {
	// The stylesheet is a constant embedded in the binary, never user input.
	funcs := template.FuncMap{
		"style":   func() template.CSS { return template.CSS(style) }, // #nosec G203 -- constant, trusted CSS
		"appName": func() string { return AppName },
	}
	layout := template.Must(template.New("layout").Funcs(funcs).Parse(mustRead("templates/layout.html")))
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, file := range names {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.Must(layout.Clone()).Parse(mustRead(file)))
	}
	return pages
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

// Form is the data of the form page (templates/form.html): one form of a
// few fields that posts to Action, for a function that changes something.
type Form struct {
	Heading, Intro string
	Action         string // the function's path, such as "/createlabel"
	Fields         []Field
	Submit         string // the button's text
	Back           *Link
}

// Field is one input of a Form.
type Field struct {
	Name, Label string
	Type        string // an input type; "text" when empty
	Value       string
	Required    bool
	MaxLength   int // 0 for no limit
}
