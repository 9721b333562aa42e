package oauthgmail

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadManyUsersThroughTheWholeFlow signs 200 users in at once, then
// sends 20,000 listlabels requests spread over them from 32 workers, and
// checks that every answer is the user's own page (no 5xx, no other user's
// label), then that neither goroutines nor connections were left
// behind. It measures nothing: timings belong to the benchmarks.
func TestLoadManyUsersThroughTheWholeFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	const (
		users    = 200
		requests = 20_000
		workers  = 32
	)
	e := newTestEnv(t, func(c *envConfig) { c.google.Accounts = manyAccounts(users) })
	appTransport := e.useTransport(nil)
	// The browsers share one pool big enough for all of them, as many
	// browsers behind one proxy would; the default transport keeps only two
	// idle connections per host and would open one per request.
	browserTransport := &http.Transport{MaxIdleConns: 2 * users, MaxIdleConnsPerHost: 2 * users, IdleConnTimeout: time.Minute}
	closeIdle := func() {
		browserTransport.CloseIdleConnections()
		appTransport.CloseIdleConnections()
	}
	t.Cleanup(closeIdle)
	ports := []int{portOf(t, e.server.URL), portOf(t, e.googleURL)}
	goroutinesBefore := runtime.NumGoroutine()
	connsBefore := establishedConns(ports)

	// Everyone signs in at the same time.
	browsers := make([]*browser, users)
	var wg sync.WaitGroup
	for i := range browsers {
		b := e.newBrowser()
		b.client.Transport = browserTransport
		browsers[i] = b
		wg.Go(func() {
			if err := b.trySignIn(userEmail(i)); err != nil {
				t.Errorf("user %d: %v", i, err)
				return
			}
			if err := checkOwnPage(b, i); err != nil {
				t.Errorf("user %d, first listlabels: %v", i, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Then they list their labels, over and over.
	var next, serverErrors, leaks, otherFailures atomic.Int64
	var firstErrors sync.Map // one example per kind
	for range workers {
		wg.Go(func() {
			for {
				n := next.Add(1) - 1
				if n >= requests {
					return
				}
				i := int(n % users)
				err := checkOwnPage(browsers[i], i)
				var counter *atomic.Int64
				switch {
				case err == nil:
					continue
				case errors.Is(err, errServerError):
					counter = &serverErrors
				case errors.Is(err, errCrossUser):
					counter = &leaks
				default:
					counter = &otherFailures
				}
				counter.Add(1)
				firstErrors.LoadOrStore(counter, fmt.Sprintf("user %d: %v", i, err))
			}
		})
	}
	wg.Wait()
	for _, c := range []struct {
		what    string
		counter *atomic.Int64
	}{{"5xx answers", &serverErrors}, {"answers showing another user's data", &leaks}, {"other failures", &otherFailures}} {
		if n := c.counter.Load(); n > 0 {
			example, _ := firstErrors.Load(c.counter)
			t.Errorf("%d %s of %d requests, e.g. %v", n, c.what, requests, example)
		}
	}
	if stats := e.google.Stats(); stats.CodeExchanges != users || stats.Refreshes != 0 {
		t.Errorf("fake Google saw %d code exchanges and %d refreshes, want %d and 0", stats.CodeExchanges, stats.Refreshes, users)
	}

	// Nothing is left behind once the pools are emptied. The servers stay
	// up, so this is about the app's and the clients' own goroutines and
	// connections.
	goroutinesLoaded, connsLoaded := runtime.NumGoroutine(), establishedConns(ports)
	closeIdle()
	defer func() {
		t.Logf("goroutines: %d before, %d with the pools full, %d after; established connections: %d before, %d with the pools full, %d after",
			goroutinesBefore, goroutinesLoaded, runtime.NumGoroutine(), connsBefore, connsLoaded, establishedConns(ports))
	}()
	if !settle(func() bool { return runtime.NumGoroutine() <= goroutinesBefore }) {
		var dump strings.Builder
		pprof.Lookup("goroutine").WriteTo(&dump, 1)
		t.Errorf("goroutines: %d before the load, %d after it settled:\n%.6000s", goroutinesBefore, runtime.NumGoroutine(), dump.String())
	}
	if connsBefore < 0 {
		t.Log("no /proc/net/tcp: open connections not counted")
	} else if !settle(func() bool { return establishedConns(ports) <= connsBefore }) {
		t.Errorf("established loopback connections to the app and the fake Google: %d before the load, %d after", connsBefore, establishedConns(ports))
	}
}

var (
	errServerError = errors.New("5xx answer")
	errCrossUser   = errors.New("another user's data")
)

func userEmail(i int) string { return fmt.Sprintf("user%03d@example.com", i) }

// checkOwnPage lists user i's labels with b and checks that the page is
// theirs alone: their own label, and no other user's.
func checkOwnPage(b *browser, i int) error {
	r, err := b.try(http.MethodGet, "/listlabels")
	if err != nil {
		return err
	}
	if r.status >= 500 {
		return fmt.Errorf("%w: status %d", errServerError, r.status)
	}
	if r.status != http.StatusOK {
		return fmt.Errorf("status %d, location %q", r.status, r.location())
	}
	labels := numbersAfter(r.body, "only-user", "")
	for _, n := range labels {
		if n != i {
			return fmt.Errorf("%w: user %d's page shows user %d", errCrossUser, i, n)
		}
	}
	if len(labels) == 0 {
		return fmt.Errorf("the page lacks the user's own label")
	}
	return nil
}

// numbersAfter returns the three-digit numbers that follow prefix (and are
// followed by suffix) in s.
func numbersAfter(s, prefix, suffix string) []int {
	var out []int
	for {
		k := strings.Index(s, prefix)
		if k < 0 {
			return out
		}
		s = s[k+len(prefix):]
		if len(s) < 3+len(suffix) || !strings.HasPrefix(s[3:], suffix) {
			continue
		}
		if n, err := strconv.Atoi(s[:3]); err == nil {
			out = append(out, n)
		}
	}
}

// try is browser.do for any goroutine: failures are returned, not fatal.
func (b *browser) try(method, target string) (response, error) {
	if strings.HasPrefix(target, "/") {
		target = b.base + target
	}
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		return response{}, err
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: string(body), cookies: resp.Cookies()}
	checkCommonHeaders(b.t, method+" "+target, r)
	return r, nil
}

// trySignIn is browser.signIn for any goroutine.
func (b *browser) trySignIn(email string) error {
	r, err := b.try(http.MethodGet, "/oauth2init")
	if err != nil {
		return err
	}
	if r.status != http.StatusFound || !strings.HasPrefix(r.location(), b.env.googleURL) {
		return fmt.Errorf("oauth2init: status %d location %q", r.status, r.location())
	}
	cb, err := b.env.google.Approve(r.location(), email)
	if err != nil {
		return err
	}
	if r, err = b.try(http.MethodGet, cb.String()); err != nil {
		return err
	}
	if r.status != http.StatusFound || r.location() != "/listlabels" {
		return fmt.Errorf("oauth2callback: status %d location %q", r.status, r.location())
	}
	return nil
}

// settle polls cond until it holds, for up to 10 seconds: connections and
// their goroutines end asynchronously after their pool is closed.
func settle(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func portOf(t *testing.T, rawURL string) int {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// establishedConns counts the TCP sockets in state ESTABLISHED whose local
// or remote port is one of ports: both ends of every open connection to
// those servers. It reads the kernel's table, so it sees connections that
// no pool or server hook knows about. It returns -1 where there is no such
// table.
func establishedConns(ports []int) int {
	n := 0
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if errors.Is(err, os.ErrNotExist) && table == "/proc/net/tcp6" {
			continue
		}
		if err != nil {
			return -1
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			// sl local_address rem_address st ...; addresses are HEX_IP:HEX_PORT
			fields := strings.Fields(line)
			if len(fields) < 4 || fields[3] != "01" {
				continue
			}
			for _, addr := range fields[1:3] {
				i := strings.LastIndexByte(addr, ':')
				port, err := strconv.ParseUint(addr[i+1:], 16, 16)
				if err == nil && slices.Contains(ports, int(port)) {
					n++
					break
				}
			}
		}
	}
	return n
}
