// Package testhost helps tests that start real servers and processes on
// this machine: it finds the repository, picks free loopback ports and waits
// for something to listen. Only tests import it.
package testhost

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// RepoRoot returns the directory of go.mod above the test's directory.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod in any directory above the test")
		}
		dir = parent
	}
}

// FreePort returns a loopback TCP port that nothing listened on a moment
// ago. Another process could take it before the caller does; tests that
// start servers on it retry or fail with a clear message.
func FreePort(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// WaitListening waits up to 10 seconds for a server on 127.0.0.1:port.
func WaitListening(tb testing.TB, port string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("nothing listens on port %s after 10 s", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
