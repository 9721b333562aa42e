package upstream_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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

func TestBearerTransportUsesTheTokenOfEachRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	client := &http.Client{Transport: &upstream.BearerTransport{Base: upstream.NewTransport()}}
	for _, token := range []string{"token-a", "token-b"} {
		req, _ := http.NewRequestWithContext(upstream.WithAccessToken(context.Background(), token), http.MethodGet, srv.URL, nil)
		req.Header.Set("X-Original", "kept")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != "Bearer "+token {
			t.Errorf("Authorization = %q, want Bearer %s", got, token)
		}
		if req.Header.Get("Authorization") != "" {
			t.Error("the caller's request was modified")
		}
	}
}

func TestBearerTransportRefusesRequestsWithoutToken(t *testing.T) {
	called := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true }))
	defer srv.Close()
	client := &http.Client{Transport: &upstream.BearerTransport{Base: upstream.NewTransport()}}
	_, err := client.Get(srv.URL)
	if !errors.Is(err, upstream.ErrNoToken) || called {
		t.Fatalf("err = %v, called = %v; want ErrNoToken and no request", err, called)
	}
}

func TestWrappersCloseIdleConnectionsOfTheSharedTransport(t *testing.T) {
	base := &idleCounter{RoundTripper: upstream.NewTransport()}
	for _, rt := range []http.RoundTripper{upstream.LimitBodies(base, 10), &upstream.BearerTransport{Base: upstream.LimitBodies(base, 10)}} {
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
