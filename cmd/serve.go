package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	oauthgmail "example.com/gcf-oauth-gmail"
	"example.com/gcf-oauth-gmail/internal/logging"
	"example.com/gcf-oauth-gmail/internal/pages"
)

// Limits of the local server. A client gets this long to send a request's
// headers, and no more than this many bytes of them (431 beyond).
const (
	readHeaderTimeout = 10 * time.Second
	maxHeaderBytes    = 64 << 10
	// readTimeout bounds reading a whole request, body included.
	readTimeout = 30 * time.Second
	// writeTimeout is above the longest a function may wait for Google
	// (UPSTREAM_TIMEOUT is at most a minute).
	writeTimeout = 2 * time.Minute
	// idleTimeout closes a kept-alive connection that sends nothing more.
	idleTimeout = time.Minute
	// shutdownTimeout is how long requests in flight get to finish once the
	// runner is asked to stop.
	shutdownTimeout = 10 * time.Second
)

// function is one function of the app as the runner serves it: a name and
// a handler.
type function struct {
	Name string
	http.Handler
}

// appFunctions returns the app's functions, each answered by the app
// configured from the process environment.
func appFunctions() []function {
	var functions []function
	for _, f := range oauthgmail.Functions() {
		functions = append(functions, function{f.Name, f})
	}
	return functions
}

// startPath is where a person begins: the sign-in, which leads to the app's
// first page.
const startPath = "/oauth2init"

// routes serves functions as functions-framework does: each at /<name>, or,
// when target names one of them, that one alone at /, whatever the path, as
// a deployed function is reached. Serving every function, it also sends /
// to the sign-in and answers any other path with the app's own 404 page.
// Each request's trace and execution ids go into its context, as under the
// framework.
func routes(functions []function, target string) (http.Handler, error) {
	mux := http.NewServeMux()
	if target == "" {
		for _, f := range functions {
			mux.Handle("/"+f.Name, logging.WithRequestIDs(f))
		}
		mux.HandleFunc("/{$}", toStart)
		mux.HandleFunc("/", notFound)
		return mux, nil
	}
	var names []string
	for _, f := range functions {
		if f.Name == target {
			mux.Handle("/", logging.WithRequestIDs(f))
			return mux, nil
		}
		names = append(names, f.Name)
	}
	return nil, fmt.Errorf("FUNCTION_TARGET is %q, which is not a function of this app; the functions are %s", target, strings.Join(names, ", "))
}

// toStart sends a browser that opened / to the sign-in.
func toStart(w http.ResponseWriter, r *http.Request) {
	pages.SetSecurityHeaders(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		pages.WriteProblem(w, pages.Problem{
			Status:  http.StatusMethodNotAllowed,
			Heading: "Nothing to send here",
			Detail:  "This address only leads to the app. Open it from the address bar instead.",
			Next:    &pages.Link{URL: startPath, Text: "Go to the app"},
		})
		return
	}
	http.Redirect(w, r, startPath, http.StatusFound)
}

// notFound is the page of a path that is no function of the app.
func notFound(w http.ResponseWriter, _ *http.Request) {
	pages.WriteProblem(w, pages.Problem{
		Status:  http.StatusNotFound,
		Heading: "Page not found",
		Detail:  "There is no page at this address: check it for a typo, or go to the app, which starts with signing in with Google.",
		Next:    &pages.Link{URL: startPath, Text: "Go to the app"},
	})
}

// newServer returns the server of h, with the limits above. Its own errors
// are log records like every other line.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelError),
	}
}

// listen opens the listeners for host and port. An empty host or
// "localhost" means the loopback interface: 127.0.0.1, and ::1 where the
// machine has IPv6, because a browser may take localhost to either. The
// port must be free on both, so that http://localhost:port cannot reach
// another program.
func listen(host, port string) ([]net.Listener, error) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host != "" && host != "localhost" {
		l, err := net.Listen("tcp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, err
		}
		return []net.Listener{l}, nil
	}
	v4, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return nil, err
	}
	v6, err := net.Listen("tcp", net.JoinHostPort("::1", port))
	switch {
	case err == nil:
		return []net.Listener{v4, v6}, nil
	case errors.Is(err, syscall.EADDRINUSE):
		_ = v4.Close()
		return nil, fmt.Errorf("%w (another program has port %s on ::1, where http://localhost:%s may lead)", err, port, port)
	default: // no IPv6 loopback on this machine
		return []net.Listener{v4}, nil
	}
}

// browserURL is the base URL to open for a server listening on host:port:
// localhost when the server is reachable there, as the app's default
// redirect URL has it.
func browserURL(host, port string) string {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip := net.ParseIP(host); host == "" || host == "localhost" || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// serve serves on every listener until ctx ends or one of them fails, then
// shuts the server down, giving requests in flight shutdownTimeout to end.
func serve(ctx context.Context, server *http.Server, listeners []net.Listener, log *slog.Logger) error {
	stopped := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() { stopped <- server.Serve(l) }()
	}
	var err error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-stopped:
		log.Error("server stopped: " + err.Error())
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if serr := server.Shutdown(shutdownCtx); serr != nil {
		log.Warn(fmt.Sprintf("requests still running after %s were cut off", shutdownTimeout))
		_ = server.Close()
	}
	return err
}
