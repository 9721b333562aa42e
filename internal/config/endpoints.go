package config

import (
	"net/url"
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
// is https (url.Parse has already folded the scheme to lower case, so
// "HTTPS://" counts), and lists the ones the configuration overrides. Over
// plain http, the client secret, codes and tokens would cross the network
// in clear text.
func checkEndpoints(s *Settings, clientSource string) error {
	type endpoint struct {
		setting    string
		u          *url.URL // nil when not set
		overridden bool     // the setting replaces Google's address
		inFile     bool     // a field of the client secret file rather than a variable
	}
	authURL, _ := url.Parse(s.OAuth.Endpoint.AuthURL)
	tokenURL, _ := url.Parse(s.OAuth.Endpoint.TokenURL)
	revokeURL, _ := url.Parse(s.RevokeURL)
	endpoints := []endpoint{
		{"auth_uri", authURL, !isGoogleSignInHost(authURL), true},
		{"token_uri", tokenURL, !isGoogleSignInHost(tokenURL), true},
		{"GMAIL_ENDPOINT", s.Endpoints[gmailHost], s.Endpoints[gmailHost] != nil, false},
		{"GOOGLE_API_ENDPOINT", s.AnyGoogleAPI, s.AnyGoogleAPI != nil, false},
		{"REVOKE_URL", revokeURL, s.RevokeURL != DefaultRevokeURL, false},
	}
	const clearText = "over http, tokens and the client secret would travel in clear text"
	s.Overrides = nil
	for _, e := range endpoints {
		if e.u == nil {
			continue
		}
		if s.Deployed && !strings.EqualFold(e.u.Scheme, "https") {
			if e.inFile {
				return problem(clientSource, "%s in the client secret file must be an https URL when deployed (K_SERVICE is set): %s", e.setting, clearText)
			}
			return problem(e.setting, "must be an https URL when deployed (K_SERVICE is set): %s", clearText)
		}
		if e.overridden {
			s.Overrides = append(s.Overrides, Override{Setting: e.setting, URL: withoutQuery(e.u)})
		}
	}
	return nil
}

func isGoogleSignInHost(u *url.URL) bool {
	if u == nil {
		return true
	}
	for _, h := range googleSignInHosts {
		if strings.EqualFold(u.Host, h) {
			return true
		}
	}
	return false
}

// withoutQuery is u's scheme, host and path: what a log line may show of an
// endpoint, since a query could carry a key.
func withoutQuery(u *url.URL) string {
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return v.String()
}
