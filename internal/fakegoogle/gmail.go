package fakegoogle

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// listLabelsResponse is the body of users.labels.list.
type listLabelsResponse struct {
	Labels []Label `json:"labels"`
}

// handleLabels serves users.labels.list for "me" or the token's own address.
// It records the "fields" parameter (see Stats.LabelsFields) but answers
// every field: the app must cope with more than it asked for.
func (s *Server) handleLabels(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.GmailRequests++
	s.mu.Unlock()
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	if s.injectFault(w, r, faultGmail) {
		return
	}
	if !s.takeTime(r) {
		return
	}
	account, ok := s.authorizeAPI(w, r, labelScopes)
	if !ok {
		return
	}
	if user := r.PathValue("userId"); user != "me" && !strings.EqualFold(user, account.Email) {
		writeAPIError(w, http.StatusForbidden, "forbidden", "Delegation denied for "+user)
		return
	}
	s.mu.Lock()
	s.countLabelsFields(r.URL.Query().Get("fields"))
	s.mu.Unlock()
	labels := account.Labels
	if labels == nil {
		labels = []Label{}
	}
	w.Header().Set("Cache-Control", "private")
	writeJSON(w, http.StatusOK, listLabelsResponse{Labels: labels})
}

// maxDistinctFields bounds how many distinct "fields" values Stats counts,
// so that a client sending endless new values cannot grow the Server.
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

// An APIHandler serves one method of a Google API for account, the owner of
// the request's access token.
type APIHandler func(w http.ResponseWriter, r *http.Request, account Account)

// HandleAPI serves pattern (a net/http ServeMux pattern with a path, such
// as "GET /drive/v3/files") as a method of a Google API that any one of
// scopes allows. Before h runs, the request is authorized as Google does:
// a missing, unknown, expired or revoked token gets 401, a token without
// one of scopes 403 insufficientPermissions, in Google's error format. It
// lets a test, or the demo, emulate any Google API the app calls. Called
// again with the same pattern, it replaces the handler and its scopes, so
// that a test can answer differently from the emulator's own handler.
func (s *Server) HandleAPI(pattern string, scopes []string, h APIHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if route, ok := s.apiRoutes[pattern]; ok {
		route.scopes, route.handle = slices.Clone(scopes), h
		return
	}
	route := &api{pattern: pattern, scopes: slices.Clone(scopes), handle: h}
	s.apiRoutes[pattern] = route
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		scopes, handle := route.scopes, route.handle
		s.mu.Unlock()
		if !s.takeTime(r) {
			return
		}
		if account, ok := s.authorizeAPI(w, r, scopes); ok {
			handle(w, r, account)
		}
	})
}

// takeTime waits Options.APILatency, and reports false when the client
// gave up or the Server was closed meanwhile.
func (s *Server) takeTime(r *http.Request) bool {
	if s.opts.APILatency <= 0 {
		return true
	}
	t := time.NewTimer(s.opts.APILatency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.closed:
	}
	return false
}

// authorizeAPI checks the bearer token of an API request and its scopes,
// and returns the account it acts for, or false after answering.
func (s *Server) authorizeAPI(w http.ResponseWriter, r *http.Request, allowed []string) (Account, bool) {
	token, ok := bearerToken(r)
	if !ok {
		writeAPIError(w, http.StatusUnauthorized, "authError", "")
		return Account{}, false
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
		return Account{}, false
	}
	if !hasAnyScope(scopes, allowed) {
		writeAPIError(w, http.StatusForbidden, "insufficientPermissions", "")
		return Account{}, false
	}
	return s.opts.Accounts[account], true
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
