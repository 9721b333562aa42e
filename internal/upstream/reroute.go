package upstream

import (
	"net/http"
	"net/url"
	"strings"
)

// Reroute sends requests meant for Google to another server, such as an
// emulator, keeping their path and query. A request whose host is a key of
// Hosts goes to that base URL; any other request for a googleapis.com host
// goes to Default when it is set. Everything else passes through unchanged.
type Reroute struct {
	Base    http.RoundTripper
	Hosts   map[string]*url.URL
	Default *url.URL
}

// RoundTrip implements http.RoundTripper.
func (t *Reroute) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	target, ok := t.Hosts[host]
	if !ok && (host == "googleapis.com" || strings.HasSuffix(host, ".googleapis.com")) {
		target = t.Default
	}
	if target == nil {
		return t.Base.RoundTrip(req)
	}
	// A RoundTripper must not modify the caller's request.
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = target.Scheme, target.Host, ""
	if prefix := strings.TrimSuffix(target.Path, "/"); prefix != "" {
		out.URL.Path = prefix + req.URL.Path
		if req.URL.RawPath != "" {
			out.URL.RawPath = prefix + req.URL.RawPath
		}
	}
	return t.Base.RoundTrip(out)
}

// CloseIdleConnections closes the idle connections of the wrapped transport.
func (t *Reroute) CloseIdleConnections() { closeIdle(t.Base) }
