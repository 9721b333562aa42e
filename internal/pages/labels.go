package pages

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// The labels page is the one page served on every visit, so it is not
// executed by html/template per request: the template engine calls every
// escaper and function through reflection, which cost more than the rest
// of the handler's own work together. Instead:
//
//   - the layout around the content (head, stylesheet, <main>) is rendered
//     once by html/template, with a marker where the content goes, and cut
//     in two at the marker;
//   - the content is written here, every text from Gmail or the session
//     going through writeText, the standard library's HTML escaping, and
//     only ever into element content (never an attribute, URL or script).
//
// FuzzLabelsPage checks that every text comes out as exactly that text,
// with no markup of its own.

// labelsFrame is the layout of the labels page, before and after the content.
var labelsFrame = sync.OnceValue(func() frame { return renderFrame("Your labels") })

// frame is a page's layout cut where its content goes.
type frame struct{ head, tail string }

// contentMarker stands for the content while the frame is rendered; it is
// template text, so html/template writes it unchanged.
const contentMarker = "@@content@@"

func renderFrame(title string) frame {
	t := parseContent(`{{define "content"}}` + contentMarker + `{{end}}`)
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", page{Title: title}); err != nil {
		panic(err) // the layout is fixed and tested: a failure is a bug
	}
	head, tail, ok := strings.Cut(b.String(), contentMarker)
	if !ok {
		panic("pages: the layout has no content")
	}
	return frame{head, tail}
}

// WriteLabels writes the labels page with status 200.
func WriteLabels(w http.ResponseWriter, data Labels) {
	f := labelsFrame()
	buf := buffers.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); buffers.Put(buf) }()
	buf.WriteString(f.head)
	writeLabelsContent(buf, data)
	buf.WriteString(f.tail)
	send(w, http.StatusOK, buf)
}

func writeLabelsContent(buf *bytes.Buffer, data Labels) {
	buf.WriteString("\n<header>\n  <div>\n    <h1>Your Gmail labels</h1>\n    ")
	if data.Email != "" {
		buf.WriteString(`<p class="muted">Signed in as <strong id="account">`)
		writeText(buf, data.Email)
		buf.WriteString("</strong></p>")
	}
	buf.WriteString("\n  </div>\n" +
		`  <form method="post" action="/signout"><button type="submit" id="signout">Sign out</button></form>` +
		"\n</header>\n" + `<p id="count">`)
	buf.WriteString(strconv.Itoa(data.Count))
	buf.WriteString(" label(s) found</p>\n")
	if len(data.System) > 0 {
		buf.WriteString("<h2>System labels</h2>\n" + `<ul class="labels" id="system-labels">`)
		writeItems(buf, data.System)
		buf.WriteString("\n</ul>")
	}
	buf.WriteString("\n")
	if len(data.User) > 0 {
		buf.WriteString("<h2>Your labels</h2>\n" + `<ul class="labels" id="user-labels">`)
		writeItems(buf, data.User)
		buf.WriteString("\n</ul>")
	}
	buf.WriteString("\n")
}

// writeItems writes one <li> per text.
func writeItems(buf *bytes.Buffer, texts []string) {
	for _, t := range texts {
		buf.WriteString("\n  <li>")
		writeText(buf, t)
		buf.WriteString("</li>")
	}
}

// writeText writes s as element content: template.HTMLEscapeString
// escapes <, >, &, ' and " and replaces NUL, and returns s itself (no
// allocation) when there is nothing to escape.
func writeText(buf *bytes.Buffer, s string) {
	buf.WriteString(template.HTMLEscapeString(s))
}
