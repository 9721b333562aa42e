package pages

import (
	"html"
	"strings"
	"testing"
)

// checkItems verifies that out is one <li> per text, each holding exactly
// that text once the browser decodes its entities, with no markup inside.
func checkItems(t *testing.T, texts []string, out string) {
	t.Helper()
	var items []string
	for _, part := range strings.Split(out, "\n  <li>")[1:] {
		content, ok := strings.CutSuffix(part, "</li>")
		if !ok {
			t.Fatalf("item %q does not end with </li> in %q", part, out)
		}
		items = append(items, content)
	}
	if len(items) != len(texts) {
		t.Fatalf("%d items for %d texts: %q", len(items), len(texts), out)
	}
	for i, content := range items {
		if strings.ContainsAny(content, `<>"'`) {
			t.Errorf("item %q holds unescaped markup", content)
		}
		if want := strings.ReplaceAll(texts[i], "\x00", "\uFFFD"); html.UnescapeString(content) != want {
			t.Errorf("item %q decodes to %q, want %q", content, html.UnescapeString(content), want)
		}
	}
}

func TestListItemsEscapesEveryText(t *testing.T) {
	tests := [][]string{
		nil,
		{"INBOX"},
		{`<img src=x onerror=alert(1)>`, `Tom & Jerry "quotes"`, "it's", "Café ☕ / 日本語", "\x00nul", "</li><script>", "&amp;"},
	}
	for _, texts := range tests {
		checkItems(t, texts, string(listItems(texts)))
	}
}

func FuzzListItems(f *testing.F) {
	f.Add("INBOX", `<b>"x"</b>&'`)
	f.Add("0", "+0")
	f.Add("&lt;", "\u2028")
	f.Fuzz(func(t *testing.T, a, b string) {
		if strings.Contains(a+b, "\n  <li>") || strings.Contains(a+b, "</li>") {
			return // cannot be told apart from the separators by this check, and escaped anyway
		}
		texts := []string{a, b}
		checkItems(t, texts, string(listItems(texts)))
	})
}
