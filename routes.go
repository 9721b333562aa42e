package oauthgmail

import (
	"net/http"

	"google.golang.org/api/gmail/v1"
)

// Function is one HTTP function of the app: what functions-framework
// registers, what deploy.sh deploys and what the local runner serves. A
// function that acts for the signed-in user is a Call and the facts about
// it; the app does the rest (see User).
type Function struct {
	// Name is the name the function is registered and deployed under; the
	// local runner serves it at /Name.
	Name string
	// API is the Google API the function calls, as people know it
	// ("Gmail"), for its pages.
	API string
	// Services are the Google API services the function calls
	// ("gmail.googleapis.com"): deploy.sh enables them in the OAuth
	// client's project.
	Services []string
	// Scopes are the OAuth scopes the function needs. They are asked for
	// when a person first uses the function, on top of what they granted
	// before.
	Scopes []string
	// Methods are the HTTP methods the function answers; GET and HEAD when
	// empty. A POST, PUT or DELETE is accepted only from the app's own
	// pages, with a form of at most maxFormBytes.
	Methods []string
	// Call does the work for the signed-in user.
	Call Call

	// serve answers the requests of the app's own functions (sign-in and
	// sign-out), which do not act as the user.
	serve func(*app, http.ResponseWriter, *http.Request)
}

// Functions returns every function of the app, in registration order. It is
// the one list of functions: adding a function means adding it here.
func Functions() []Function {
	return []Function{
		{Name: "oauth2init", serve: (*app).oauth2Init},
		{Name: "oauth2callback", serve: (*app).oauth2Callback},
		{
			Name: "listlabels", API: "Gmail", Services: []string{"gmail.googleapis.com"},
			Scopes: []string{gmail.GmailReadonlyScope}, Call: listLabels,
		},
		{Name: "signout", Methods: []string{http.MethodGet, http.MethodHead, http.MethodPost}, serve: (*app).signOut},
	}
}

// ServeHTTP answers r as f, in the app configured from the process
// environment: what functions-framework and the local runner call.
func (f Function) ServeHTTP(w http.ResponseWriter, r *http.Request) { serveDeployed(w, r, f.Name) }

// OAuth2Init starts a sign-in: it redirects the browser to Google's consent
// page for the scopes of the function that sent it ("next", ListLabels by
// default), or straight back to that function when the session already has
// them.
func OAuth2Init(w http.ResponseWriter, r *http.Request) { serveDeployed(w, r, "oauth2init") }

// OAuth2Callback finishes a sign-in: Google redirects the browser here with
// an authorization code, which is exchanged for a token kept in the session
// cookie; the browser then goes on to the function that asked for the
// sign-in.
func OAuth2Callback(w http.ResponseWriter, r *http.Request) { serveDeployed(w, r, "oauth2callback") }

// ListLabels shows the signed-in user's Gmail labels, as a page or, for
// "Accept: application/json", as the JSON Gmail returned.
func ListLabels(w http.ResponseWriter, r *http.Request) { serveDeployed(w, r, "listlabels") }

// SignOut is the sign-out page. GET shows a Sign out button to a browser
// that is signed in, and otherwise says that it is signed out. A POST from
// this site revokes the user's token at Google, deletes the app's cookies
// and redirects (303) to the GET page, which says whether Google confirmed
// the revocation; a POST from another site changes nothing.
func SignOut(w http.ResponseWriter, r *http.Request) { serveDeployed(w, r, "signout") }
