// Command cmd serves the app's functions locally as Cloud Functions would:
// every function at /<name>, or with FUNCTION_TARGET set, that one function
// at /. It listens on the loopback interface unless told otherwise. With
// -demo it also runs an emulator of Google's sign-in and Gmail, so the whole
// flow works without an account.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Once the first signal has started the shutdown, a second one stops
	// the process at once.
	context.AfterFunc(ctx, stop)
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		os.Exit(1)
	}
}
