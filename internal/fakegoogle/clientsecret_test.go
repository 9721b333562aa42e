package fakegoogle_test

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/oauth2/google"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

func TestClientSecretJSONHasGooglesWebFormat(t *testing.T) {
	t.Parallel()
	opts := fakegoogle.Options{RedirectURIs: []string{"http://localhost:8080/oauth2callback", "https://x.example.com/cb"}}
	raw := fakegoogle.ClientSecretJSON("http://127.0.0.1:4321/", opts)

	var file struct {
		Web map[string]any `json:"web"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"client_id":                   fakegoogle.DefaultClientID,
		"client_secret":               fakegoogle.DefaultClientSecret,
		"project_id":                  "demo-project",
		"auth_uri":                    "http://127.0.0.1:4321/o/oauth2/auth",
		"token_uri":                   "http://127.0.0.1:4321/token",
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
	}
	for k, v := range want {
		if file.Web[k] != v {
			t.Errorf("%s = %v, want %v", k, file.Web[k], v)
		}
	}
	cfg, err := google.ConfigFromJSON(raw, "scope")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RedirectURL != opts.RedirectURIs[0] || cfg.Endpoint.TokenURL != want["token_uri"] || cfg.ClientSecret != fakegoogle.DefaultClientSecret {
		t.Errorf("config = %+v", cfg)
	}
	if !strings.Contains(string(fakegoogle.ClientSecretJSON("http://h", fakegoogle.Options{})), `"redirect_uris": []`) {
		t.Errorf("no redirect URIs should give an empty list")
	}
}
