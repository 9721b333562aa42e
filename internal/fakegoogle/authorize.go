package fakegoogle

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// AuthError is an invalid authorization request, as Approve and Deny report
// it. Google shows some of these as an error page (Redirect is nil) and sends
// the others back to the application's redirect_uri (Redirect is that URL,
// with error, error_description and state).
type AuthError struct {
	// Code is the OAuth error code, e.g. "redirect_uri_mismatch",
	// "invalid_client", "invalid_request", "unsupported_response_type".
	Code string
	// Description explains the error to a person.
	Description string
	// Status is the HTTP status of the error page (when Redirect is nil).
	Status int
	// Redirect is where Google would send the browser, or nil when it shows
	// an error page instead.
	Redirect *url.URL
}

// Error returns the code and description.
func (e *AuthError) Error() string {
	return "fakegoogle: " + e.Code + ": " + e.Description
}

// errorPage is an AuthError shown as a page, without a redirect.
func errorPage(status int, code, format string, args ...any) *AuthError {
	return &AuthError{Code: code, Description: fmt.Sprintf(format, args...), Status: status}
}

// validPrompts are the values Google accepts in the prompt parameter.
var validPrompts = []string{"none", "consent", "select_account"}

// parseAuthRequest validates the parameters of an authorization request the
// way Google does: problems with the client or the redirect URI are shown as a
// page, the others are sent back to the redirect URI.
func (s *Server) parseAuthRequest(q url.Values) (authRequest, *AuthError) {
	clientID := q.Get("client_id")
	switch {
	case clientID == "":
		return authRequest{}, errorPage(http.StatusBadRequest, "invalid_request", "Missing required parameter: client_id")
	case clientID != s.opts.ClientID:
		return authRequest{}, errorPage(http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
	}
	redirectURI := q.Get("redirect_uri")
	switch {
	case redirectURI == "":
		return authRequest{}, errorPage(http.StatusBadRequest, "invalid_request", "Missing required parameter: redirect_uri")
	case !s.redirectAllowed(redirectURI):
		return authRequest{}, errorPage(http.StatusBadRequest, "redirect_uri_mismatch",
			"The redirect URI in the request, %s, does not match the ones authorized for the OAuth client.", redirectURI)
	}
	req := authRequest{
		clientID:    clientID,
		redirectURI: redirectURI,
		scopes:      strings.Fields(q.Get("scope")),
		state:       q.Get("state"),
		challenge:   q.Get("code_challenge"),
		prompt:      q.Get("prompt"),
		loginHint:   q.Get("login_hint"),
	}
	includeGranted := q.Get("include_granted_scopes")
	fail := func(code, format string, args ...any) (authRequest, *AuthError) {
		desc := fmt.Sprintf(format, args...)
		return authRequest{}, &AuthError{
			Code:        code,
			Description: desc,
			Status:      http.StatusFound,
			Redirect:    errorRedirect(req, code, desc),
		}
	}
	switch rt := q.Get("response_type"); rt {
	case "code":
	case "":
		return fail("invalid_request", "Missing required parameter: response_type")
	default:
		return fail("unsupported_response_type", "Unsupported response_type: %s", rt)
	}
	if len(req.scopes) == 0 {
		return fail("invalid_request", "Missing required parameter: scope")
	}
	if req.challenge == "" {
		return fail("invalid_request", "Missing required parameter: code_challenge")
	}
	switch m := q.Get("code_challenge_method"); m {
	case "S256":
	case "":
		return fail("invalid_request", "Missing required parameter: code_challenge_method (only S256 is accepted)")
	default:
		return fail("invalid_request", "Unsupported code_challenge_method: %s (only S256 is accepted)", m)
	}
	if !validChallenge(req.challenge) {
		return fail("invalid_request", "Invalid code_challenge: 43 to 128 characters of [A-Za-z0-9-._~] expected")
	}
	switch at := q.Get("access_type"); at {
	case "", "online":
	case "offline":
		req.offline = true
	default:
		return fail("invalid_request", "Invalid access_type: %s", at)
	}
	switch includeGranted {
	case "", "false":
	case "true":
		req.includeGranted = true
	default:
		return fail("invalid_request", "Invalid include_granted_scopes: %s (true or false expected)", includeGranted)
	}
	if req.prompt != "" {
		for _, p := range strings.Fields(req.prompt) {
			if !slices.Contains(validPrompts, p) {
				return fail("invalid_request", "Invalid prompt: %s", req.prompt)
			}
		}
	}
	return req, nil
}

// redirectAllowed reports whether uri is on the allow list, by exact match.
func (s *Server) redirectAllowed(uri string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.redirectURIs, uri)
}

// AllowRedirectURI adds uri to the redirect_uri allow list, for tests whose
// callback URL is known only after the Server started.
func (s *Server) AllowRedirectURI(uri string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.redirectURIs, uri) {
		s.redirectURIs = append(s.redirectURIs, uri)
	}
}

// validChallenge reports whether c has the syntax of a PKCE code challenge
// (RFC 7636 section 4.2).
func validChallenge(c string) bool {
	if len(c) < 43 || len(c) > 128 {
		return false
	}
	for _, r := range c {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case r == '-', r == '.', r == '_', r == '~':
		default:
			return false
		}
	}
	return true
}

// redirectTo returns req's redirect URI with params added to its query, and
// state when the request had one.
func redirectTo(req authRequest, params url.Values) *url.URL {
	u, err := url.Parse(req.redirectURI)
	if err != nil {
		// The redirect URI matched the operator's allow list; a broken
		// entry there still must not crash the emulator.
		u = &url.URL{Path: req.redirectURI}
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if req.state != "" {
		q.Set("state", req.state)
	}
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u
}

// errorRedirect is the redirect Google sends for an invalid request whose
// redirect URI is trusted.
func errorRedirect(req authRequest, code, desc string) *url.URL {
	return redirectTo(req, url.Values{"error": {code}, "error_description": {desc}})
}

// approvedRedirect is the redirect after the user allowed access to scopes.
func approvedRedirect(req authRequest, code string, scopes []string) *url.URL {
	return redirectTo(req, url.Values{"code": {code}, "scope": {strings.Join(scopes, " ")}})
}

// deniedRedirect is the redirect after the user refused access; like Google
// it carries only error and state.
func deniedRedirect(req authRequest) *url.URL {
	return redirectTo(req, url.Values{"error": {"access_denied"}})
}

// approve issues a code for account, granting the requested sign-in scopes
// and those of the other requested scopes that are in ticked, and returns
// the redirect carrying it. With include_granted_scopes=true, the code also
// grants every scope the account granted the client before, as Google's
// incremental authorization does.
func (s *Server) approve(req authRequest, account int, ticked []string) *url.URL {
	var consented []string
	for _, sc := range req.scopes {
		if isSignInScope(sc) || slices.Contains(ticked, sc) {
			consented = append(consented, sc)
		}
	}
	consented = unionScopes(nil, consented)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.store.sweep(now)
	rec := s.store.consent(req.clientID, account)
	scopes := consented
	if req.includeGranted {
		scopes = unionScopes(rec.scopes, consented)
	}
	rec.scopes = unionScopes(rec.scopes, consented)
	code := s.store.issueCode(req, account, scopes, now.Add(s.opts.CodeLifetime))
	s.stats.Consents++
	return approvedRedirect(req, code, scopes)
}

// parseAuthURL validates a full authorization URL for Approve and Deny.
func (s *Server) parseAuthURL(authURL string) (authRequest, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return authRequest{}, fmt.Errorf("fakegoogle: parse authorization URL: %w", err)
	}
	if u.Path != AuthPath && u.Path != "/o/oauth2/v2/auth" {
		return authRequest{}, fmt.Errorf("fakegoogle: %q is not an authorization URL (path %s expected)", authURL, AuthPath)
	}
	s.countAuthorization()
	req, aerr := s.parseAuthRequest(u.Query())
	if aerr != nil {
		return authRequest{}, aerr
	}
	return req, nil
}

func (s *Server) countAuthorization() {
	s.mu.Lock()
	s.stats.AuthorizationRequests++
	s.mu.Unlock()
}

// defaultAccount is the account preselected on the consent page: the one
// named by login_hint, else the first.
func (s *Server) defaultAccount(req authRequest) int {
	if i := findAccount(s.opts.Accounts, req.loginHint); i >= 0 && req.loginHint != "" {
		return i
	}
	return 0
}

// ErrUnknownAccount is returned by Approve for an email that is not one of
// the Server's accounts.
var ErrUnknownAccount = errors.New("fakegoogle: unknown account")

// Approve plays a user who opens authURL (the full authorization URL the
// application redirected to) and clicks Allow as the account with this email
// (empty: the login_hint account, else the first). It runs the same
// validation as the authorization endpoint and returns the redirect to the
// application's callback with code, state and scope. An invalid request
// returns a *AuthError (whose Redirect, when not nil, is where Google would
// send the browser); an unknown email returns ErrUnknownAccount.
func (s *Server) Approve(authURL string, email string) (callback *url.URL, err error) {
	return s.approveScopes(authURL, email, nil, true)
}

// ApproveScopes is Approve for a user who, on a consent screen asking for
// several scopes, leaves ticked only those in granted: the code, and the
// tokens it is exchanged for, grant only the requested scopes that are in
// granted, and the token response's "scope" says so. The requested sign-in
// scopes (openid, email, profile) are granted whatever granted says, as
// they have no box; with include_granted_scopes=true, so are the scopes the
// account granted the client before.
func (s *Server) ApproveScopes(authURL, email string, granted []string) (*url.URL, error) {
	return s.approveScopes(authURL, email, granted, false)
}

func (s *Server) approveScopes(authURL, email string, granted []string, all bool) (*url.URL, error) {
	req, err := s.parseAuthURL(authURL)
	if err != nil {
		return nil, err
	}
	account := s.defaultAccount(req)
	if email != "" {
		account = findAccount(s.opts.Accounts, email)
		if account < 0 {
			return nil, fmt.Errorf("%w: %s", ErrUnknownAccount, email)
		}
	}
	if all {
		granted = req.scopes
	}
	return s.approve(req, account, granted), nil
}

// Deny plays a user who opens authURL and clicks Deny. It returns the redirect
// to the application's callback with error=access_denied and state. An
// invalid request returns a *AuthError as for Approve.
func (s *Server) Deny(authURL string) (*url.URL, error) {
	req, err := s.parseAuthURL(authURL)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.stats.Denials++
	s.mu.Unlock()
	return deniedRedirect(req), nil
}
