package fakegoogle

import (
	"net/http"
)

// handleRevoke serves the revocation endpoint. The token comes in the form
// body or, as Google also allows, in the query. Like Google, revoking either
// an access token or a refresh token removes the client's access to the
// account: every refresh and access token the account's consents to the
// client produced stop working, and the next consent is a first one (with a
// refresh token, and without the scopes granted before).
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "The revocation endpoint accepts POST (or GET).")
		return
	}
	s.mu.Lock()
	s.stats.RevokeRequests++
	s.mu.Unlock()
	if s.injectFault(w, r, faultRevoke) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request body could not be parsed.")
		return
	}
	token := r.Form.Get("token")
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: token")
		return
	}
	if !s.revoke(token) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_token", "Token expired or revoked")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct{}{})
}

// revoke revokes the grant of an access or refresh token and reports whether
// the token was live.
func (s *Server) revoke(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var g *grant
	if at, ok := s.store.access[token]; ok {
		if s.accessExpired(at) {
			return false
		}
		g = at.grant
	} else if rg, ok := s.store.refresh[token]; ok {
		g = rg
	}
	if g == nil || g.revoked {
		return false
	}
	s.store.revokeAccess(g)
	s.stats.Revocations++
	return true
}

// accessExpired reports whether an access token is past its lifetime or was
// expired by ExpireAccessTokens. Call with s.mu held.
func (s *Server) accessExpired(at *accessToken) bool {
	return at.forcedExpired || !s.now().Before(at.expires)
}
