package main

import (
	"io"
	"math"
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal: a file that answers the
// terminal's own requests, not merely a character device such as /dev/null.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fd := f.Fd()
	return fd <= math.MaxInt && term.IsTerminal(int(fd))
}
