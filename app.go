package oauthgmail

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
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
	oauth      *oauth2.Config          // the client; Scopes is the union of every function's
	functions  []Function              // the app's functions
	home       string                  // where a sign-in lands unless another function asked for it
	authParams []oauth2.AuthCodeOption // access_type and, for offline, prompt
	offline    bool
	store      *session.Store
	transport  http.RoundTripper // pooled, capped and, for emulators, rerouted
	google     *http.Client      // the token and revocation endpoints, over transport
	revokeURL  string
	timeout    time.Duration
	redirect   *url.URL // oauth2callback's URL, which fixes the app's scheme and host
	secure     bool
	csrf       *http.CrossOriginProtection
	log        *slog.Logger
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
	if opts.logger == nil {
		opts.logger = logging.New(io.Discard, "")
	}
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
	oauth.Scopes = scopesOf(opts.functions)
	authParams := []oauth2.AuthCodeOption{oauth2.AccessTypeOnline}
	if s.AccessType == "offline" {
		// Google issues a refresh token only on a consent screen the user
		// has actually seen, so offline access asks for it every time.
		authParams = []oauth2.AuthCodeOption{oauth2.AccessTypeOffline, oauth2.SetAuthURLParam("prompt", "consent")}
	}
	return &app{
		oauth:      &oauth,
		functions:  opts.functions,
		home:       homeOf(opts.functions),
		authParams: authParams,
		offline:    s.AccessType == "offline",
		store:      store,
		transport:  transport,
		google:     &http.Client{Transport: transport},
		revokeURL:  s.RevokeURL,
		timeout:    s.UpstreamTimeout,
		redirect:   s.Redirect,
		secure:     s.Secure,
		csrf:       http.NewCrossOriginProtection(),
		log:        opts.logger,
	}, nil
}

// appFromEnvironment builds the app the deployed functions use, logging to
// logOut. A configuration problem is logged once, here, and returned.
func appFromEnvironment(getenv func(string) string, readFile func(string) ([]byte, error), logOut io.Writer) (*app, error) {
	logger := logging.NewFormat(logOut, cmp.Or(getenv("GOOGLE_CLOUD_PROJECT"), getenv("GCP_PROJECT")), getenv("LOG_FORMAT"))
	s, err := config.Load(getenv, readFile)
	if err != nil {
		logger.Error("configuration problem; every request will get an error page until it is fixed", "problem", err.Error())
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

// scopesOf is the union of the functions' scopes, in table order: what a
// sign-in asks for.
func scopesOf(functions []Function) []string {
	var scopes []string
	for _, f := range functions {
		for _, s := range f.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	return scopes
}

// homeOf is the first function that acts for the user: where a sign-in
// lands when nothing else asked for it.
func homeOf(functions []Function) string {
	for _, f := range functions {
		if len(f.Scopes) > 0 {
			return f.Name
		}
	}
	return ""
}

// actsForUser reports whether name is one of the app's functions that act
// for the signed-in user, and so a place a sign-in may return to.
func (a *app) actsForUser(name string) bool {
	return slices.ContainsFunc(a.functions, func(f Function) bool { return f.Name == name && len(f.Scopes) > 0 })
}

// tokenContext returns ctx carrying the client the oauth2 package uses for
// the token endpoint.
func (a *app) tokenContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, a.google)
}
