package fakegoogle_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/option"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/fakegoogle/fakegoogletest"
)

// callbackURL is the application's redirect URI in these tests. Nothing
// listens there: the tests read the redirect instead of following it.
const callbackURL = "http://app.example.test/oauth2callback"

// harness is a fake Google on httptest plus a real oauth2.Config for it.
type harness struct {
	t    *testing.T
	srv  *fakegoogle.Server
	ts   *httptest.Server
	cfg  *oauth2.Config
	opts fakegoogle.Options
}

// newHarness starts a fake Google with opts (RedirectURIs defaulting to
// callbackURL) and builds the oauth2.Config from its client_secret.json.
func newHarness(t *testing.T, opts fakegoogle.Options, scopes ...string) *harness {
	t.Helper()
	if opts.RedirectURIs == nil {
		opts.RedirectURIs = []string{callbackURL}
	}
	if len(scopes) == 0 {
		scopes = []string{gmail.GmailReadonlyScope}
	}
	srv, ts := fakegoogletest.NewServer(t, opts)
	cfg, err := google.ConfigFromJSON(fakegoogle.ClientSecretJSON(ts.URL, opts), scopes...)
	if err != nil {
		t.Fatalf("ConfigFromJSON: %v", err)
	}
	return &harness{t: t, srv: srv, ts: ts, cfg: cfg, opts: srv.Options()}
}

// ctx returns a context whose oauth2 HTTP client talks to the test server.
func (h *harness) ctx() context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, h.ts.Client())
}

// authURL returns an authorization URL with PKCE and offline access, plus
// the verifier and state it used.
func (h *harness) authURL(extra ...oauth2.AuthCodeOption) (authURL, verifier, state string) {
	verifier = oauth2.GenerateVerifier()
	state = oauth2.GenerateVerifier()[:24]
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline}, extra...)
	return h.cfg.AuthCodeURL(state, opts...), verifier, state
}

// approve runs Approve and checks that the callback is the application's
// with the state.
func (h *harness) approve(authURL, email, state string) (code string) {
	h.t.Helper()
	cb, err := h.srv.Approve(authURL, email)
	if err != nil {
		h.t.Fatalf("Approve(%q): %v", email, err)
	}
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != callbackURL {
		h.t.Fatalf("callback = %s, want %s", got, callbackURL)
	}
	if got := cb.Query().Get("state"); got != state {
		h.t.Fatalf("callback state = %q, want %q", got, state)
	}
	code = cb.Query().Get("code")
	if code == "" {
		h.t.Fatalf("callback has no code: %s", cb)
	}
	return code
}

// login runs the whole flow for email and returns the token.
func (h *harness) login(email string) *oauth2.Token {
	h.t.Helper()
	u, verifier, state := h.authURL()
	code := h.approve(u, email, state)
	tok, err := h.cfg.Exchange(h.ctx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		h.t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// gmail returns a real Gmail client using tok against the fake.
func (h *harness) gmail(tok *oauth2.Token) *gmail.Service {
	h.t.Helper()
	return h.gmailWith(h.cfg.Client(h.ctx(), tok))
}

// gmailWith returns a real Gmail client using hc against the fake.
func (h *harness) gmailWith(hc *http.Client) *gmail.Service {
	h.t.Helper()
	svc, err := gmail.NewService(context.Background(), option.WithHTTPClient(hc), option.WithEndpoint(h.ts.URL+"/"))
	if err != nil {
		h.t.Fatalf("gmail.NewService: %v", err)
	}
	return svc
}

// staticClient sends "Authorization: Bearer access" without refreshing.
func (h *harness) staticClient(access string) *http.Client {
	return oauth2.NewClient(h.ctx(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: access}))
}

// noRedirect is an HTTP client for the test server that returns redirects
// instead of following them.
func (h *harness) noRedirect() *http.Client {
	c := *h.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// account returns the Server's account with this email.
func (h *harness) account(email string) fakegoogle.Account {
	h.t.Helper()
	i := slices.IndexFunc(h.opts.Accounts, func(a fakegoogle.Account) bool { return a.Email == email })
	if i < 0 {
		h.t.Fatalf("no account %s", email)
	}
	return h.opts.Accounts[i]
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mustParse parses a URL or fails the test.
func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return u
}
