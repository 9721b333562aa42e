// Package fakegoogle emulates the parts of Google that a three-legged OAuth 2.0
// web application reading Gmail labels talks to: the authorization endpoint
// with its consent page, the token endpoint, the revocation endpoint and
// Gmail's users.labels.list and users.labels.create methods. A file of the
// package can add any other API method, reading or changing each account's
// data (see api in apis.go); HandleAPI adds one from outside, for a test.
//
// A Server is an http.Handler that serves every route on one host, so it can
// run under httptest for tests (see package fakegoogletest) or inside a local demo where
// a person clicks through the consent page without a Google account. It speaks
// the same wire formats as Google, including error bodies, so the real
// golang.org/x/oauth2 and google.golang.org/api/gmail/v1 clients work against
// it unchanged. Tests can inject faults (FailGmail, FailToken, FailRevoke) and
// inspect what happened (Stats, Secrets, IsRevoked).
//
// All state is kept in memory behind one mutex; a Server is safe for
// concurrent use.
package fakegoogle

import (
	"net/http"
	"sync"
	"time"
)

// AuthPath is the path of the authorization endpoint (Google's auth_uri).
const AuthPath = "/o/oauth2/auth"

// DecisionPath is where the consent page posts the user's Allow or Deny.
const DecisionPath = "/o/oauth2/auth/decision"

// TokenPath is the path of the token endpoint (Google's token_uri).
const TokenPath = "/token"

// RevokePath is the path of the token revocation endpoint.
const RevokePath = "/revoke"

// LabelsPath is the path of Gmail's users.labels.list for the signed-in user.
const LabelsPath = "/gmail/v1/users/me/labels"

// DefaultClientID is the client_id of a Server whose Options leave it empty.
const DefaultClientID = "demo-client-id.apps.googleusercontent.com"

// DefaultClientSecret is the client_secret of a Server whose Options leave it
// empty.
const DefaultClientSecret = "demo-client-secret" // #nosec G101 -- the emulator's own fake secret

// DefaultAppName is the application name the consent page shows when
// Options.AppName is empty.
const DefaultAppName = "Gmail labels demo"

// DefaultCodeLifetime is how long an authorization code stays valid when
// Options.CodeLifetime is zero.
const DefaultCodeLifetime = 5 * time.Minute

// DefaultAccessTokenLifetime is the access token lifetime when
// Options.AccessTokenLifetime is zero.
const DefaultAccessTokenLifetime = time.Hour

// pendingLifetime is how long a consent page stays usable.
const pendingLifetime = 15 * time.Minute

// Options configures a Server. Zero values get sensible defaults.
type Options struct {
	// ClientID and ClientSecret identify the one OAuth client the Server
	// knows. Defaults DefaultClientID and DefaultClientSecret.
	ClientID, ClientSecret string
	// RedirectURIs is the exact-match allow list for redirect_uri. It is
	// required for a working flow: with none, every authorization request
	// fails with redirect_uri_mismatch.
	RedirectURIs []string
	// AppName is shown on the consent page. Default DefaultAppName.
	AppName string
	// Accounts are the users to choose from. Default DemoAccounts().
	Accounts []Account
	// CodeLifetime is how long an authorization code can be exchanged.
	// Default DefaultCodeLifetime.
	CodeLifetime time.Duration
	// AccessTokenLifetime is the lifetime of access tokens (expires_in).
	// Default DefaultAccessTokenLifetime.
	AccessTokenLifetime time.Duration
	// Now tells the time for code and token expiry. Default time.Now.
	Now func() time.Time
	// APILatency is how long every API method (Gmail's and those added
	// with HandleAPI) takes to answer, as Google's take tens of
	// milliseconds. Default zero.
	APILatency time.Duration
}

// withDefaults returns a copy of o with defaults filled in and slices copied.
func (o Options) withDefaults() Options {
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.AppName == "" {
		o.AppName = DefaultAppName
	}
	if len(o.Accounts) == 0 {
		o.Accounts = DemoAccounts()
	}
	o.Accounts = cloneAccounts(o.Accounts)
	o.RedirectURIs = append([]string(nil), o.RedirectURIs...)
	if o.CodeLifetime <= 0 {
		o.CodeLifetime = DefaultCodeLifetime
	}
	if o.AccessTokenLifetime <= 0 {
		o.AccessTokenLifetime = DefaultAccessTokenLifetime
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Server is an emulator of Google's OAuth 2.0 and Gmail endpoints. It
// implements http.Handler. Create it with New.
type Server struct {
	opts Options // never changed after New; the accounts' data is in accounts
	mux  *http.ServeMux

	closeOnce sync.Once
	closed    chan struct{}

	mu           sync.Mutex
	redirectURIs []string // Options.RedirectURIs plus AllowRedirectURI's
	store        store
	stats        Stats
	fault        [faultTargets]faultSlot
	hanging      int                 // requests held by a Hang fault
	accounts     []*accountState     // Options.Accounts, as API methods changed them
	apiRoutes    map[string]*api     // the API methods served, by pattern
	apiMethods   map[string][]string // the methods of apiRoutes, by path
	idKey        []byte              // signs ID tokens
}

// New returns a Server configured by opts, with defaults for zero fields.
func New(opts Options) *Server {
	s := &Server{
		opts:       opts.withDefaults(),
		closed:     make(chan struct{}),
		store:      newStore(),
		apiRoutes:  map[string]*api{},
		apiMethods: map[string][]string{},
		idKey:      []byte(randomToken("")),
	}
	for _, a := range cloneAccounts(s.opts.Accounts) {
		s.accounts = append(s.accounts, &accountState{Account: a})
	}
	s.redirectURIs = append([]string(nil), s.opts.RedirectURIs...)
	s.store.secrets = append(s.store.secrets, s.opts.ClientSecret)
	mux := http.NewServeMux()
	mux.HandleFunc(AuthPath, s.handleAuthorize)
	mux.HandleFunc("/o/oauth2/v2/auth", s.handleAuthorize)
	mux.HandleFunc(DecisionPath, s.handleDecision)
	mux.HandleFunc(TokenPath, s.handleToken)
	mux.HandleFunc(RevokePath, s.handleRevoke)
	mux.HandleFunc("/", handleNotFound)
	s.mux = mux
	for _, a := range apis {
		s.addAPI(a)
	}
	return s
}

// ServeHTTP serves every route of the emulator.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// Options returns the effective options, after defaults, with RedirectURIs
// including those added by AllowRedirectURI and Accounts as they are now
// (with the labels created since, for example). The returned slices are
// copies.
func (s *Server) Options() Options {
	o := s.opts
	s.mu.Lock()
	defer s.mu.Unlock()
	o.Accounts = make([]Account, len(s.accounts))
	for i, st := range s.accounts {
		o.Accounts[i] = st.Account
	}
	o.Accounts = cloneAccounts(o.Accounts)
	o.RedirectURIs = append([]string(nil), s.redirectURIs...)
	return o
}

// Close releases every request held by a Hang fault (they get a 503) and
// makes later hangs return at once. It does not stop any listener; the Server
// keeps answering other requests. Call it before closing an httptest.Server
// that a hung request would otherwise block. Close is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
}

// now is the Server's clock.
func (s *Server) now() time.Time {
	return s.opts.Now()
}
