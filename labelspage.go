package oauthgmail

import (
	"cmp"
	"slices"
	"strings"

	"google.golang.org/api/gmail/v1"
)

// labelsPage is the data of the labels page (templates/labels.html).
type labelsPage struct {
	Count  int      // every label Gmail returned
	System []string // system labels, under the names Gmail shows people
	User   []string // the user's own labels, nested ones as "Travel/2026"
}

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
			page.System = append(page.System, cmp.Or(systemLabelNames[l.Name], l.Name))
		default:
			page.User = append(page.User, l.Name)
		}
	}
	sortIgnoringCase(page.System)
	sortIgnoringCase(page.User)
	return page
}

// sortIgnoringCase sorts names as people expect: "alpha" next to "Alpha",
// before "beta".
func sortIgnoringCase(names []string) {
	type entry struct{ folded, name string }
	entries := make([]entry, len(names))
	for i, n := range names {
		entries[i] = entry{strings.ToLower(n), n}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(strings.Compare(a.folded, b.folded), strings.Compare(a.name, b.name))
	})
	for i, e := range entries {
		names[i] = e.name
	}
}
