package fakegoogle

import (
	"net/http/httptest"
	"testing"
)

// NewTestServer starts a Server with opts on a loopback httptest server and
// closes both when the test ends (the Server first, so that requests held by
// a Hang fault are released). Options.RedirectURIs usually name the
// application's callback, which is often on another httptest server.
func NewTestServer(tb testing.TB, opts Options) (*Server, *httptest.Server) {
	tb.Helper()
	s := New(opts)
	ts := httptest.NewServer(s)
	tb.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return s, ts
}
