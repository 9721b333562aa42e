package oauthgmail

import (
	"net/http"

	"google.golang.org/api/gmail/v1"
)

// Function is one HTTP function of the app: what functions-framework
// registers, what deploy.sh deploys, and what the local runner serves.
type Function struct {
	// Name is the name the function is registered and deployed under; the
	// local runner serves it at /Name.
	Name string
	// Handler answers the function's requests.
	Handler func(http.ResponseWriter, *http.Request)
	// Scopes are the OAuth scopes the function needs from the user.
	// oauth2init asks for the union of every function's scopes.
	Scopes []string
	// Services are the Google API services the function calls, by their
	// service names (gmail.googleapis.com): deploy.sh checks that they are
	// enabled in the project of the OAuth client. Nil for a function that
	// calls no Google API of its own.
	Services []string
}

// Functions returns every function of the app, in registration order. It is
// the one list of functions: adding a function means adding it here.
func Functions() []Function {
	return []Function{
		{Name: "oauth2init", Handler: OAuth2Init},
		{Name: "oauth2callback", Handler: OAuth2Callback},
		{Name: "listlabels", Handler: ListLabels, Scopes: []string{gmail.GmailReadonlyScope}, Services: []string{"gmail.googleapis.com"}},
		{Name: "signout", Handler: SignOut},
	}
}
