package fakegoogle

import (
	"encoding/json"
	"strings"
)

// clientSecretFile is the layout of the client_secret.json that Google's
// console downloads for a web application.
type clientSecretFile struct {
	Web clientSecretWeb `json:"web"`
}

type clientSecretWeb struct {
	ClientID                string   `json:"client_id"`
	ProjectID               string   `json:"project_id"`
	AuthURI                 string   `json:"auth_uri"`
	TokenURI                string   `json:"token_uri"`
	AuthProviderX509CertURL string   `json:"auth_provider_x509_cert_url"`
	ClientSecret            string   `json:"client_secret"`
	RedirectURIs            []string `json:"redirect_uris"`
}

// ClientSecretJSON returns a client_secret.json in Google's "web" format for
// a Server with these options served at baseURL: its auth_uri and token_uri
// point at the emulator and its redirect_uris are opts.RedirectURIs.
// golang.org/x/oauth2/google.ConfigFromJSON accepts it as long as there is at
// least one redirect URI.
func ClientSecretJSON(baseURL string, opts Options) []byte {
	opts = opts.withDefaults()
	base := strings.TrimRight(baseURL, "/")
	redirects := opts.RedirectURIs
	if redirects == nil {
		redirects = []string{}
	}
	b, err := json.MarshalIndent(clientSecretFile{Web: clientSecretWeb{
		ClientID:                opts.ClientID,
		ProjectID:               "demo-project",
		AuthURI:                 base + AuthPath,
		TokenURI:                base + TokenPath,
		AuthProviderX509CertURL: "https://www.googleapis.com/oauth2/v1/certs",
		ClientSecret:            opts.ClientSecret,
		RedirectURIs:            redirects,
	}}, "", "  ")
	if err != nil {
		panic("fakegoogle: encode client secret: " + err.Error()) // strings and a slice of strings always encode
	}
	return append(b, '\n')
}
