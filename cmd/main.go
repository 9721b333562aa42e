// Command cmd serves the functions locally with functions-framework-go, as
// Cloud Functions would: every function at /<name>, or with FUNCTION_TARGET
// set, that one function at /. With -demo it also runs an emulator of
// Google's sign-in and Gmail, so the whole flow works without an account.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	restore, err := dropBlankLines()
	if err != nil {
		restore = func() {}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := 0
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		code = 1
	}
	stop()
	restore()
	os.Exit(code)
}
