package oauthgmail

import (
	"cmp"
	"slices"
	"strings"

	"google.golang.org/api/gmail/v1"
)

// labelsPage is the data of the labels page (templates/labels.html).
type labelsPage struct {
	Count  int // every label Gmail returned
	System []labelName
	User   []labelName
}

// labelName is a label's name as people read it, split at the slashes of
// nested labels ("Travel/2026") so that the page can show the levels.
type labelName []string

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
			page.System = append(page.System, labelName{cmp.Or(systemLabelNames[l.Name], l.Name)})
		default:
			page.User = append(page.User, strings.Split(l.Name, "/"))
		}
	}
	slices.SortFunc(page.System, compareLabelNames)
	slices.SortFunc(page.User, compareLabelNames)
	return page
}

func compareLabelNames(a, b labelName) int {
	x, y := strings.Join(a, "/"), strings.Join(b, "/")
	return cmp.Or(strings.Compare(strings.ToLower(x), strings.ToLower(y)), strings.Compare(x, y))
}
