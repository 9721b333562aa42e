package fakegoogletest

import (
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

// NewTLSServer is NewServer over https, for an app configured as deployed,
// where every Google endpoint must be https. It also returns the path of a
// file holding the server's certificate in PEM: a Go program started with
// SSL_CERT_FILE set to it trusts the server (and nothing else).
func NewTLSServer(tb testing.TB, opts fakegoogle.Options) (*fakegoogle.Server, *httptest.Server, string) {
	tb.Helper()
	s := fakegoogle.New(opts)
	ts := httptest.NewTLSServer(s)
	tb.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	certFile := filepath.Join(tb.TempDir(), "fakegoogle.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	if err := os.WriteFile(certFile, cert, 0o600); err != nil {
		tb.Fatal(err)
	}
	return s, ts, certFile
}
