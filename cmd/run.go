package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	oauthgmail "example.com/gcf-oauth-gmail"
	"example.com/gcf-oauth-gmail/internal/config"
	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/logging"
)

// run parses args, configures the process and serves until ctx ends or the
// server fails. Everything it writes to stderr is a log record: a JSON line,
// or a readable text line when stderr is a terminal. Errors are logged
// before they are returned.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	format, formatErr := logFormat(getenv, stderr)
	log := logging.NewFormat(stderr, "", format)
	// A person reads a terminal: there the runner ends its start-up, or
	// says why it cannot start, in sentences rather than log records.
	plain := format == logging.FormatText && isTerminal(stderr)
	if formatErr != nil {
		log.Error(formatErr.Error())
		return formatErr
	}

	flags := flag.NewFlagSet("cmd", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	demo := flags.Bool("demo", false, "also run an emulator of Google's sign-in and Gmail, and configure the app to use it")
	list := flags.Bool("functions", false, "print every function of the app, one per line: its name, then the Google API\nservices it calls, separated by spaces; and exit")
	hostFlag := flags.String("host", "", "address to listen on: an IP address, localhost, or 0.0.0.0 for every interface\n(default $HOST, else localhost: 127.0.0.1, and ::1 where there is IPv6)")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, err = fmt.Fprint(stdout, usage(flags))
			return err
		}
		log.Error("bad command line: "+err.Error(), "usage", usage(flags)) // #nosec G706 -- slog's JSON and text handlers quote every value, so no argument can start a line of its own
		return err
	}
	if flags.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q", flags.Arg(0))
		log.Error("bad command line: "+err.Error(), "usage", usage(flags))
		return err
	}
	if *list {
		for _, f := range oauthgmail.Functions() {
			fmt.Fprintln(stdout, strings.Join(append([]string{f.Name}, f.Services...), " "))
		}
		return nil
	}

	port := getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		err := fmt.Errorf("PORT is %q; want a port number from 1 to 65535", port)
		log.Error(err.Error())
		return err
	}
	host := *hostFlag
	if host == "" {
		host = getenv("HOST")
	}
	target := getenv("FUNCTION_TARGET")
	handler, err := routes(appFunctions(), target)
	if err != nil {
		log.Error(err.Error())
		return err
	}
	listeners, err := listen(host, port)
	switch {
	case errors.Is(err, syscall.EADDRINUSE) && plain:
		fmt.Fprint(stderr, portTakenText(port, *demo, args, err.Error()))
		return err
	case errors.Is(err, syscall.EADDRINUSE):
		log.Error(fmt.Sprintf("cannot listen: port %s is taken by another program (%s); stop it, or choose another port, e.g. PORT=%s", port, err, nextPort(port)),
			"port", port, "host", host)
		return err
	case err != nil:
		log.Error("cannot listen: "+err.Error(), "port", port, "host", host)
		return err
	}
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	if !isLoopback(listeners) {
		log.Warn("listening on more than the loopback interface: other machines may reach the app", "host", host)
	}

	var accounts []fakegoogle.Account // the demo's, to sign in as
	if *demo {
		emulator, err := startDemo(ctx, port, getenv, os.Setenv)
		if err != nil {
			log.Error("cannot start the demo: " + err.Error())
			return err
		}
		defer emulator.Close()
		accounts = emulator.Accounts
		if !plain {
			log.Info("Google emulator listening", "url", emulator.URL)
		}
	} else if path, missing := missingClientSecret(getenv); missing {
		redirect := cmp.Or(getenv("REDIRECT_URL"), "http://localhost:"+port+"/oauth2callback")
		if plain {
			fmt.Fprint(stderr, missingSecretText(path, redirect))
		} else {
			log.Error("no client secret file: "+path+" does not exist. To try the app without a Google account, run the demo: go run ./cmd -demo. "+
				"To sign in with real Google, save your OAuth client's JSON there (or set CLIENT_SECRET_FILE), with "+redirect+
				" registered as an authorized redirect URI, and run go run ./cmd again", "file", path, "redirect_uri", redirect)
		}
		return errMissingClientSecret
	}
	if err := oauthgmail.LoadConfiguration(); err != nil {
		// The function package has logged the problem; the runner stops.
		if plain {
			fmt.Fprintln(stderr, "\nThe runner stopped: fix the problem above and start it again.")
		} else {
			log.Error("the runner stopped: fix the problem above and start it again")
		}
		return err
	}

	base := browserURL(host, port)
	addrs := make([]string, len(listeners))
	for i, l := range listeners {
		addrs[i] = l.Addr().String()
	}
	listening := strings.Join(addrs, " ")
	switch {
	case plain:
		fmt.Fprint(stderr, readyText(base, target, accounts))
	case target == "":
		log.Info(fmt.Sprintf("Open %s/oauth2init in a browser", base), "listening", listening, "demo", *demo)
	default:
		log.Info(fmt.Sprintf("Serving %s at %s/", target, base), "listening", listening)
	}
	return serve(ctx, newServer(handler, log), listeners, log)
}

// logFormat returns the format of the log lines: LOG_FORMAT when it is set,
// else text when stderr is a terminal and JSON otherwise. The function
// package reads the same variable, so when the runner chooses text it sets
// it for the whole process.
func logFormat(getenv func(string) string, stderr io.Writer) (string, error) {
	switch format := getenv("LOG_FORMAT"); format {
	case logging.FormatJSON, logging.FormatText:
		return format, nil
	case "":
		if !isTerminal(stderr) {
			return logging.FormatJSON, nil
		}
		return logging.FormatText, os.Setenv("LOG_FORMAT", logging.FormatText)
	default:
		return logging.FormatJSON, fmt.Errorf("LOG_FORMAT is %q; want %q or %q", format, logging.FormatJSON, logging.FormatText)
	}
}

// isLoopback reports whether every listener is on a loopback address.
func isLoopback(listeners []net.Listener) bool {
	for _, l := range listeners {
		addr, ok := l.Addr().(*net.TCPAddr)
		if !ok || !addr.IP.IsLoopback() {
			return false
		}
	}
	return true
}

// usage is the help text, with the flags' own descriptions.
func usage(flags *flag.FlagSet) string {
	var names []string
	for _, f := range oauthgmail.Functions() {
		names = append(names, f.Name)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `usage: go run ./cmd [-demo] [-host address] [-functions]

Serves the app's functions locally, as Cloud Functions would: each at
/<name>, or with FUNCTION_TARGET=<name>, that one alone at /.
Functions: %s

`, strings.Join(names, ", "))
	flags.SetOutput(&b)
	flags.PrintDefaults()
	flags.SetOutput(io.Discard)
	b.WriteString(`
Environment:
  PORT             port to listen on (default 8080)
  HOST             address to listen on, as -host (the flag wins)
  FUNCTION_TARGET  the one function to serve, at /
  LOG_FORMAT       json or text (default text when standard error is a terminal, else json)
and the app's own settings (see README.md).
`)
	return b.String()
}

// errMissingClientSecret is run's error when there is no client secret
// file to read, which it has explained.
var errMissingClientSecret = errors.New("no client secret file")

// missingClientSecret reports whether the app has no client secret to read,
// and returns the absolute path of the file it would read first: the one
// CLIENT_SECRET_FILE names, else client_secret.json in the working
// directory. A file that exists but cannot be read or parsed is the app's
// to report.
func missingClientSecret(getenv func(string) string) (string, bool) {
	if getenv("CLIENT_SECRET_JSON") != "" {
		return "", false
	}
	candidates := []string{config.DefaultClientSecretFile, filepath.Join(config.SourceDir, config.DefaultClientSecretFile)}
	if name := getenv("CLIENT_SECRET_FILE"); name != "" {
		candidates = []string{name}
	}
	for _, name := range candidates {
		if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) {
			return "", false
		}
	}
	path, err := filepath.Abs(candidates[0])
	if err != nil {
		path = candidates[0]
	}
	return path, true
}
