package fakegoogle

import "maps"

// Stats counts what the Server has seen since it was created.
type Stats struct {
	// AuthorizationRequests counts requests to the authorization endpoint
	// plus Approve and Deny calls, valid or not.
	AuthorizationRequests int
	// Consents counts authorization codes issued (Allow).
	Consents int
	// Denials counts refusals (Deny).
	Denials int
	// TokenRequests counts every POST to the token endpoint, whatever its
	// outcome, including injected faults.
	TokenRequests int
	// CodeExchanges counts authorization codes exchanged for tokens.
	CodeExchanges int
	// Refreshes counts access tokens issued by the refresh_token grant.
	Refreshes int
	// RevokeRequests counts every request to the revocation endpoint.
	RevokeRequests int
	// Revocations counts grants revoked through the revocation endpoint.
	Revocations int
	// GmailRequests counts every request to a Gmail method (users.labels
	// list and create), whatever its outcome, including injected faults.
	GmailRequests int
	// LabelsFields counts the users.labels.list requests that got past
	// authentication by their "fields" parameter ("" when absent). Only
	// the first 64 distinct values are counted.
	LabelsFields map[string]int
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	snapshot := s.stats
	snapshot.LabelsFields = maps.Clone(s.stats.LabelsFields)
	return snapshot
}

// Secrets returns the client secret and every authorization code, access
// token and refresh token the Server has issued, so that tests can check that
// none of them shows up in logs, pages or cookies.
func (s *Server) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.store.secrets...)
}

// ExpireAccessTokens makes every access token issued so far expired on the
// server side, as if its lifetime had passed. Clients still believe their
// tokens valid until their own expiry, so the next API call gets a 401.
// Tokens issued later are not affected.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, at := range s.store.access {
		at.forcedExpired = true
	}
}

// IsRevoked reports whether token (an access token, a refresh token or an
// exchanged authorization code) belongs to a revoked grant. Unknown tokens
// are not revoked.
func (s *Server) IsRevoked(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.store.grantOf(token)
	return g != nil && g.revoked
}
