// Package upstream holds the one HTTP transport the process uses to reach
// Google, and the pieces layered on it: a cap on response sizes, and a
// reroute of Google's hosts to an emulator for the demo and the tests.
package upstream

import (
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// MaxBodyBytes caps any response body read from Google. A Gmail account has
// at most 10,000 labels, well under this.
const MaxBodyBytes = 4 << 20

// ErrBodyTooLarge is returned while reading a response body past its cap.
var ErrBodyTooLarge = errors.New("upstream: response body too large")

// NewTransport returns the process's shared transport. Its idle pool is
// sized for an instance's concurrency so that connections to Google are
// reused across requests and users instead of reopened: the default
// transport keeps only two idle connections per host.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// LimitBodies wraps base so that reading more than limit bytes of any
// response body fails with ErrBodyTooLarge.
func LimitBodies(base http.RoundTripper, limit int64) http.RoundTripper {
	return &limitedTransport{base: base, limit: limit}
}

type limitedTransport struct {
	base  http.RoundTripper
	limit int64
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.limit {
		_ = resp.Body.Close()
		return nil, ErrBodyTooLarge
	}
	resp.Body = limitedBody{http.MaxBytesReader(nil, resp.Body, t.limit)}
	return resp, nil
}

// CloseIdleConnections closes the idle connections of the wrapped transport.
func (t *limitedTransport) CloseIdleConnections() { closeIdle(t.base) }

// closeIdle closes rt's idle connections when it can.
func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// limitedBody reads through an http.MaxBytesReader (its ResponseWriter,
// nil here, matters only to servers) and reports its overflow as
// ErrBodyTooLarge.
type limitedBody struct {
	io.ReadCloser
}

func (b limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = ErrBodyTooLarge
	}
	return n, err
}
