package fakegoogle

import (
	"net/http"
	"strconv"
	"strings"
)

// listLabelsResponse is the body of users.labels.list.
type listLabelsResponse struct {
	Labels []Label `json:"labels"`
}

// profileResponse is the body of users.getProfile.
type profileResponse struct {
	EmailAddress  string `json:"emailAddress"`
	MessagesTotal int    `json:"messagesTotal"`
	ThreadsTotal  int    `json:"threadsTotal"`
	HistoryID     string `json:"historyId"`
}

// handleLabels serves users.labels.list for "me" or the token's own address.
func (s *Server) handleLabels(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.GmailRequests++
	s.mu.Unlock()
	account, ok := s.gmailAccount(w, r, labelScopes)
	if !ok {
		return
	}
	fields := r.URL.Query().Get("fields")
	key := labelsKey{account, fields}
	s.mu.Lock()
	s.countLabelsFields(fields)
	body, cached := s.labelBodies[key]
	s.mu.Unlock()
	if !cached {
		labels := s.opts.Accounts[account].Labels
		if labels == nil {
			labels = []Label{}
		}
		if body, ok = encodeSelected(w, fields, listLabelsResponse{Labels: labels}); !ok {
			return
		}
		s.mu.Lock()
		if len(s.labelBodies) < maxDistinctFields {
			s.labelBodies[key] = body
		}
		s.mu.Unlock()
	}
	w.Header().Set("Cache-Control", "private")
	writeJSONBytes(w, http.StatusOK, body)
}

// maxDistinctFields bounds what the Server keeps per distinct "fields"
// value (cached bodies, counts), so that a client sending endless new
// values cannot grow its memory.
const maxDistinctFields = 64

// countLabelsFields counts a labels.list request by its fields value, for
// Stats. s.mu must be held.
func (s *Server) countLabelsFields(fields string) {
	if s.stats.LabelsFields == nil {
		s.stats.LabelsFields = map[string]int{}
	}
	if _, seen := s.stats.LabelsFields[fields]; seen || len(s.stats.LabelsFields) < maxDistinctFields {
		s.stats.LabelsFields[fields]++
	}
}

// labelsKey identifies one encoding of an account's labels. Accounts never
// change after New, so each is encoded once, as Gmail's own cost is not
// what the app's benchmarks are about.
type labelsKey struct {
	account int
	fields  string
}

// handleProfile serves users.getProfile for "me" or the token's own address.
func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.ProfileRequests++
	s.mu.Unlock()
	account, ok := s.gmailAccount(w, r, profileScopes)
	if !ok {
		return
	}
	a := s.opts.Accounts[account]
	body, ok := encodeSelected(w, r.URL.Query().Get("fields"), profileResponse{
		EmailAddress:  a.Email,
		MessagesTotal: a.MessagesTotal,
		ThreadsTotal:  a.ThreadsTotal,
		HistoryID:     strconv.Itoa(104729 + 7919*account + a.MessagesTotal),
	})
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "private")
	writeJSONBytes(w, http.StatusOK, body)
}

// gmailAccount runs what every Gmail method does before its own work: the
// method check, injected faults, the bearer token, its scopes and the userId
// of the path. It returns the account to serve, or false after answering.
func (s *Server) gmailAccount(w http.ResponseWriter, r *http.Request, allowed []string) (int, bool) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return 0, false
	}
	if s.injectFault(w, r, faultGmail) {
		return 0, false
	}
	token, ok := bearerToken(r)
	if !ok {
		writeAPIError(w, http.StatusUnauthorized, "authError", "")
		return 0, false
	}
	s.mu.Lock()
	at, found := s.store.access[token]
	live := found && !s.accessExpired(at) && !at.grant.revoked
	var account int
	var scopes []string
	if live {
		account, scopes = at.grant.account, at.grant.scopes
	}
	s.mu.Unlock()
	if !live {
		writeAPIError(w, http.StatusUnauthorized, "authError", "")
		return 0, false
	}
	if !hasAnyScope(scopes, allowed) {
		writeAPIError(w, http.StatusForbidden, "insufficientPermissions", "")
		return 0, false
	}
	if user := r.PathValue("userId"); user != "me" && !strings.EqualFold(user, s.opts.Accounts[account].Email) {
		writeAPIError(w, http.StatusForbidden, "forbidden", "Delegation denied for "+user)
		return 0, false
	}
	return account, true
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
