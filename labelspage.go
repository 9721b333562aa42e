package oauthgmail

import (
	"cmp"
	"slices"
	"strings"

	"google.golang.org/api/gmail/v1"
)

// labelsPage is the data of the labels page (templates/labels.html).
type labelsPage struct {
	Count  int           // every label Gmail returned
	System []systemLabel // in the order of their display names
	User   []string      // the user's own labels, nested ones as "Travel/2026"
}

// systemLabel is a system label: its name in the API (INBOX) and the name
// Gmail shows people (Inbox).
type systemLabel struct{ Name, Display string }

// systemLabelNames are the names Gmail shows people for its system labels,
// whose API names are identifiers such as CATEGORY_PROMOTIONS.
var systemLabelNames = map[string]string{
	"INBOX": "Inbox", "SENT": "Sent", "DRAFT": "Drafts", "SPAM": "Spam", "TRASH": "Trash",
	"STARRED": "Starred", "IMPORTANT": "Important", "UNREAD": "Unread", "CHAT": "Chat",
	"CATEGORY_SOCIAL": "Social", "CATEGORY_UPDATES": "Updates", "CATEGORY_FORUMS": "Forums",
	"CATEGORY_PROMOTIONS": "Promotions", "CATEGORY_PERSONAL": "Personal",
}

// newLabelsPage sorts labels into system and user ones, each in
// alphabetical order ignoring case, with system labels under their display
// names.
func newLabelsPage(labels []*gmail.Label) labelsPage {
	page := labelsPage{Count: len(labels)}
	for _, l := range labels {
		switch {
		case l == nil:
		case l.Type == "system":
			page.System = append(page.System, systemLabel{l.Name, cmp.Or(systemLabelNames[l.Name], l.Name)})
		default:
			page.User = append(page.User, l.Name)
		}
	}
	sortIgnoringCase(page.System, func(l systemLabel) string { return l.Display })
	sortIgnoringCase(page.User, func(name string) string { return name })
	return page
}

// sortIgnoringCase sorts items by their names as people expect: "alpha"
// next to "Alpha", before "beta".
func sortIgnoringCase[T any](items []T, name func(T) string) {
	type entry struct {
		folded, name string
		item         T
	}
	entries := make([]entry, len(items))
	for i, it := range items {
		entries[i] = entry{strings.ToLower(name(it)), name(it), it}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(strings.Compare(a.folded, b.folded), strings.Compare(a.name, b.name))
	})
	for i, e := range entries {
		items[i] = e.item
	}
}
