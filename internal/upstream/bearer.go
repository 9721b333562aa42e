package upstream

import (
	"context"
	"errors"
	"net/http"
)

// ErrNoToken is returned by a BearerTransport for a request whose context
// carries no access token.
var ErrNoToken = errors.New("upstream: no access token in request context")

type accessTokenKey struct{}

// WithAccessToken returns a context whose outgoing requests through a
// BearerTransport are authorized with token.
func WithAccessToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, accessTokenKey{}, token)
}

// BearerTransport authorizes each request with the access token found in
// its context. Unlike oauth2.Transport, whose token source is fixed when the
// client is built, it lets one client (and one Gmail service) be shared by
// all users, each request carrying its own user's token.
type BearerTransport struct {
	Base http.RoundTripper
}

// CloseIdleConnections closes the idle connections of the wrapped transport.
func (t *BearerTransport) CloseIdleConnections() { closeIdle(t.Base) }

// RoundTrip implements http.RoundTripper.
func (t *BearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	token, _ := req.Context().Value(accessTokenKey{}).(string)
	if token == "" {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, ErrNoToken
	}
	// A RoundTripper must not modify the caller's request: copy it and its
	// header map before adding Authorization.
	out := new(http.Request)
	*out = *req
	out.Header = req.Header.Clone()
	out.Header.Set("Authorization", "Bearer "+token)
	return t.Base.RoundTrip(out)
}
