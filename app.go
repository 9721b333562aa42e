package oauthgmail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/option"

	"example.com/gcf-oauth-gmail/internal/config"
	"example.com/gcf-oauth-gmail/internal/logging"
	"example.com/gcf-oauth-gmail/internal/session"
	"example.com/gcf-oauth-gmail/internal/upstream"
)

// app is everything the functions share within one process: configuration,
// the cookie keys and the clients for Google over one transport. It holds
// no per-user state.
type app struct {
	oauth      *oauth2.Config
	authParams []oauth2.AuthCodeOption // access_type and, for offline, prompt
	store      *session.Store
	gmail      *gmail.Service // shared by all users; the token rides in the request context
	google     *http.Client   // token and revocation endpoints
	revokeURL  string
	timeout    time.Duration
	csrf       *http.CrossOriginProtection
	log        *slog.Logger
}

// appOptions are the dependencies a test may replace.
type appOptions struct {
	transport http.RoundTripper // the process's one connection pool to Google
	logger    *slog.Logger
	now       func() time.Time // clock for cookie lifetimes
}

func newApp(s config.Settings, opts appOptions) (*app, error) {
	if opts.transport == nil {
		opts.transport = upstream.NewTransport()
	}
	if opts.logger == nil {
		opts.logger = logging.New(io.Discard, "")
	}
	store, err := session.NewStore(s.CookieKey, s.Secure, opts.now)
	if err != nil {
		return nil, err
	}
	limited := upstream.LimitBodies(opts.transport, upstream.MaxBodyBytes)
	gmailClient := &http.Client{Transport: &upstream.BearerTransport{Base: limited}}
	svc, err := gmail.NewService(context.Background(),
		option.WithHTTPClient(gmailClient),
		option.WithEndpoint(s.GmailEndpoint+"/"))
	if err != nil {
		return nil, fmt.Errorf("gmail client: %w", err)
	}
	authParams := []oauth2.AuthCodeOption{oauth2.AccessTypeOnline}
	if s.AccessType == "offline" {
		// Google issues a refresh token only on a consent screen the user
		// has actually seen, so offline access asks for it every time.
		authParams = []oauth2.AuthCodeOption{oauth2.AccessTypeOffline, oauth2.SetAuthURLParam("prompt", "consent")}
	}
	return &app{
		oauth:      s.OAuth,
		authParams: authParams,
		store:      store,
		gmail:      svc,
		google:     &http.Client{Transport: limited},
		revokeURL:  s.RevokeURL,
		timeout:    s.UpstreamTimeout,
		csrf:       http.NewCrossOriginProtection(),
		log:        opts.logger,
	}, nil
}

// appFromEnvironment builds the app the deployed functions use, logging to
// logOut. A configuration problem is logged once, here, and returned.
func appFromEnvironment(getenv func(string) string, readFile func(string) ([]byte, error), logOut io.Writer) (*app, error) {
	logger := logging.NewFormat(logOut, firstNonEmpty(getenv("GOOGLE_CLOUD_PROJECT"), getenv("GCP_PROJECT")), getenv("LOG_FORMAT"))
	s, err := config.Load(getenv, readFile)
	if err != nil {
		logger.Error("configuration problem; every request will get an error page until it is fixed", "problem", err.Error())
		return nil, err
	}
	if s.CookieKeyGenerated {
		logger.Warn("COOKIE_SECRET is not set: using a random key for this process only, so sessions end when it stops and other instances cannot read its cookies")
	}
	a, err := newApp(s, appOptions{logger: logger})
	if err != nil {
		logger.Error("cannot start", "problem", err.Error())
		return nil, err
	}
	logger.Info("configured", "redirect_url", s.OAuth.RedirectURL, "access_type", s.AccessType, "secure_cookies", s.Secure)
	return a, nil
}

// tokenContext returns ctx carrying the shared client for the oauth2
// package's calls to the token endpoint.
func (a *app) tokenContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, a.google)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
