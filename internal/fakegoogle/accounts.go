package fakegoogle

import (
	"strconv"
	"strings"
)

// Account is one user of the emulated Google: the person who signs in on the
// consent page and whose Gmail labels the API returns.
type Account struct {
	Email  string
	Name   string
	Labels []Label
}

// Label has the JSON shape of Gmail's users.labels resource as returned by
// users.labels.list.
type Label struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Type is "system" or "user".
	Type string `json:"type"`
	// MessageListVisibility is "show" or "hide"; empty leaves it out.
	MessageListVisibility string `json:"messageListVisibility,omitempty"`
	// LabelListVisibility is "labelShow", "labelShowIfUnread" or "labelHide";
	// empty leaves it out.
	LabelListVisibility string      `json:"labelListVisibility,omitempty"`
	Color               *LabelColor `json:"color,omitempty"`
}

// LabelColor is the color of a user label, as in Gmail's API.
type LabelColor struct {
	TextColor       string `json:"textColor"`
	BackgroundColor string `json:"backgroundColor"`
}

// XSSLabelName is the name of a label of the third demo account that is an
// HTML injection attempt; pages that list labels must show it as text.
const XSSLabelName = `<img src=x onerror=alert(1)>`

// QuotesLabelName is the name of a label of the third demo account full of
// characters that need escaping in HTML attributes and text.
const QuotesLabelName = `Tom & Jerry "quotes"`

// BusyAccountEmail is the address of the fourth demo account: an address
// long enough to test layouts on narrow screens, with a busy mailbox of more
// than a hundred user labels, nested ones, very long names without spaces
// and names with characters that need escaping.
const BusyAccountEmail = "alexandra.konstantinopoulou-papadimitriou@departments.example.org"

// DemoAccounts returns four demo accounts with Gmail's system labels and a
// different set of user labels each: nested ones (some without their
// parent, as Gmail allows), some with colors of Gmail's palette, some that
// Gmail hides from its label list. The third one (mallory@example.com) has
// labels named XSSLabelName and QuotesLabelName for escaping tests; the
// fourth one (BusyAccountEmail) has a long address and a busy mailbox. Every
// call returns fresh slices that the caller may modify.
func DemoAccounts() []Account {
	return []Account{
		{
			Email: "alice@example.com",
			Name:  "Alice Example",
			Labels: append(systemLabels(),
				userLabel("Label_1", "Receipts", &LabelColor{TextColor: "#ffffff", BackgroundColor: "#16a766"}),
				userLabel("Label_2", "Travel", nil),
				userLabel("Label_3", "Travel/2026", &LabelColor{TextColor: "#ffffff", BackgroundColor: "#4a86e8"}),
				userLabel("Label_4", "Work/Projects", nil),
				withVisibility(userLabel("Label_5", "Old receipts", &LabelColor{TextColor: "#000000", BackgroundColor: "#cccccc"}), "labelHide"),
			),
		},
		{
			Email: "bob@example.org",
			Name:  "Bob Example",
			Labels: append(systemLabels(),
				userLabel("Label_11", "Family", &LabelColor{TextColor: "#000000", BackgroundColor: "#fad165"}),
				userLabel("Label_12", "Bills/2026", &LabelColor{TextColor: "#ffffff", BackgroundColor: "#a479e2"}),
				userLabel("Label_13", "Newsletters", nil),
				withVisibility(userLabel("Label_14", "Newsletters/Weekly", nil), "labelShowIfUnread"),
			),
		},
		{
			Email: "mallory@example.com",
			Name:  "Mallory Example",
			Labels: append(systemLabels(),
				userLabel("Label_21", XSSLabelName, nil),
				userLabel("Label_22", QuotesLabelName, &LabelColor{TextColor: "#ffffff", BackgroundColor: "#cc3a21"}),
				userLabel("Label_23", "Café ☕ / 日本語", nil),
			),
		},
		{
			Email:  BusyAccountEmail,
			Name:   "Alexandra Konstantinopoulou-Papadimitriou",
			Labels: append(systemLabels(), busyLabels()...),
		},
	}
}

// busyLabels returns the user labels of the busy demo account, the way
// Gmail lists nested labels: a label for every level of a path
// ("Projects", "Projects/Clients", "Projects/Clients/Acme", ...).
func busyLabels() []Label {
	var names []string
	add := func(n ...string) { names = append(names, n...) }

	add("Travel")
	for year := 2015; year <= 2026; year++ {
		add("Travel/" + strconv.Itoa(year))
	}
	add("Projects", "Projects/Clients")
	for _, client := range []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises", "Soylent"} {
		add("Projects/Clients/"+client, "Projects/Clients/"+client+"/Invoices",
			"Projects/Clients/"+client+"/Contracts", "Projects/Clients/"+client+"/Meetings")
	}
	add("Receipts")
	for year := 2019; year <= 2026; year++ {
		add("Receipts/" + strconv.Itoa(year))
	}
	add("Finance", "Finance/Bank", "Finance/Bank/Statements", "Finance/Bank/Statements/2026")
	for q := 1; q <= 4; q++ {
		add("Finance/Bank/Statements/2026/Q" + strconv.Itoa(q))
	}
	add("Family", "Family/School", "Family/Health", "Family/Holidays", "Family/Γιαγιά & Παππούς")
	add("Newsletters")
	for _, n := range []string{"Go Weekly", "Golang Nuts", "Hacker Newsletter", "Cloud Digest", "Accessibility Weekly",
		"CSS-Tricks", "The Morning Brew", "Local Council", "Running Club", "Book Club"} {
		add("Newsletters/" + n)
	}
	add("Conferences")
	for _, c := range []string{"GopherCon EU 2024", "GopherCon EU 2025", "FOSDEM 2026", "KubeCon 2026", "a11yTO 2025"} {
		add("Conferences/" + c)
	}
	add("Work", "Work/Team", "Work/Team/1:1s", "Work/Team/Hiring", "Work/Team/Offsite 2026", "Work/Reviews", "Work/On-call")
	// Long names, with and without places to break a line.
	add("ThisLabelNameIsOneVeryLongWordWithoutAnySpacesThatMustStillFitOnANarrowPhoneScreen",
		"Archive", "Archive/2019-2020-2021-2022-2023-2024-2025-2026_everything_before_the_big_mailbox_migration",
		"www.example.org?utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale_2026&utm_content=label",
		"Things I promised myself I would read one day, when there is finally enough time for all of them",
		strings.Repeat("W", 60))
	// Characters that need escaping in HTML.
	add(`R&D <internal>`, `"Quoted" & 'apostrophes'`, `<b>not bold, just text`, `100% <done> & dusted`,
		`C:\Users\Alexandra\Backups`, `Zürich ⇄ Αθήνα ⇄ 東京`, `Emoji 🎉🎂🎈 party`)

	colors := []*LabelColor{
		{TextColor: "#ffffff", BackgroundColor: "#16a766"},
		nil,
		{TextColor: "#000000", BackgroundColor: "#fad165"},
		nil,
		{TextColor: "#ffffff", BackgroundColor: "#4a86e8"},
		{TextColor: "#ffffff", BackgroundColor: "#a479e2"},
		nil,
		{TextColor: "#ffffff", BackgroundColor: "#cc3a21"},
		{TextColor: "#000000", BackgroundColor: "#ffad47"},
	}
	labels := make([]Label, len(names))
	for i, n := range names {
		labels[i] = userLabel("Label_"+strconv.Itoa(101+i), n, colors[i%len(colors)])
		switch {
		case n == "Archive" || strings.HasPrefix(n, "Archive/"):
			// Gmail's "Show in label list" unticked.
			labels[i].LabelListVisibility = "labelHide"
		case strings.HasPrefix(n, "Newsletters/"):
			labels[i].LabelListVisibility = "labelShowIfUnread"
		}
	}
	return labels
}

// systemLabels returns Gmail's system labels as users.labels.list shows them.
func systemLabels() []Label {
	return []Label{
		{ID: "CHAT", Name: "CHAT", Type: "system", MessageListVisibility: "hide", LabelListVisibility: "labelHide"},
		{ID: "SENT", Name: "SENT", Type: "system"},
		{ID: "INBOX", Name: "INBOX", Type: "system"},
		{ID: "IMPORTANT", Name: "IMPORTANT", Type: "system"},
		{ID: "TRASH", Name: "TRASH", Type: "system"},
		{ID: "DRAFT", Name: "DRAFT", Type: "system"},
		{ID: "SPAM", Name: "SPAM", Type: "system"},
		{ID: "CATEGORY_FORUMS", Name: "CATEGORY_FORUMS", Type: "system"},
		{ID: "CATEGORY_UPDATES", Name: "CATEGORY_UPDATES", Type: "system"},
		{ID: "CATEGORY_PERSONAL", Name: "CATEGORY_PERSONAL", Type: "system"},
		{ID: "CATEGORY_PROMOTIONS", Name: "CATEGORY_PROMOTIONS", Type: "system"},
		{ID: "CATEGORY_SOCIAL", Name: "CATEGORY_SOCIAL", Type: "system"},
		{ID: "STARRED", Name: "STARRED", Type: "system"},
		{ID: "UNREAD", Name: "UNREAD", Type: "system"},
	}
}

// withVisibility returns l with Gmail's "show in label list" setting:
// "labelShow", "labelShowIfUnread" or "labelHide".
func withVisibility(l Label, labelList string) Label {
	l.LabelListVisibility = labelList
	return l
}

// userLabel is a user label shown in Gmail's lists.
func userLabel(id, name string, color *LabelColor) Label {
	return Label{
		ID:                    id,
		Name:                  name,
		Type:                  "user",
		MessageListVisibility: "show",
		LabelListVisibility:   "labelShow",
		Color:                 color,
	}
}

// cloneAccounts deep-copies accounts so that the Server never shares slices
// with its caller.
func cloneAccounts(in []Account) []Account {
	out := make([]Account, len(in))
	for i, a := range in {
		a.Labels = cloneLabels(a.Labels)
		out[i] = a
	}
	return out
}

func cloneLabels(in []Label) []Label {
	out := make([]Label, len(in))
	for i, l := range in {
		if l.Color != nil {
			c := *l.Color
			l.Color = &c
		}
		out[i] = l
	}
	return out
}

// FindAccount returns the account with this email (compared
// case-insensitively) among accounts.
func FindAccount(accounts []Account, email string) (Account, bool) {
	if i := findAccount(accounts, email); i >= 0 {
		return accounts[i], true
	}
	return Account{}, false
}

// findAccount returns the index of the account with this email (compared
// case-insensitively), or -1.
func findAccount(accounts []Account, email string) int {
	for i, a := range accounts {
		if strings.EqualFold(a.Email, email) {
			return i
		}
	}
	return -1
}
