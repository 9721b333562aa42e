package config

import (
	"net/url"
	"slices"
	"strings"
)

// Override is a Google endpoint the configuration replaces: an emulator's
// address, or a mistake that sends the client secret, authorization codes
// and tokens somewhere else. The app logs each one when it starts.
type Override struct {
	Setting string // the environment variable, or the field of the client secret file
	URL     string // the address requests go to instead: scheme, host and path, never a query
}

// googleSignInHosts are the hosts of the auth_uri and token_uri of the
// client secret files Google issues, today's and older ones. An endpoint on
// another host is an override.
var googleSignInHosts = []string{"accounts.google.com", "oauth2.googleapis.com", "www.googleapis.com"}

// checkEndpoints makes sure that, when deployed, every Google endpoint in s
// is https, since over plain http the client secret, codes and tokens would
// cross the network in clear text; and it lists the ones the configuration
// overrides.
func checkEndpoints(s *Settings, clientSource string) error {
	// These were valid URLs when Load read them, so they parse again.
	authURL, _ := url.Parse(s.OAuth.Endpoint.AuthURL)
	tokenURL, _ := url.Parse(s.OAuth.Endpoint.TokenURL)
	revokeURL, _ := url.Parse(s.RevokeURL)
	endpoints := []struct {
		setting    string
		u          *url.URL // nil when not set
		overridden bool     // the setting replaces Google's address
		inFile     bool     // a field of the client secret file rather than a variable
	}{
		{"auth_uri", authURL, !slices.Contains(googleSignInHosts, strings.ToLower(authURL.Host)), true},
		{"token_uri", tokenURL, !slices.Contains(googleSignInHosts, strings.ToLower(tokenURL.Host)), true},
		{"GMAIL_ENDPOINT", s.Endpoints[gmailHost], s.Endpoints[gmailHost] != nil, false},
		{"GOOGLE_API_ENDPOINT", s.AnyGoogleAPI, s.AnyGoogleAPI != nil, false},
		{"REVOKE_URL", revokeURL, s.RevokeURL != DefaultRevokeURL, false},
	}
	const clearText = "over http, tokens and the client secret would travel in clear text"
	for _, e := range endpoints {
		if e.u == nil {
			continue
		}
		if s.Deployed && e.u.Scheme != "https" {
			if e.inFile {
				return problem(clientSource, "%s in the client secret file must be an https URL when deployed (K_SERVICE is set): %s", e.setting, clearText)
			}
			return problem(e.setting, "must be an https URL when deployed (K_SERVICE is set): %s", clearText)
		}
		if e.overridden {
			// A query could carry a key: the log shows scheme, host and path.
			shown := url.URL{Scheme: e.u.Scheme, Host: e.u.Host, Path: e.u.Path, RawPath: e.u.RawPath}
			s.Overrides = append(s.Overrides, Override{Setting: e.setting, URL: shown.String()})
		}
	}
	return nil
}
