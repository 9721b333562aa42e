// Package fakegoogletest runs the Google emulator on a loopback server for
// the length of a test. It is kept apart from fakegoogle so that the local
// runner, which embeds the emulator for its demo, links neither testing nor
// httptest.
package fakegoogletest

import (
	"net/http/httptest"
	"testing"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

// NewServer starts a fakegoogle.Server with opts on a loopback httptest
// server and closes both when the test ends (the emulator first, so that
// requests held by a Hang fault are released). Options.RedirectURIs usually
// name the application's callback, which is often on another httptest server.
func NewServer(tb testing.TB, opts fakegoogle.Options) (*fakegoogle.Server, *httptest.Server) {
	tb.Helper()
	s := fakegoogle.New(opts)
	ts := httptest.NewServer(s)
	tb.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return s, ts
}
