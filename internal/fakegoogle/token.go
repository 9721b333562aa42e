package fakegoogle

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// tokenResponse is a successful answer of the token endpoint.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
	IDToken      string `json:"id_token,omitempty"`
}

// tokenError is a failed token request: an HTTP status and an OAuth error.
type tokenError struct {
	status      int
	code        string
	description string
	basicAuth   bool // the client authenticated with HTTP Basic
}

func invalidGrant(description string) *tokenError {
	return &tokenError{status: http.StatusBadRequest, code: "invalid_grant", description: description}
}

func invalidRequest(description string) *tokenError {
	return &tokenError{status: http.StatusBadRequest, code: "invalid_request", description: description}
}

// maxFormBytes bounds the body of form posts.
const maxFormBytes = 64 << 10

// handleToken serves the token endpoint: the authorization_code and
// refresh_token grants, with client_secret_basic or client_secret_post
// client authentication.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "The token endpoint only accepts POST.")
		return
	}
	s.mu.Lock()
	s.stats.TokenRequests++
	s.mu.Unlock()
	if s.injectFault(w, r, faultToken) {
		return
	}
	resp, terr := s.token(w, r)
	if terr != nil {
		if terr.basicAuth && terr.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="https://accounts.google.com/"`)
		}
		writeOAuthError(w, terr.status, terr.code, terr.description)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// token authenticates the client and runs the requested grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request) (*tokenResponse, *tokenError) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("Content-Type must be application/x-www-form-urlencoded.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, invalidRequest("The request body could not be parsed.")
	}
	form := r.PostForm
	clientID, terr := s.authenticateClient(r, form)
	if terr != nil {
		return nil, terr
	}
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		return s.exchangeCode(clientID, form)
	case "refresh_token":
		return s.refreshGrant(clientID, form)
	case "":
		return nil, invalidRequest("Missing required parameter: grant_type")
	default:
		return nil, &tokenError{status: http.StatusBadRequest, code: "unsupported_grant_type", description: "Invalid grant_type: " + gt}
	}
}

// authenticateClient checks the client credentials, sent either with HTTP
// Basic (each part form-urlencoded, RFC 6749 section 2.3.1) or in the body.
func (s *Server) authenticateClient(r *http.Request, form url.Values) (string, *tokenError) {
	var id, secret string
	user, pass, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(user)
		secret, err2 = url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			return "", &tokenError{status: http.StatusUnauthorized, code: "invalid_client", description: "Unauthorized", basicAuth: true}
		}
		if form.Has("client_secret") {
			return "", invalidRequest("Use only one client authentication method.")
		}
		if bodyID := form.Get("client_id"); bodyID != "" && bodyID != id {
			return "", &tokenError{status: http.StatusUnauthorized, code: "invalid_client", description: "Unauthorized", basicAuth: true}
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	switch {
	case id == "":
		return "", invalidRequest("Could not determine client ID from request.")
	case id != s.opts.ClientID:
		return "", &tokenError{status: http.StatusUnauthorized, code: "invalid_client", description: "The OAuth client was not found.", basicAuth: basic}
	case subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1:
		return "", &tokenError{status: http.StatusUnauthorized, code: "invalid_client", description: "Unauthorized", basicAuth: basic}
	}
	return id, nil
}

// exchangeCode runs the authorization_code grant. A code is single-use: using
// it again fails and, like Google, revokes the tokens issued from it.
func (s *Server) exchangeCode(clientID string, form url.Values) (*tokenResponse, *tokenError) {
	code := form.Get("code")
	if code == "" {
		return nil, invalidRequest("Missing required parameter: code")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.store.sweep(now)
	ac, ok := s.store.codes[code]
	switch {
	case !ok:
		return nil, invalidGrant("Malformed auth code.")
	case ac.used:
		if ac.grant != nil {
			ac.grant.revoked = true
		}
		return nil, invalidGrant("Authorization code has already been used; the tokens issued from it are revoked.")
	case !now.Before(ac.expires):
		return nil, invalidGrant("Authorization code has expired.")
	case ac.req.clientID != clientID:
		return nil, invalidGrant("Authorization code was issued to another client.")
	case form.Get("redirect_uri") != ac.req.redirectURI:
		return nil, invalidGrant("redirect_uri does not match the one of the authorization request.")
	}
	verifier := form.Get("code_verifier")
	if verifier == "" {
		return nil, invalidGrant("Missing code verifier.")
	}
	if !validChallenge(verifier) || !pkceMatches(verifier, ac.req.challenge) {
		return nil, invalidGrant("Invalid code verifier.")
	}
	ac.used = true
	// Google sends a refresh token at the account's first consent to the
	// client, or with prompt=consent; a later grant has none, and the
	// refresh token issued before covers its scopes too.
	rec := s.store.consent(clientID, ac.account)
	hasRefresh := rec.refresh != nil && !rec.refresh.revoked
	offline := ac.req.offline && (!hasRefresh || ac.req.forceConsent())
	g := s.store.newGrant(clientID, ac.account, ac.scopes, offline)
	rec.grants = append(rec.grants, g)
	switch {
	case offline:
		rec.refresh = g
	case hasRefresh && ac.req.includeGranted:
		rec.refresh.scopes = unionScopes(rec.refresh.scopes, g.scopes)
	}
	ac.grant = g
	access := s.store.issueAccess(g, now.Add(s.opts.AccessTokenLifetime))
	s.stats.CodeExchanges++
	return &tokenResponse{
		AccessToken:  access,
		ExpiresIn:    int(s.opts.AccessTokenLifetime.Seconds()),
		RefreshToken: g.refreshToken,
		Scope:        strings.Join(g.scopes, " "),
		TokenType:    "Bearer",
		IDToken:      s.idToken(g, access, now),
	}, nil
}

// pkceMatches reports whether BASE64URL-NOPAD(SHA256(verifier)) equals the
// challenge, in constant time.
func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	computed := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(computed), []byte(challenge)) == 1
}

// refreshGrant runs the refresh_token grant. Like Google, the answer does not
// repeat the refresh token, and has the scopes of the grant: those of the
// consent that issued the refresh token, plus those of the later consents
// with include_granted_scopes=true.
func (s *Server) refreshGrant(clientID string, form url.Values) (*tokenResponse, *tokenError) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, invalidRequest("Missing required parameter: refresh_token")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.store.refresh[rt]
	if !ok || g.revoked || g.clientID != clientID {
		return nil, invalidGrant("Token has been expired or revoked.")
	}
	now := s.now()
	access := s.store.issueAccess(g, now.Add(s.opts.AccessTokenLifetime))
	s.stats.Refreshes++
	return &tokenResponse{
		AccessToken: access,
		ExpiresIn:   int(s.opts.AccessTokenLifetime.Seconds()),
		Scope:       strings.Join(g.scopes, " "),
		TokenType:   "Bearer",
		IDToken:     s.idToken(g, access, now),
	}, nil
}
