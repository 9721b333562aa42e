package oauthgmail

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"example.com/gcf-oauth-gmail/internal/config"
	"example.com/gcf-oauth-gmail/internal/logging"
	"example.com/gcf-oauth-gmail/internal/session"
	"example.com/gcf-oauth-gmail/internal/upstream"
)

// app is everything the functions share within one process: configuration,
// the cookie keys and the one transport to Google. It holds no per-user
// state.
type app struct {
	oauth       *oauth2.Config          // the OAuth client; each sign-in sets its own scopes
	functions   []Function              // the app's functions, in table order
	handlers    map[string]http.Handler // each function's handler, by name
	home        string                  // where a sign-in lands unless another function asked for it
	accessType  oauth2.AuthCodeOption   // online, or offline for a refresh token
	store       *session.Store
	transport   http.RoundTripper // pooled, capped and, for emulators, rerouted
	tokenClient *http.Client      // the token and revocation endpoints, over transport, without any user's token
	revokeURL   string
	timeout     time.Duration
	redirect    *url.URL // oauth2callback's URL, which fixes the app's scheme and host
	secure      bool
	csrf        *http.CrossOriginProtection
	log         *slog.Logger
}

// appOptions are the dependencies a test may replace.
type appOptions struct {
	functions []Function        // default Functions()
	transport http.RoundTripper // the process's one connection pool to Google
	logger    *slog.Logger
	now       func() time.Time // clock for cookie lifetimes
}

func newApp(s config.Settings, opts appOptions) (*app, error) {
	if opts.functions == nil {
		opts.functions = Functions()
	}
	if opts.transport == nil {
		opts.transport = upstream.NewTransport()
	}
	opts.logger = cmp.Or(opts.logger, logging.New(io.Discard, ""))
	store, err := session.NewStore(s.CookieKey, s.PreviousCookieKey, s.Secure, opts.now)
	if err != nil {
		return nil, err
	}
	transport := &upstream.Reroute{
		Base:    upstream.LimitBodies(opts.transport, upstream.MaxBodyBytes),
		Hosts:   s.Endpoints,
		Default: s.AnyGoogleAPI,
	}
	oauth := *s.OAuth
	a := &app{
		oauth:       &oauth,
		functions:   opts.functions,
		handlers:    map[string]http.Handler{},
		accessType:  oauth2.AccessTypeOnline,
		store:       store,
		transport:   transport,
		tokenClient: &http.Client{Transport: transport},
		revokeURL:   s.RevokeURL,
		timeout:     s.UpstreamTimeout,
		redirect:    s.Redirect,
		secure:      s.Secure,
		csrf:        http.NewCrossOriginProtection(),
		log:         opts.logger,
	}
	if s.AccessType == "offline" {
		a.accessType = oauth2.AccessTypeOffline
	}
	for _, f := range a.functions {
		a.handlers[f.Name] = a.newHandler(f)
		if a.home == "" && f.Call != nil {
			a.home = f.Name
		}
	}
	return a, nil
}

// appFromEnvironment builds the app the deployed functions use, logging to
// logOut. A configuration problem is logged once, here, and returned.
func appFromEnvironment(getenv func(string) string, readFile func(string) ([]byte, error), logOut io.Writer) (*app, error) {
	logger := logging.NewFormat(logOut, cmp.Or(getenv("GOOGLE_CLOUD_PROJECT"), getenv("GCP_PROJECT")), getenv("LOG_FORMAT"))
	s, err := config.Load(getenv, readFile)
	if err != nil {
		logger.Error("configuration problem: the app cannot serve anyone until it is fixed", "problem", err.Error())
		return nil, err
	}
	for _, o := range s.Overrides {
		logger.Warn("a Google endpoint is overridden: requests meant for Google go to this address instead", "setting", o.Setting, "url", o.URL)
	}
	if s.CookieKeyGenerated {
		logger.Warn("COOKIE_SECRET is not set: using a random key for this process only, so sessions end when it stops and other instances cannot read its cookies")
	}
	a, err := newApp(s, appOptions{logger: logger})
	if err != nil {
		logger.Error("cannot start", "problem", err.Error())
		return nil, err
	}
	logger.Info("configured", "redirect_url", s.OAuth.RedirectURL, "access_type", s.AccessType,
		"secure_cookies", s.Secure, "previous_cookie_key", s.PreviousCookieKey != nil)
	return a, nil
}

// handler returns the handler of the function called name; a name the app
// does not have gets a 404 page.
func (a *app) handler(name string) http.Handler {
	if h, ok := a.handlers[name]; ok {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.fail(w, r, problemNotFound) })
}

// function returns the function called name that acts for the user, if
// the app has one.
func (a *app) function(name string) (Function, bool) {
	for _, f := range a.functions {
		if f.Name == name && f.Call != nil {
			return f, true
		}
	}
	return Function{}, false
}

// tokenContext returns ctx carrying the client the oauth2 package uses for
// the token endpoint.
func (a *app) tokenContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, a.tokenClient)
}
