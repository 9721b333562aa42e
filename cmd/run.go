package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	oauthgmail "example.com/gcf-oauth-gmail"
	"example.com/gcf-oauth-gmail/internal/logging"
)

// run parses args, configures the process and serves until ctx ends or the
// server fails. Every line it writes is a JSON log line on stderr; errors are
// logged before they are returned.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	log := logging.New(stderr, "")
	flags := flag.NewFlagSet("cmd", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	demo := flags.Bool("demo", false, "also run an emulator of Google's sign-in and Gmail, and configure the app to use it")
	list := flags.Bool("functions", false, "print the name of every function of the app, one per line, and exit")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, usage)
			return nil
		}
		log.Error("bad command line: "+err.Error(), "usage", usage)
		return err
	}
	if *list {
		for _, f := range oauthgmail.Functions() {
			fmt.Fprintln(stdout, f.Name)
		}
		return nil
	}
	port := getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if *demo {
		emulator, err := startDemo(ctx, port, getenv, os.Setenv)
		if err != nil {
			log.Error("cannot start the demo: " + err.Error())
			return err
		}
		defer emulator.Close()
		log.Info("Google emulator listening", "url", emulator.URL)
	}
	if err := oauthgmail.LoadConfiguration(); err != nil {
		// The function package has logged the problem.
		return err
	}

	served := make(chan error, 1)
	go func() { served <- funcframework.StartHostPort("", port) }()

	if getenv("FUNCTION_TARGET") == "" {
		log.Info(fmt.Sprintf("Open http://localhost:%s/oauth2init in a browser", port), "port", port, "demo", *demo)
	} else {
		log.Info(fmt.Sprintf("Serving %s at http://localhost:%s/", getenv("FUNCTION_TARGET"), port), "port", port)
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-served:
		log.Error("server stopped: " + err.Error())
		return err
	}
}

const usage = `usage: go run ./cmd [-demo]

Serves oauth2init, oauth2callback, listlabels and signout on $PORT (8080).
With FUNCTION_TARGET=<name>, serves only that function, at /.
With -demo, also runs an emulator of Google's sign-in and Gmail API and
configures the app to use it: no Google account or network needed.`
