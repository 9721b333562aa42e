package upstream_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"example.com/gcf-oauth-gmail/internal/upstream"
)

func TestLimitBodiesFailsPastTheLimit(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		chunked   bool
		limit     int64
		wantError error
	}{
		{"under the limit", "hello", false, 10, nil},
		{"exactly the limit", "0123456789", true, 10, nil},
		{"declared length over the limit", strings.Repeat("x", 11), false, 10, upstream.ErrBodyTooLarge},
		{"streamed body over the limit", strings.Repeat("x", 11), true, 10, upstream.ErrBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.chunked {
					w.(http.Flusher).Flush() // no Content-Length: the body is streamed
				}
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			client := &http.Client{Transport: upstream.LimitBodies(upstream.NewTransport(), tt.limit)}
			resp, err := client.Get(srv.URL)
			var got []byte
			if err == nil {
				got, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if !errors.Is(err, tt.wantError) {
				t.Fatalf("error = %v, want %v", err, tt.wantError)
			}
			if tt.wantError == nil && string(got) != tt.body {
				t.Fatalf("body = %q, want %q", got, tt.body)
			}
		})
	}
}

func TestRerouteSendsGooglesHostsToTheEmulator(t *testing.T) {
	emu, _ := url.Parse("http://127.0.0.1:9999")
	prefixed, _ := url.Parse("http://127.0.0.1:9999/prefix/")
	tests := []struct {
		name    string
		reroute upstream.Reroute
		target  string
		want    string
	}{
		{"a named host", upstream.Reroute{Hosts: map[string]*url.URL{"gmail.googleapis.com": emu}},
			"https://gmail.googleapis.com/gmail/v1/users/me/labels?fields=labels", "http://127.0.0.1:9999/gmail/v1/users/me/labels?fields=labels"},
		{"a named host under a path", upstream.Reroute{Hosts: map[string]*url.URL{"gmail.googleapis.com": prefixed}},
			"https://gmail.googleapis.com/gmail/v1/users/me/labels", "http://127.0.0.1:9999/prefix/gmail/v1/users/me/labels"},
		{"escaped path kept", upstream.Reroute{Default: prefixed},
			"https://www.googleapis.com/drive/v3/files/a%2Fb", "http://127.0.0.1:9999/prefix/drive/v3/files/a%2Fb"},
		{"any googleapis.com host by default", upstream.Reroute{Default: emu},
			"https://oauth2.googleapis.com/token", "http://127.0.0.1:9999/token"},
		{"a named host wins over the default", upstream.Reroute{Hosts: map[string]*url.URL{"gmail.googleapis.com": prefixed}, Default: emu},
			"https://gmail.googleapis.com/x", "http://127.0.0.1:9999/prefix/x"},
		{"other hosts untouched", upstream.Reroute{Default: emu},
			"https://accounts.google.com/o/oauth2/auth", "https://accounts.google.com/o/oauth2/auth"},
		{"a look-alike host untouched", upstream.Reroute{Default: emu},
			"https://googleapis.com.example/x", "https://googleapis.com.example/x"},
		{"no default: unnamed hosts untouched", upstream.Reroute{Hosts: map[string]*url.URL{"gmail.googleapis.com": emu}},
			"https://www.googleapis.com/drive/v3/files", "https://www.googleapis.com/drive/v3/files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent *http.Request
			tt.reroute.Base = roundTripFunc(func(r *http.Request) (*http.Response, error) {
				sent = r
				return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: r}, nil
			})
			req, _ := http.NewRequest(http.MethodGet, tt.target, nil)
			if _, err := tt.reroute.RoundTrip(req); err != nil {
				t.Fatal(err)
			}
			if got := sent.URL.String(); got != tt.want {
				t.Errorf("sent to %s, want %s", got, tt.want)
			}
			if sent.Host != "" && sent.Host != sent.URL.Host {
				t.Errorf("Host header %q does not match the URL's host %q", sent.Host, sent.URL.Host)
			}
			if req.URL.String() != tt.target {
				t.Errorf("the caller's request was modified: %s", req.URL)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWrappersCloseIdleConnectionsOfTheSharedTransport(t *testing.T) {
	base := &idleCounter{RoundTripper: upstream.NewTransport()}
	for _, rt := range []http.RoundTripper{upstream.LimitBodies(base, 10), &upstream.Reroute{Base: upstream.LimitBodies(base, 10)}} {
		(&http.Client{Transport: rt}).CloseIdleConnections()
	}
	if base.closed != 2 {
		t.Fatalf("CloseIdleConnections reached the base transport %d times, want 2", base.closed)
	}
}

type idleCounter struct {
	http.RoundTripper
	closed int
}

func (c *idleCounter) CloseIdleConnections() { c.closed++ }
