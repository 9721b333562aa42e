// Package oauthgmail lists a user's Gmail labels from Google Cloud Functions
// using three-legged OAuth 2.0: OAuth2Init sends the browser to Google's
// consent page, OAuth2Callback trades the authorization code for a token, and
// ListLabels calls the Gmail API with it.
//
// Each function is deployed on its own, so nothing is kept in memory between
// requests: the token lives in an encrypted, authenticated cookie, and so do
// the state and PKCE verifier of a sign-in in progress. Configuration comes
// from the environment (see the README) and is read once per process, on
// first use.
package oauthgmail

import (
	"net/http"
	"os"
	"sync"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
)

func init() {
	for _, f := range Functions() {
		functions.HTTP(f.Name, f.Handler)
	}
}

// deployed is the app built from this process's environment, once.
var deployed = sync.OnceValues(func() (*app, error) {
	return appFromEnvironment(os.Getenv, os.ReadFile, os.Stderr)
})

// OAuth2Init starts a sign-in: it redirects the browser to Google's consent
// page, or straight to ListLabels when the browser is already signed in.
func OAuth2Init(w http.ResponseWriter, r *http.Request) {
	serveDeployed(w, r, readOnly, (*app).oauth2Init)
}

// OAuth2Callback finishes a sign-in: Google redirects the browser here with
// an authorization code, which is exchanged for a token kept in the session
// cookie.
func OAuth2Callback(w http.ResponseWriter, r *http.Request) {
	serveDeployed(w, r, readOnly, (*app).oauth2Callback)
}

// ListLabels shows the signed-in user's Gmail labels, as HTML or, for
// "Accept: application/json", as JSON.
func ListLabels(w http.ResponseWriter, r *http.Request) {
	serveDeployed(w, r, readOnly, (*app).listLabels)
}

// SignOut revokes the user's token at Google and deletes the app's cookies.
// It accepts only same-origin POST requests.
func SignOut(w http.ResponseWriter, r *http.Request) {
	serveDeployed(w, r, postOnly, (*app).signOut)
}

// LoadConfiguration reads the configuration and builds the shared clients
// now rather than on the first request, and reports any configuration
// problem. Calling it is optional; the local runner does, so that a mistake
// shows at start.
func LoadConfiguration() error {
	_, err := deployed()
	return err
}

func serveDeployed(w http.ResponseWriter, r *http.Request, allowed methods, handle func(*app, http.ResponseWriter, *http.Request)) {
	if !allowed.check(w, r) {
		return
	}
	a, err := deployed()
	if err != nil {
		writeConfigurationProblem(w, err)
		return
	}
	a.serve(w, r, handle)
}
