package fakegoogle

import "slices"

// GmailReadonlyScope is the scope that lets an application list labels.
const GmailReadonlyScope = "https://www.googleapis.com/auth/gmail.readonly"

// scopeWords are the consent-screen descriptions of the scopes Google
// describes; any other scope is shown as its URL.
var scopeWords = map[string]string{
	GmailReadonlyScope:                               "View your email messages and settings",
	"https://mail.google.com/":                       "Read, compose, send, and permanently delete all your email from Gmail",
	"https://www.googleapis.com/auth/gmail.modify":   "Read, compose, and send emails from your Gmail account",
	"https://www.googleapis.com/auth/gmail.metadata": "View your email message metadata such as labels and headers, but not the email body",
	"https://www.googleapis.com/auth/gmail.labels":   "See and edit your email labels",
	"https://www.googleapis.com/auth/userinfo.email": "See your primary Google Account email address",
	"email": "See your primary Google Account email address",
	"https://www.googleapis.com/auth/userinfo.profile": "See your personal info, including any personal info you've made publicly available",
	"profile": "See your personal info, including any personal info you've made publicly available",
	"openid":  "Associate you with your personal info on Google",
	"https://www.googleapis.com/auth/drive.metadata.readonly": "See information about your Google Drive files",
	"https://www.googleapis.com/auth/drive.readonly":          "See and download all your Google Drive files",
	"https://www.googleapis.com/auth/calendar.readonly":       "See and download any calendar you can access using your Google Calendar",
	"https://www.googleapis.com/auth/tasks.readonly":          "View your tasks",
	"https://www.googleapis.com/auth/spreadsheets.readonly":   "See all your Google Sheets spreadsheets",
}

// describeScope returns the consent-screen wording of a scope.
func describeScope(scope string) string {
	if w, ok := scopeWords[scope]; ok {
		return w
	}
	return scope
}

// labelScopes are the scopes that allow users.labels.list.
var labelScopes = []string{
	"https://mail.google.com/",
	"https://www.googleapis.com/auth/gmail.modify",
	GmailReadonlyScope,
	"https://www.googleapis.com/auth/gmail.metadata",
	"https://www.googleapis.com/auth/gmail.labels",
}

// hasAnyScope reports whether granted includes one of allowed.
func hasAnyScope(granted, allowed []string) bool {
	for _, g := range granted {
		if slices.Contains(allowed, g) {
			return true
		}
	}
	return false
}

// Google's sign-in scopes. They are not boxes on the consent page: signing
// in grants them. The token response names "email" and "profile" by their
// URLs.
const (
	openIDScope = "openid"
	// UserinfoEmailScope is the name a grant gives the "email" scope.
	UserinfoEmailScope   = "https://www.googleapis.com/auth/userinfo.email"
	userinfoProfileScope = "https://www.googleapis.com/auth/userinfo.profile"
)

// scopeAliases are the short names of sign-in scopes, by the name Google
// gives them in a grant.
var scopeAliases = map[string]string{
	"email":   UserinfoEmailScope,
	"profile": userinfoProfileScope,
}

// canonicalScope returns the name Google gives scope in a grant.
func canonicalScope(scope string) string {
	if c, ok := scopeAliases[scope]; ok {
		return c
	}
	return scope
}

// isSignInScope reports whether scope is one of the sign-in scopes that a
// consent always grants.
func isSignInScope(scope string) bool {
	switch canonicalScope(scope) {
	case openIDScope, UserinfoEmailScope, userinfoProfileScope:
		return true
	}
	return false
}

// unionScopes returns a new slice with the scopes of a, then those of b
// that a lacks, each once, by their canonical names.
func unionScopes(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	for _, list := range [][]string{a, b} {
		for _, sc := range list {
			if sc = canonicalScope(sc); !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	return out
}
