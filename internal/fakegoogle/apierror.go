package fakegoogle

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Messages of Google's authentication errors, as Gmail sends them.
const (
	authErrorMessage         = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
	insufficientScopeMessage = "Request had insufficient authentication scopes."
	bearerRealm              = `Bearer realm="https://accounts.google.com/"` // #nosec G101 -- a header value, not a credential
)

// apiErrorItem is one entry of the "errors" array of a Google API error.
type apiErrorItem struct {
	Message      string `json:"message"`
	Domain       string `json:"domain"`
	Reason       string `json:"reason"`
	Location     string `json:"location,omitempty"`
	LocationType string `json:"locationType,omitempty"`
}

// apiError is the "error" object of a Google API error body.
type apiError struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Errors  []apiErrorItem `json:"errors"`
	Status  string         `json:"status"`
}

// reasonInfo is how Google words an error reason.
type reasonInfo struct {
	domain  string
	message string // of the errors[] item
	summary string // top-level message; empty means the same as message
	status  string // google.rpc.Code name; empty means rpcStatus's for the HTTP status
}

var reasons = map[string]reasonInfo{
	"authError":               {"global", "Invalid Credentials", authErrorMessage, ""},
	"insufficientPermissions": {"global", "Insufficient Permission", insufficientScopeMessage, ""},
	"userRateLimitExceeded":   {"usageLimits", "User-rate limit exceeded.", "", ""},
	"rateLimitExceeded":       {"usageLimits", "Rate Limit Exceeded", "", ""},
	"dailyLimitExceeded":      {"usageLimits", "Daily Limit Exceeded", "", ""},
	"quotaExceeded":           {"usageLimits", "Quota exceeded", "", ""},
	"backendError":            {"global", "Backend Error", "", ""},
	"internalError":           {"global", "Internal error encountered.", "", ""},
	"forbidden":               {"global", "The caller does not have permission", "", ""},
	"notFound":                {"global", "Not Found", "", ""},
	"badRequest":              {"global", "Bad Request", "", ""},
	"failedPrecondition":      {"global", "Precondition check failed.", "", ""},
	"invalidParameter":        {"global", "Invalid parameter", "", ""},
	"invalidArgument":         {"global", "Invalid argument", "", ""},
	"duplicate":               {"global", "Duplicate", "", "ALREADY_EXISTS"},
}

// rpcStatus is the google.rpc.Code name Google sends with an HTTP status.
func rpcStatus(code int) string {
	switch code {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 405:
		return "UNIMPLEMENTED"
	case 409:
		return "ABORTED"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 500:
		return "INTERNAL"
	case 501:
		return "UNIMPLEMENTED"
	case 502, 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	return "UNKNOWN"
}

// defaultReason is the error reason Google typically sends with a status.
func defaultReason(code int) string {
	switch {
	case code == 400:
		return "badRequest"
	case code == 401:
		return "authError"
	case code == 403:
		return "forbidden"
	case code == 404:
		return "notFound"
	case code == 429:
		return "rateLimitExceeded"
	case code >= 500:
		return "backendError"
	}
	return "unknown"
}

// writeAPIError sends a Google API JSON error. An empty reason gets the usual
// one for the status; an empty message gets Google's wording of the reason.
// 401 and insufficient-scope 403 answers carry Google's WWW-Authenticate.
func writeAPIError(w http.ResponseWriter, code int, reason, message string) {
	if reason == "" {
		reason = defaultReason(code)
	}
	info, ok := reasons[reason]
	if !ok {
		info = reasonInfo{domain: "global", message: reason}
	}
	item := apiErrorItem{Message: info.message, Domain: info.domain, Reason: reason}
	summary := info.summary
	if summary == "" {
		summary = info.message
	}
	if message != "" {
		item.Message, summary = message, message
	}
	switch {
	case reason == "authError":
		item.Location, item.LocationType = "Authorization", "header"
		w.Header().Set("WWW-Authenticate", bearerRealm+`, error="invalid_token"`)
	case reason == "insufficientPermissions":
		w.Header().Set("WWW-Authenticate", bearerRealm+`, error="insufficient_scope", scope="`+GmailReadonlyScope+`"`)
	case code == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", bearerRealm+`, error="invalid_token"`)
	}
	status := info.status
	if status == "" {
		status = rpcStatus(code)
	}
	w.Header().Set("Cache-Control", "private")
	writeJSON(w, code, map[string]apiError{"error": {
		Code:    code,
		Message: summary,
		Errors:  []apiErrorItem{item},
		Status:  status,
	}})
}

// writeJSON sends v as JSON the way Google's APIs do.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "fakegoogle: cannot encode response", http.StatusInternalServerError)
		return
	}
	writeJSONBytes(w, status, b)
}

// writeJSONBytes sends b, already JSON, the way Google's APIs do.
func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b) // #nosec G705 -- JSON served as application/json with nosniff, never HTML
}

// oauthError is the body of an OAuth 2.0 error (RFC 6749 section 5.2).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeOAuthError sends an OAuth 2.0 JSON error, as Google's token and
// revocation endpoints do.
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, oauthError{Error: code, Description: description})
}

// handleNotFound answers every path the emulator does not know.
func handleNotFound(w http.ResponseWriter, r *http.Request) {
	writeAPIError(w, http.StatusNotFound, "notFound", "The requested URL "+r.URL.Path+" was not found on this server.")
}

// methodNotAllowed answers an API route called with the wrong method.
func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeAPIError(w, http.StatusMethodNotAllowed, "badRequest", "Method not allowed; use "+allow+".")
}
