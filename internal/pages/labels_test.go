package pages

import (
	"html"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// decodedText is what a browser shows for escaped element content: the
// entities decoded, NUL replaced.
func decodedText(t *testing.T, escaped string) string {
	t.Helper()
	if strings.ContainsAny(escaped, `<>"'`) {
		t.Errorf("text %q holds unescaped markup", escaped)
	}
	return html.UnescapeString(escaped)
}

func browserText(s string) string { return strings.ReplaceAll(s, "\x00", "\uFFFD") }

// checkLabelsPage renders data and verifies that the page is the layout
// around the content, and that the content shows the address, the count
// and each name as exactly that text, in order, with no markup of its own.
func checkLabelsPage(t *testing.T, data Labels) {
	t.Helper()
	rec := httptest.NewRecorder()
	WriteLabels(rec, data)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
		t.Fatalf("status %d, Content-Length %q for %d bytes", rec.Code, rec.Header().Get("Content-Length"), rec.Body.Len())
	}
	f := labelsFrame()
	content, hasHead := strings.CutPrefix(rec.Body.String(), f.head)
	content, hasTail := strings.CutSuffix(content, f.tail)
	if !hasHead || !hasTail {
		t.Fatalf("the page is not the layout around its content: %q", rec.Body.String())
	}

	email, rest, found := between(content, `<strong id="account">`, "</strong></p>")
	if found != (data.Email != "") {
		t.Errorf("address shown %v for %q", found, data.Email)
	}
	if found && decodedText(t, email) != browserText(data.Email) {
		t.Errorf("address shows %q, want %q", html.UnescapeString(email), data.Email)
	}
	count, rest, _ := between(rest, `<p id="count">`, " label(s) found</p>")
	if count != strconv.Itoa(data.Count) {
		t.Errorf("count %q, want %d", count, data.Count)
	}
	for _, list := range []struct {
		id    string
		names []string
	}{{"system-labels", data.System}, {"user-labels", data.User}} {
		items, after, found := between(rest, `<ul class="labels" id="`+list.id+`">`, "\n</ul>")
		if found != (len(list.names) > 0) {
			t.Errorf("list %s shown %v for %d names", list.id, found, len(list.names))
			continue
		}
		rest = after
		parts := strings.Split(items, "\n  <li>")
		if parts[0] != "" || len(parts)-1 != len(list.names) {
			t.Errorf("list %s: %q for %d names", list.id, items, len(list.names))
			continue
		}
		for i, part := range parts[1:] {
			text, ok := strings.CutSuffix(part, "</li>")
			if !ok || decodedText(t, text) != browserText(list.names[i]) {
				t.Errorf("list %s item %d is %q, want %q", list.id, i, part, list.names[i])
			}
		}
	}
}

// between returns the text of s between the first open and the close after
// it, and what follows close.
func between(s, open, close string) (inner, rest string, found bool) {
	_, after, ok := strings.Cut(s, open)
	if !ok {
		return "", s, false
	}
	inner, rest, ok = strings.Cut(after, close)
	return inner, rest, ok
}

func TestLabelsPageShowsEveryTextAsText(t *testing.T) {
	tests := []Labels{
		{},
		{Email: "ada@example.com", Count: 1, System: []string{"INBOX"}},
		{Count: 2, User: []string{"Work", "Travel"}},
		{
			Email:  `"><script>alert(1)</script>@example.com`,
			Count:  9,
			System: []string{"INBOX", "SENT"},
			User:   []string{`<img src=x onerror=alert(1)>`, `Tom & Jerry "quotes"`, "it's", "Café ☕ / 日本語", "\x00nul", "</li><script>", "&amp;"},
		},
	}
	for _, data := range tests {
		checkLabelsPage(t, data)
	}
}

func FuzzLabelsPage(f *testing.F) {
	f.Add("ada@example.com", "INBOX", `<b>"x"</b>&'`, 3)
	f.Add("", "0", "+0", 0)
	f.Add("</strong></p>", "&lt;", "\u2028", -1)
	f.Fuzz(func(t *testing.T, email, system, user string, count int) {
		// Every separator the check cuts at holds a "<", which no escaped
		// text can, so any text at all can be checked.
		checkLabelsPage(t, Labels{Email: email, Count: count, System: []string{system}, User: []string{user}})
	})
}
