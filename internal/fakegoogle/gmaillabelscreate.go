package fakegoogle

import (
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Gmail's users.labels.create, the example of a method that changes an
// account: the label it creates is in the account's next labels list.

// labelWriteScopes are the scopes that allow users.labels.create.
var labelWriteScopes = []string{
	"https://mail.google.com/",
	"https://www.googleapis.com/auth/gmail.modify",
	"https://www.googleapis.com/auth/gmail.labels",
}

// Gmail's answers to a label it cannot create.
const (
	labelExistsMessage      = "Label name exists or conflicts"
	invalidLabelNameMessage = "Invalid label name"
)

// maxLabelNameLength is the longest label name Gmail accepts, in
// characters.
const maxLabelNameLength = 225

// nextLabelID is each account's next number for a label it creates
// ("Label_N"), above those of its existing labels.
var nextLabelID = newPerAccount(func(a Account) int {
	next := 1
	for _, l := range a.Labels {
		if n, err := strconv.Atoi(strings.TrimPrefix(l.ID, "Label_")); err == nil && strings.HasPrefix(l.ID, "Label_") {
			next = max(next, n+1)
		}
	}
	return next
})

func init() {
	apis = append(apis, api{pattern: "POST " + labelsPattern, scopes: labelWriteScopes, serve: createLabel, gmail: true})
}

// newLabel is the request body of users.labels.create: a Label resource,
// whose output-only fields are ignored.
type newLabel struct {
	Label
	MessagesTotal  int `json:"messagesTotal"`
	MessagesUnread int `json:"messagesUnread"`
	ThreadsTotal   int `json:"threadsTotal"`
	ThreadsUnread  int `json:"threadsUnread"`
}

// createLabel serves users.labels.create.
func createLabel(c *call) reply {
	if rp, ok := gmailUser(c); !ok {
		return rp
	}
	var in newLabel
	if err := c.decode(&in); err != nil {
		return c.error(http.StatusBadRequest, "invalidArgument", "Invalid JSON payload received.")
	}
	name := in.Name
	if !validLabelName(name) {
		return c.error(http.StatusBadRequest, "invalidArgument", invalidLabelNameMessage)
	}
	switch in.LabelListVisibility {
	case "", "labelShow", "labelShowIfUnread", "labelHide":
	default:
		return c.error(http.StatusBadRequest, "invalidArgument", "Invalid label list visibility")
	}
	switch in.MessageListVisibility {
	case "", "show", "hide":
	default:
		return c.error(http.StatusBadRequest, "invalidArgument", "Invalid message list visibility")
	}
	if in.Color != nil && !validLabelColor(in.Color) {
		return c.error(http.StatusBadRequest, "invalidArgument", "Label color "+in.Color.BackgroundColor+
			" on "+in.Color.TextColor+" is not on the allowed color palette")
	}
	for _, l := range c.account.Labels {
		if strings.EqualFold(l.Name, name) {
			return c.error(http.StatusConflict, "duplicate", labelExistsMessage)
		}
	}
	id := nextLabelID.of(c)
	label := Label{
		ID:                    "Label_" + strconv.Itoa(*id),
		Name:                  name,
		Type:                  "user",
		MessageListVisibility: orDefault(in.MessageListVisibility, "show"),
		LabelListVisibility:   orDefault(in.LabelListVisibility, "labelShow"),
	}
	if in.Color != nil {
		label.Color = &LabelColor{
			BackgroundColor: strings.ToLower(in.Color.BackgroundColor),
			TextColor:       strings.ToLower(in.Color.TextColor),
		}
	}
	*id++
	c.account.Labels = append(c.account.Labels, label)
	return c.json(http.StatusOK, label)
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// validLabelName reports whether Gmail accepts name for a new user label:
// not empty, not too long, no control characters, no empty level in a
// nested name ("a//b", "/a", "a/"), and not the name of a system label.
func validLabelName(name string) bool {
	if strings.TrimSpace(name) == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxLabelNameLength {
		return false
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return false
		}
	}
	for _, level := range strings.Split(name, "/") {
		if strings.TrimSpace(level) == "" {
			return false
		}
	}
	for _, reserved := range reservedLabelNames {
		if strings.EqualFold(name, reserved) {
			return false
		}
	}
	return true
}

// reservedLabelNames are the names of Gmail's system labels, as the API
// and the web client name them, which no user label can take.
var reservedLabelNames = []string{
	"INBOX", "SENT", "DRAFT", "DRAFTS", "SPAM", "TRASH", "STARRED", "IMPORTANT", "UNREAD", "CHAT",
	"SNOOZED", "Sent Mail", "All Mail", "Scheduled", "Bin",
	"CATEGORY_PERSONAL", "CATEGORY_SOCIAL", "CATEGORY_PROMOTIONS", "CATEGORY_UPDATES", "CATEGORY_FORUMS",
}
