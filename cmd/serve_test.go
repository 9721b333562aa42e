package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"example.com/gcf-oauth-gmail/internal/logging"
	"example.com/gcf-oauth-gmail/internal/pages"
)

// named is a function that answers with a log line naming it, logged with
// the request's context.
func named(name string) function {
	return function{name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logging.New(w, "").InfoContext(r.Context(), name)
	})}
}

func TestRoutesServeEachFunctionAtItsNameOrTheTargetAloneAtRoot(t *testing.T) {
	functions := []function{named("alpha"), named("beta")}
	tests := []struct {
		target, path string
		want         string // the function that answers, or "" for 404
	}{
		{"", "/alpha", "alpha"},
		{"", "/beta", "beta"},
		{"", "/alpha/x", ""},
		{"", "/gamma", ""},
		{"beta", "/", "beta"},
		{"beta", "/alpha", "beta"},
		{"beta", "/any/path", "beta"},
	}
	for _, tt := range tests {
		h, err := routes(functions, tt.target)
		if err != nil {
			t.Fatalf("target %q: %v", tt.target, err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if tt.want == "" {
			if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "<html") {
				t.Errorf("target %q, GET %s: status %d, body %.100q; want the 404 page", tt.target, tt.path, rec.Code, rec.Body)
			}
			continue
		}
		var line struct {
			Message     string `json:"message"`
			ExecutionID string `json:"execution_id"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &line); err != nil || line.Message != tt.want {
			t.Errorf("target %q, GET %s: answered %q, want %s", tt.target, tt.path, rec.Body, tt.want)
		}
		if line.ExecutionID == "" {
			t.Errorf("target %q, GET %s: no execution id in the function's line %q", tt.target, tt.path, rec.Body)
		}
	}
}

func TestRootLeadsToTheSignInAndUnknownPathsGetTheAppsNotFoundPage(t *testing.T) {
	h, err := routes([]function{named("oauth2init"), named("listlabels")}, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path string
		status             int
		location           string // for a redirect
		allow              string // for 405
	}{
		{"root", http.MethodGet, "/", http.StatusFound, "/oauth2init", ""},
		{"root with a query", http.MethodGet, "/?utm_source=x", http.StatusFound, "/oauth2init", ""},
		{"HEAD of root", http.MethodHead, "/", http.StatusFound, "/oauth2init", ""},
		{"POST to root", http.MethodPost, "/", http.StatusMethodNotAllowed, "", "GET, HEAD"},
		{"unknown path", http.MethodGet, "/favicon.ico", http.StatusNotFound, "", ""},
		{"function name with a trailing slash", http.MethodGet, "/listlabels/", http.StatusNotFound, "", ""},
		{"function name in another case", http.MethodGet, "/ListLabels", http.StatusNotFound, "", ""},
		{"nested unknown path", http.MethodPost, "/a/b/c?x=<script>", http.StatusNotFound, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("%s %s: status %d, want %d; body %.200q", tt.method, tt.path, rec.Code, tt.status, rec.Body)
			}
			hdr := rec.Header()
			for k, v := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
				if hdr.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, hdr.Get(k), v)
				}
			}
			if tt.location != "" {
				if got := hdr.Get("Location"); got != tt.location {
					t.Errorf("Location %q, want %q", got, tt.location)
				}
				return
			}
			if got := hdr.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			// The app's own page: its headers, a title, a language, one
			// heading and a link to start.
			if got := hdr.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q, want the app's HTML page", got)
			}
			if got := hdr.Get("Content-Security-Policy"); got != pages.ContentSecurityPolicy {
				t.Errorf("Content-Security-Policy %q, want the app's %q", got, pages.ContentSecurityPolicy)
			}
			body := rec.Body.String()
			for _, want := range []string{`<html lang="en">`, `href="/oauth2init"`} {
				if !strings.Contains(body, want) {
					t.Errorf("the page lacks %s:\n%s", want, body)
				}
			}
			if m := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(body); m == nil || strings.TrimSpace(m[1]) == "" {
				t.Errorf("the page has no title:\n%s", body)
			}
			if n := strings.Count(body, "<h1"); n != 1 {
				t.Errorf("the page has %d h1 headings, want 1", n)
			}
			if strings.Contains(body, "<script>") || strings.Contains(body, "404 page not found") {
				t.Errorf("the page repeats the path or is Go's plain one:\n%s", body)
			}
		})
	}
}

func TestRoutesRefuseAnUnknownTargetNamingTheFunctions(t *testing.T) {
	_, err := routes([]function{named("alpha"), named("beta")}, "gamma")
	if err == nil || !strings.Contains(err.Error(), `"gamma"`) || !strings.Contains(err.Error(), "alpha, beta") {
		t.Fatalf("err %v, want one naming gamma and listing alpha, beta", err)
	}
}

func TestBrowserURLIsLocalhostWheneverTheServerIsReachableThere(t *testing.T) {
	tests := []struct{ host, want string }{
		{"", "http://localhost:8080"},
		{"localhost", "http://localhost:8080"},
		{"127.0.0.1", "http://localhost:8080"},
		{"::1", "http://localhost:8080"},
		{"[::1]", "http://localhost:8080"},
		{"0.0.0.0", "http://localhost:8080"},
		{"::", "http://localhost:8080"},
		{"192.0.2.7", "http://192.0.2.7:8080"},
		{"2001:db8::7", "http://[2001:db8::7]:8080"},
		{"devbox.example", "http://devbox.example:8080"},
	}
	for _, tt := range tests {
		if got := browserURL(tt.host, "8080"); got != tt.want {
			t.Errorf("browserURL(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

func TestServerHasTheLimits(t *testing.T) {
	s := newServer(http.NotFoundHandler(), logging.New(io.Discard, ""))
	if s.ReadHeaderTimeout != 10*time.Second || s.MaxHeaderBytes != 64<<10 || s.IdleTimeout <= 0 || s.ReadTimeout <= 0 || s.ErrorLog == nil {
		t.Fatalf("server limits: header timeout %v, header bytes %d, idle %v, read %v, error log %v",
			s.ReadHeaderTimeout, s.MaxHeaderBytes, s.IdleTimeout, s.ReadTimeout, s.ErrorLog)
	}
	if s.WriteTimeout <= time.Minute {
		t.Errorf("write timeout %v, want more than the longest upstream deadline (1m)", s.WriteTimeout)
	}
}

func TestServeLetsARequestInFlightFinishWhenStopped(t *testing.T) {
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		_, _ = io.WriteString(w, "finished")
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	log := logging.New(&logs, "")
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, newServer(h, log), []net.Listener{l}, log) }()

	type answer struct {
		body string
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.Get("http://" + l.Addr().String() + "/")
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answered <- answer{string(body), err}
	}()
	<-started
	cancel()
	if a := <-answered; a.err != nil || a.body != "finished" {
		t.Fatalf("the request in flight got %q, %v; want it to finish", a.body, a.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve returned %v after a requested stop, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after the request finished")
	}
	if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
		c.Close()
		t.Error("the server still accepts connections after it stopped")
	}
	if !strings.Contains(logs.String(), `"message":"shutting down"`) {
		t.Errorf("no shutdown line in %q", logs.String())
	}
}

func TestServeReturnsTheErrorOfAFailedListener(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Close()
	var logs strings.Builder
	log := logging.New(&logs, "")
	if err := serve(context.Background(), newServer(http.NotFoundHandler(), log), []net.Listener{l}, log); err == nil {
		t.Fatal("serve on a closed listener returned nil")
	}
	if !strings.Contains(logs.String(), `"severity":"ERROR"`) {
		t.Errorf("the failure was not logged as an error: %q", logs.String())
	}
}
