//go:build withgmail

package main

// Built with -tags withgmail, hello also links google.golang.org/api/gmail/v1
// and nothing else changes: the cold start of any function built on the
// Gmail client can be no shorter, and its memory no smaller, than that
// binary's. scripts/coldstart.sh shows it beside hello's and the app's.
import _ "google.golang.org/api/gmail/v1"
