package oauthgmail

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"google.golang.org/api/gmail/v1"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/pages"
)

// shape writes nodes as "Display{children}" joined by spaces, with
// Parent before Display when it is not empty ("Travel/|2026").
func shape(nodes []*labelNode) string {
	var parts []string
	for _, n := range nodes {
		s := n.Display
		if n.Parent != "" {
			s = n.Parent + "|" + n.Display
		}
		if len(n.Children) > 0 {
			s += "{" + shape(n.Children) + "}"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// toGmail converts the emulator's labels to the Gmail client's.
func toGmail(labels []fakegoogle.Label) []*gmail.Label {
	var out []*gmail.Label
	for _, l := range labels {
		g := &gmail.Label{Id: l.ID, Name: l.Name, Type: l.Type, LabelListVisibility: l.LabelListVisibility}
		if l.Color != nil {
			g.Color = &gmail.LabelColor{BackgroundColor: l.Color.BackgroundColor, TextColor: l.Color.TextColor}
		}
		out = append(out, g)
	}
	return out
}

func sys(name string) *gmail.Label  { return &gmail.Label{Name: name, Type: "system"} }
func user(name string) *gmail.Label { return &gmail.Label{Name: name, Type: "user"} }
func hidden(name string) *gmail.Label {
	return &gmail.Label{Name: name, Type: "user", LabelListVisibility: "labelHide"}
}

func TestLabelsPageShowsLabelsInGmailsOrderAndNames(t *testing.T) {
	tests := []struct {
		name                                   string
		labels                                 []*gmail.Label
		wantSystem, wantCategories, wantHidden string
	}{
		{"none", nil, "", "", ""},
		{
			"the system labels as users.labels.list sends them",
			toGmail(fakegoogle.DemoAccounts()[0].Labels[:14]),
			"Inbox Starred Important Sent Drafts Spam Trash", "Primary Social Updates Forums Promotions", "Chats Unread",
		},
		{
			"every one Gmail knows, and unknown ones after them",
			[]*gmail.Label{sys("YELLOW_STAR"), sys("TRASH"), sys("SCHEDULED"), sys("SNOOZED"), sys("BLUE_INFO"), sys("INBOX"), sys("UNREAD")},
			"Inbox Snoozed Scheduled Trash BLUE_INFO YELLOW_STAR", "", "Unread",
		},
		{
			"user labels Gmail hides, after the system ones, by name",
			[]*gmail.Label{hidden("zebra"), sys("CHAT"), hidden("Apple/Old"), user("Apple"), nil},
			"", "", "Chats Apple/Old zebra",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := newLabelsPage(tt.labels, "", "")
			if page.Count != len(tt.labels) {
				t.Errorf("count %d, want %d", page.Count, len(tt.labels))
			}
			if got := shape(page.System); got != tt.wantSystem {
				t.Errorf("system labels %q, want %q", got, tt.wantSystem)
			}
			if got := shape(page.Categories); got != tt.wantCategories {
				t.Errorf("categories %q, want %q", got, tt.wantCategories)
			}
			if got := shape(page.Hidden); got != tt.wantHidden {
				t.Errorf("hidden labels %q, want %q", got, tt.wantHidden)
			}
		})
	}
}

func TestLabelsPageNestsLabelsAsATree(t *testing.T) {
	tests := []struct {
		name   string
		labels []string
		want   string
	}{
		{"flat, ignoring case, then exactly", []string{"b", "Alpha", "alpha", "Éclair", "日本語"}, "Alpha alpha b Éclair 日本語"},
		{"nested under the parent", []string{"Travel/2026", "Travel", "Travel 2", "Travel/2025"}, "Travel{Travel/|2025 Travel/|2026} Travel 2"},
		{"deeply", []string{"P/C/Acme/Invoices", "P", "P/C", "P/C/Acme", "P/C/Beta"}, "P{P/|C{P/C/|Acme{P/C/Acme/|Invoices} P/C/|Beta}}"},
		{"without its parent", []string{"Work/Projects", "Work/Team/1:1s", "Work/Team"}, "Work/Projects Work/Team{Work/Team/|1:1s}"},
		{"under its nearest ancestor", []string{"A/B/C", "A"}, "A{A/|B/C}"},
		{"slashes that are no level", []string{"/lead", "trail/", "a//b", "a"}, "/lead a{a/|/b} trail/"},
		{"the same name twice", []string{"Twin", "Twin", "Twin/Kid"}, "Twin{Twin/|Kid} Twin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var labels []*gmail.Label
			for _, n := range tt.labels {
				labels = append(labels, user(n))
			}
			if got := shape(newLabelsPage(labels, "", "").User); got != tt.want {
				t.Errorf("tree %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLabelsPageColorsComeFromGmailsPalette(t *testing.T) {
	tests := []struct {
		color *gmail.LabelColor
		want  string
	}{
		{nil, ""},
		{&gmail.LabelColor{BackgroundColor: "#16a766", TextColor: "#ffffff"}, "c-16a766"},
		{&gmail.LabelColor{BackgroundColor: "#FB4C2F", TextColor: "#ffffff"}, "c-fb4c2f"},
		{&gmail.LabelColor{BackgroundColor: "#12345g", TextColor: "#ffffff"}, ""},
		{&gmail.LabelColor{BackgroundColor: "#1234567"}, ""},
		{&gmail.LabelColor{BackgroundColor: "red"}, ""},
		{&gmail.LabelColor{BackgroundColor: `#a;}<b>`}, ""},
		{&gmail.LabelColor{}, ""},
	}
	for _, tt := range tests {
		l := user("Colored")
		l.Color = tt.color
		if got := newLabelsPage([]*gmail.Label{l}, "", "").User[0].Color; got != tt.want {
			t.Errorf("color %+v: class %q, want %q", tt.color, got, tt.want)
		}
	}
	// Every color Gmail allows (the emulator's list) has its class in the
	// stylesheet.
	b, err := os.ReadFile("internal/pages/templates/style.css")
	if err != nil {
		t.Fatal(err)
	}
	style := string(b)
	palette := fakegoogle.LabelPalette()
	if len(palette) < 80 {
		t.Fatalf("the emulator knows only %d of Gmail's colors", len(palette))
	}
	for _, c := range palette {
		if rule := ".c-" + c[1:] + "{background:" + c + "}"; !strings.Contains(style, rule) {
			t.Errorf("the stylesheet lacks %s", rule)
		}
	}
}

func TestLabelsPageFindsLabels(t *testing.T) {
	busy, _ := fakegoogle.FindAccount(fakegoogle.DemoAccounts(), fakegoogle.BusyAccountEmail)
	labels := toGmail(busy.Labels)
	tests := []struct {
		query string
		want  []string
	}{
		{"acme", []string{"Projects/Clients/Acme", "Projects/Clients/Acme/Contracts", "Projects/Clients/Acme/Invoices", "Projects/Clients/Acme/Meetings"}},
		{"  ACME/inv  ", []string{"Projects/Clients/Acme/Invoices"}},
		{"inbox", []string{"Inbox"}},
		{"primary", []string{"Primary"}},
		{"category_", []string{"Primary", "Social", "Updates", "Forums", "Promotions"}},
		{"unread", []string{"Unread"}},
		{"archive/", []string{"Archive/2019-2020-2021-2022-2023-2024-2025-2026_everything_before_the_big_mailbox_migration"}},
		{"<done>", []string{"100% <done> & dusted"}},
		{"no such label", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			page := newLabelsPage(labels, tt.query, "")
			var got []string
			for _, m := range page.Matches {
				got = append(got, m.Display)
				if m.Parent != "" || len(m.Children) > 0 {
					t.Errorf("match %q shown with parent %q and %d children; want its full name alone", m.Display, m.Parent, len(m.Children))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("matches %q, want %q", got, tt.want)
			}
			if page.Count != len(labels) || page.Query != strings.TrimSpace(tt.query) {
				t.Errorf("count %d query %q, want every label counted and the query trimmed", page.Count, page.Query)
			}
		})
	}
	if page := newLabelsPage(labels, strings.Repeat("é", 500), ""); len([]rune(page.Query)) != maxQuery {
		t.Errorf("a long query is kept at %d characters, want %d", len([]rune(page.Query)), maxQuery)
	}
}

// labelLinks renders page and returns the text and address of each label
// link.
func labelLinks(t *testing.T, page labelsPage) map[string]string {
	t.Helper()
	rec := httptest.NewRecorder()
	pages.Write(rec, http.StatusOK, "labels", page)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	doc, err := html.Parse(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "a" || !slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == "class" && a.Val == "label" }) {
			continue
		}
		var text strings.Builder
		for d := range n.Descendants() {
			if d.Type == html.TextNode {
				text.WriteString(d.Data)
			}
		}
		for _, a := range n.Attr {
			if a.Key == "href" {
				links[text.String()] = a.Val
			}
		}
	}
	return links
}

func TestEveryLabelOpensInGmailForTheSignedInAccount(t *testing.T) {
	labels := []*gmail.Label{sys("INBOX"), sys("CATEGORY_PERSONAL"), sys("UNREAD"), sys("YELLOW_STAR"),
		user("Projects"), user("Projects/Stark Industries"), user("R&D <x> #1?")}
	page := newLabelsPage(labels, "", "alexandra+test@departments.example.org")
	const base = "https://mail.google.com/mail/u/?authuser=alexandra%2Btest%40departments.example.org#"
	want := map[string]string{
		"Inbox":                     base + "inbox",
		"Primary":                   base + "inbox",
		"Unread":                    base + "search/is%3Aunread",
		"YELLOW_STAR":               base + "label/YELLOW_STAR",
		"Projects":                  base + "label/Projects",
		"Projects/Stark Industries": base + "label/Projects%2FStark+Industries",
		"R&D <x> #1?":               base + "label/R%26D+%3Cx%3E+%231%3F",
	}
	got := labelLinks(t, page)
	for text, href := range want {
		if got[text] != href {
			t.Errorf("link %q goes to %q, want %q", text, got[text], href)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d label links, want %d: %v", len(got), len(want), got)
	}
	for _, href := range got {
		if u, err := url.Parse(href); err != nil || u.Scheme != "https" || u.Host != "mail.google.com" {
			t.Errorf("link %q does not open Gmail", href)
		}
	}
	// Without an account, the first signed-in one.
	if got := labelLinks(t, newLabelsPage(labels, "", ""))["Inbox"]; got != "https://mail.google.com/mail/u/0/#inbox" {
		t.Errorf("without an account: %q", got)
	}
}

func TestLabelsPageFindsALabelAmongAHundred(t *testing.T) {
	e := newTestEnv(t)
	b := e.newBrowser()
	b.signIn(fakegoogle.BusyAccountEmail)
	labels := accountLabels(t, e, fakegoogle.BusyAccountEmail)

	all := b.get("/listlabels")
	if all.status != http.StatusOK {
		t.Fatalf("status %d", all.status)
	}
	shown := listItems(t, all.body)
	if len(shown) != len(labels) {
		t.Errorf("%d list items, want one for each of the %d labels", len(shown), len(labels))
	}
	for _, l := range labels {
		if !slices.Contains(shown, shownAs(l.Name, l.Type)) {
			t.Errorf("label %q is not on the page", l.Name)
		}
	}
	for _, want := range []string{`<details id="hidden">`, `<form class="find" method="get" role="search">`, `class="swatch c-`} {
		if !strings.Contains(all.body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}

	found := b.get("/listlabels?q=" + url.QueryEscape("Stark"))
	if found.status != http.StatusOK {
		t.Fatalf("search: status %d", found.status)
	}
	checkCommonHeaders(t, "search", found)
	want := []string{"Projects/Clients/Stark Industries", "Projects/Clients/Stark Industries/Contracts",
		"Projects/Clients/Stark Industries/Invoices", "Projects/Clients/Stark Industries/Meetings"}
	if got := listItems(t, found.body); !slices.Equal(got, want) {
		t.Errorf("search results %q, want %q", got, want)
	}
	for _, text := range []string{fmt.Sprintf("%d label(s) found", len(labels)), "4 labels match “Stark”", `value="Stark"`} {
		if !strings.Contains(found.body, text) {
			t.Errorf("the results page lacks %q", text)
		}
	}
	none := b.get("/listlabels?q=" + url.QueryEscape(`"><img src=x>`))
	if none.status != http.StatusOK || !strings.Contains(none.body, "No label matches “&#34;&gt;&lt;img src=x&gt;”") ||
		strings.Contains(none.body, "<img") || len(listItems(t, none.body)) != 0 {
		t.Errorf("a search with markup that matches nothing: %d\n%s", none.status, none.body)
	}
}
