package fakegoogle

import (
	"net/http"
	"strings"
	"time"
)

// listLabelsResponse is the body of users.labels.list.
type listLabelsResponse struct {
	Labels []Label `json:"labels"`
}

// labelsPattern is the path of Gmail's users.labels collection.
const labelsPattern = "/gmail/v1/users/{userId}/labels"

func init() {
	apis = append(apis, api{pattern: "GET " + labelsPattern, scopes: labelScopes, serve: listLabels, gmail: true})
}

// listLabels serves users.labels.list for "me" or the token's own address.
// It records the "fields" parameter (see Stats.LabelsFields) but answers
// every field: the app must cope with more than it asked for.
func listLabels(c *call) reply {
	if rp, ok := gmailUser(c); !ok {
		return rp
	}
	c.srv.countLabelsFields(c.r.URL.Query().Get("fields"))
	labels := c.account.Labels
	if labels == nil {
		labels = []Label{}
	}
	return c.json(http.StatusOK, listLabelsResponse{Labels: labels})
}

// gmailUser checks the userId of a Gmail request: "me" or the token's own
// address, as Gmail allows without delegation.
func gmailUser(c *call) (reply, bool) {
	if user := c.r.PathValue("userId"); user != "me" && !strings.EqualFold(user, c.account.Email) {
		return c.error(http.StatusForbidden, "forbidden", "Delegation denied for "+user), false
	}
	return reply{}, true
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
// and returns the index of the account it acts for, or false after
// answering.
func (s *Server) authorizeAPI(w http.ResponseWriter, r *http.Request, allowed []string) (int, bool) {
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
		account, scopes = at.grant.account, at.scopes
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
