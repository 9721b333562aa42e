// Package oauthgmail shows a Google user's Gmail labels from Cloud
// Functions, using three-legged OAuth 2.0: OAuth2Init sends the browser to
// Google's consent page, OAuth2Callback trades the authorization code for a
// token, ListLabels calls the Gmail API with it and SignOut revokes it.
//
// Each function is deployed on its own, so nothing is kept in memory between
// requests: the token lives in an encrypted, authenticated cookie, and so do
// the state and PKCE verifier of a sign-in in progress. Configuration comes
// from the environment (see the README) and is read once per process, on
// first use. A function that acts for the signed-in user is one entry in
// Functions: its name, API, scopes, methods and a Call.
package oauthgmail

import (
	"net/http"
	"os"
	"sync"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
)

func init() {
	for _, f := range Functions() {
		functions.HTTP(f.Name, f.ServeHTTP)
	}
}

// deployed returns the app built from this process's environment, building
// it on first use.
var deployed = sync.OnceValues(func() (*app, error) {
	return appFromEnvironment(os.Getenv, os.ReadFile, os.Stderr)
})

// serveDeployed answers r as the function called name of the app configured
// from this process's environment.
func serveDeployed(w http.ResponseWriter, r *http.Request, name string) {
	a, err := deployed()
	if err != nil {
		writeConfigurationProblem(w, r)
		return
	}
	a.handler(name).ServeHTTP(w, r)
}

// LoadConfiguration reads the configuration and builds the shared clients
// now rather than on the first request, and reports any configuration
// problem. Calling it is optional; the local runner does, so that a mistake
// shows at start.
func LoadConfiguration() error {
	_, err := deployed()
	return err
}
