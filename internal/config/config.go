// Package config turns the process environment into the settings the
// functions run with. It is the only place that reads configuration; every
// problem it reports names the variable or file at fault, never a value.
package config

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Defaults for optional settings.
const (
	DefaultClientSecretFile = "client_secret.json"
	// SourceDir is where Cloud Functions places a Go function's sources.
	SourceDir        = "serverless_function_source_code"
	DefaultRevokeURL = "https://oauth2.googleapis.com/revoke"
	DefaultTimeout   = 8 * time.Second
	maxTimeout       = time.Minute
	cookieKeySize    = 32
	// gmailHost is the host of the Gmail API, which GMAIL_ENDPOINT replaces.
	gmailHost = "gmail.googleapis.com"
)

// Settings is everything the functions need, read once per process.
type Settings struct {
	OAuth              *oauth2.Config // client, endpoints and redirect URL; the app adds the scopes
	Redirect           *url.URL       // OAuth.RedirectURL, parsed
	ClientSecretFile   string         // where OAuth came from ("" when given inline)
	CookieKey          []byte         // seals every cookie the app writes
	PreviousCookieKey  []byte         // opens cookies sealed before the last rotation; nil when unset
	CookieKeyGenerated bool           // true when no COOKIE_SECRET was set and a random key is used
	AccessType         string         // "online" or "offline"
	// Endpoints replace Google's hosts, for an emulator: requests for a
	// host that is a key go to that base URL, and any other googleapis.com
	// request goes to AnyGoogleAPI when it is set.
	Endpoints       map[string]*url.URL
	AnyGoogleAPI    *url.URL
	RevokeURL       string        // Google's token revocation endpoint
	UpstreamTimeout time.Duration // deadline for each request's calls to Google
	Secure          bool          // served over https (REDIRECT_URL's scheme): Secure cookies and HSTS
	Deployed        bool          // running on Cloud Functions (K_SERVICE is set)
	// Overrides are the Google endpoints the configuration replaces, for
	// the app to log at start; each is https when Deployed.
	Overrides []Override
}

// Error is a configuration problem. Its message is safe to show to a user and
// to log: it names what is wrong and where, never a secret.
type Error struct {
	Variable string // the environment variable or file concerned
	Problem  string
}

func (e *Error) Error() string { return e.Variable + ": " + e.Problem }

func problem(variable, format string, args ...any) error {
	return &Error{Variable: variable, Problem: fmt.Sprintf(format, args...)}
}

// Load reads the settings from getenv and the client secret file through
// readFile. It returns the first problem it finds as an *Error.
func Load(getenv func(string) string, readFile func(string) ([]byte, error)) (Settings, error) {
	s := Settings{Deployed: getenv("K_SERVICE") != "", Endpoints: map[string]*url.URL{}}
	var err error
	if s.OAuth, s.ClientSecretFile, err = loadClient(getenv, readFile); err != nil {
		return Settings{}, err
	}
	// The redirect URI is sent exactly as configured: Google compares it
	// character by character with the registered one.
	if s.OAuth.RedirectURL, s.Redirect, err = redirectURL(getenv, s.OAuth.RedirectURL, s.Deployed); err != nil {
		return Settings{}, err
	}
	s.Secure = s.Redirect.Scheme == "https"
	if s.CookieKey, s.CookieKeyGenerated, err = cookieKey("COOKIE_SECRET", getenv("COOKIE_SECRET"), s.Deployed); err != nil {
		return Settings{}, err
	}
	if previous := getenv("COOKIE_SECRET_PREVIOUS"); previous != "" {
		if s.PreviousCookieKey, _, err = cookieKey("COOKIE_SECRET_PREVIOUS", previous, s.Deployed); err != nil {
			return Settings{}, err
		}
	}
	s.AccessType = cmp.Or(getenv("ACCESS_TYPE"), "online")
	if s.AccessType != "online" && s.AccessType != "offline" {
		return Settings{}, problem("ACCESS_TYPE", `must be "online" or "offline"`)
	}
	if u, err := optionalURL("GMAIL_ENDPOINT", getenv("GMAIL_ENDPOINT")); err != nil {
		return Settings{}, err
	} else if u != nil {
		s.Endpoints[gmailHost] = u
	}
	if s.AnyGoogleAPI, err = optionalURL("GOOGLE_API_ENDPOINT", getenv("GOOGLE_API_ENDPOINT")); err != nil {
		return Settings{}, err
	}
	s.RevokeURL = DefaultRevokeURL
	if u, err := optionalURL("REVOKE_URL", getenv("REVOKE_URL")); err != nil {
		return Settings{}, err
	} else if u != nil {
		s.RevokeURL = u.String()
	}
	s.UpstreamTimeout = DefaultTimeout
	if raw := getenv("UPSTREAM_TIMEOUT"); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 || d > maxTimeout {
			return Settings{}, problem("UPSTREAM_TIMEOUT", "must be a duration between 0 and %v, such as 8s", maxTimeout)
		}
		s.UpstreamTimeout = d
	}
	if err := checkEndpoints(&s, cmp.Or(s.ClientSecretFile, "CLIENT_SECRET_JSON")); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// loadClient reads Google's client secret JSON from CLIENT_SECRET_JSON, or
// from the file named by CLIENT_SECRET_FILE, or from the default locations.
// The returned config carries the first registered redirect URI, if any.
func loadClient(getenv func(string) string, readFile func(string) ([]byte, error)) (*oauth2.Config, string, error) {
	if inline := getenv("CLIENT_SECRET_JSON"); inline != "" {
		cfg, err := parseClient("CLIENT_SECRET_JSON", []byte(inline))
		return cfg, "", err
	}
	candidates := []string{DefaultClientSecretFile, filepath.Join(SourceDir, DefaultClientSecretFile)}
	if name := getenv("CLIENT_SECRET_FILE"); name != "" {
		candidates = []string{name}
	}
	for _, name := range candidates {
		data, err := readFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			// The reason (permission denied, is a directory) without
			// repeating the path.
			var pathErr *fs.PathError
			if errors.As(err, &pathErr) {
				err = pathErr.Err
			}
			return nil, name, problem(name, "cannot read the client secret file (%v)", err)
		}
		cfg, err := parseClient(name, data)
		return cfg, name, err
	}
	return nil, "", problem(strings.Join(candidates, " or "),
		"client secret file not found: download the OAuth client's JSON from the Google Cloud console, or set CLIENT_SECRET_FILE")
}

// clientEntry is the part of Google's client secret format that is checked
// and used, under its "web" or "installed" key; other fields are ignored.
type clientEntry struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	AuthURI      string   `json:"auth_uri"`
	TokenURI     string   `json:"token_uri"`
	RedirectURIs []string `json:"redirect_uris"`
}

func parseClient(source string, data []byte) (*oauth2.Config, error) {
	var f struct{ Web, Installed *clientEntry } // JSON keys match field names regardless of case
	if err := json.Unmarshal(data, &f); err != nil {
		// Say where the JSON is wrong, never what it holds: the secret.
		reason := "invalid JSON"
		var syntax *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &syntax) {
			reason = fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
		} else if errors.As(err, &typeErr) {
			reason = fmt.Sprintf("field %q has the wrong type", typeErr.Field)
		}
		return nil, problem(source, "not a valid client secret file (%s)", reason)
	}
	entry := cmp.Or(f.Web, f.Installed)
	if entry == nil {
		return nil, problem(source, `client secret file has neither a "web" nor an "installed" client`)
	}
	for field, value := range map[string]string{"client_id": entry.ClientID, "client_secret": entry.ClientSecret, "auth_uri": entry.AuthURI, "token_uri": entry.TokenURI} {
		if value == "" {
			return nil, problem(source, "client secret file has no %s", field)
		}
	}
	for field, value := range map[string]string{"auth_uri": entry.AuthURI, "token_uri": entry.TokenURI} {
		if absoluteURL(value) == nil {
			return nil, problem(source, "%s in the client secret file is not an absolute http(s) URL", field)
		}
	}
	// The same fields google.ConfigFromJSON uses; it is not called because it
	// insists on redirect_uris, which the contract lets REDIRECT_URL supply.
	cfg := &oauth2.Config{
		ClientID:     entry.ClientID,
		ClientSecret: entry.ClientSecret,
		// AuthStyle is left unset, as google.ConfigFromJSON leaves it: the
		// first exchange finds how the token endpoint wants the credentials.
		Endpoint: oauth2.Endpoint{AuthURL: entry.AuthURI, TokenURL: entry.TokenURI},
	}
	if len(entry.RedirectURIs) > 0 {
		cfg.RedirectURL = entry.RedirectURIs[0]
	}
	return cfg, nil
}

// redirectURL is REDIRECT_URL, else the client's first registered
// redirect URI, else the local runner's callback. Deployed, it must be https:
// cookies that carry tokens must never travel in clear text.
func redirectURL(getenv func(string) string, fromFile string, deployed bool) (string, *url.URL, error) {
	raw, variable := getenv("REDIRECT_URL"), "REDIRECT_URL"
	if raw == "" && fromFile != "" {
		raw, variable = fromFile, "redirect_uris[0] of the client secret file"
	}
	if raw == "" {
		raw = "http://localhost:" + cmp.Or(getenv("PORT"), "8080") + "/oauth2callback"
	}
	u := absoluteURL(raw)
	if u == nil {
		return "", nil, problem(variable, "must be the absolute http(s) URL of oauth2callback")
	}
	if u.Fragment != "" || u.RawQuery != "" || u.ForceQuery {
		return "", nil, problem(variable, "must not have a query or fragment")
	}
	if deployed && u.Scheme != "https" {
		return "", nil, problem(variable, "must be an https URL when deployed (K_SERVICE is set)")
	}
	return raw, u, nil
}

// cookieKey decodes a cookie key from variable. Unset is an error when
// deployed (every instance must share one key) and a fresh random key
// locally.
func cookieKey(variable, raw string, deployed bool) ([]byte, bool, error) {
	if raw == "" {
		if deployed {
			return nil, false, problem(variable, "is required when deployed: set it to base64 of 32 random bytes (deploy.sh stores one in Secret Manager)")
		}
		key := make([]byte, cookieKeySize)
		rand.Read(key) // never fails: crypto/rand crashes the program rather than return short
		return key, true, nil
	}
	trimmed := strings.TrimRight(strings.TrimSpace(raw), "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		key, err := enc.DecodeString(trimmed)
		if err != nil {
			continue
		}
		if len(key) != cookieKeySize {
			return nil, false, problem(variable, "decodes to %d bytes, want %d", len(key), cookieKeySize)
		}
		return key, false, nil
	}
	return nil, false, problem(variable, "is not base64 (standard or URL alphabet)")
}

// optionalURL parses an optional absolute URL setting; nil when unset.
func optionalURL(variable, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, nil
	}
	u := absoluteURL(strings.TrimRight(raw, "/"))
	if u == nil {
		return nil, problem(variable, "must be an absolute http(s) URL")
	}
	return u, nil
}

// absoluteURL parses raw as an http or https URL with a host and no user
// information, or returns nil. url.Parse lower-cases the scheme, so
// "HTTPS://" counts as https.
func absoluteURL(raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil
	}
	return u
}
