// Command measure starts a server binary again and again and reports how
// long each start took to answer its first HTTP request, and how much memory
// the process holds once idle after it.
//
//	measure [-runs 30] [-path /] [-expect 200] [-idle 100ms] -- BINARY [ARG...]
//
// Each run picks a free loopback port, passes it as $PORT (the rest of the
// environment is inherited), starts the binary and polls
// http://127.0.0.1:PORT/PATH in a tight loop (a refused connection is
// retried after 100µs) until a response with the expected status arrives.
// The time from just before the fork to that response is the start time.
// After -idle, VmRSS is read from /proc/PID/status, then the process gets
// SIGTERM (SIGKILL after 5 s). The output is one line of key=value pairs:
// runs, median_ms, p10_ms, p90_ms, min_ms, max_ms, rss_kib (median).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 30, "number of starts")
	path := flag.String("path", "/", "path of the first request")
	expect := flag.Int("expect", http.StatusOK, "expected status of the first answer")
	idle := flag.Duration("idle", 100*time.Millisecond, "wait after the first answer before reading VmRSS")
	flag.Parse()
	if flag.NArg() == 0 || *runs < 1 {
		fmt.Fprintln(os.Stderr, "usage: measure [-runs N] [-path P] [-expect STATUS] [-idle D] -- BINARY [ARG...]")
		os.Exit(2)
	}
	var starts []time.Duration
	var rss []int
	for i := range *runs {
		d, kib, err := once(flag.Args(), *path, *expect, *idle)
		if err != nil {
			fmt.Fprintf(os.Stderr, "measure: run %d of %s: %v\n", i+1, flag.Arg(0), err)
			os.Exit(1)
		}
		starts = append(starts, d)
		rss = append(rss, kib)
	}
	slices.Sort(starts)
	slices.Sort(rss)
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }
	fmt.Printf("runs=%d median_ms=%s p10_ms=%s p90_ms=%s min_ms=%s max_ms=%s rss_kib=%d\n",
		len(starts), ms(percentile(starts, 50)), ms(percentile(starts, 10)), ms(percentile(starts, 90)),
		ms(starts[0]), ms(starts[len(starts)-1]), percentile(rss, 50))
}

// percentile returns the p-th percentile of sorted (nearest rank; for the
// median of an even count, the lower middle).
func percentile[T any](sorted []T, p int) T {
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(i, 0)]
}

// once starts the binary, waits for its first answer and returns the time
// it took and the idle RSS in KiB.
func once(argv []string, path string, expect int, idle time.Duration) (time.Duration, int, error) {
	port, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	url := "http://127.0.0.1:" + port + path
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	client := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil},
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var output bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...) // #nosec G204 -- the binary scripts/coldstart.sh just built
	cmd.Env = append(os.Environ(), "PORT="+port)
	cmd.Stdout, cmd.Stderr = &output, &output

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	var elapsed time.Duration
	for {
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			elapsed = time.Since(start)
			if resp.StatusCode != expect {
				stop()
				return 0, 0, fmt.Errorf("first answer %d, want %d; output:\n%s", resp.StatusCode, expect, output.String())
			}
			break
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			stop()
			return 0, 0, fmt.Errorf("GET %s: %w; output:\n%s", url, err, output.String())
		}
		select {
		case err := <-exited:
			return 0, 0, fmt.Errorf("exited before answering (%v); output:\n%s", err, output.String())
		case <-time.After(100 * time.Microsecond):
		}
		if time.Since(start) > 30*time.Second {
			stop()
			return 0, 0, fmt.Errorf("no answer within 30 s; output:\n%s", output.String())
		}
	}

	time.Sleep(idle)
	kib, err := vmRSS(cmd.Process.Pid)
	stop()
	return elapsed, kib, err
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// vmRSS returns the resident set size of a process in KiB.
func vmRSS(pid int) (int, error) {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status") // #nosec G304 -- a /proc path built from a pid
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, errors.New("no VmRSS in /proc/PID/status")
}
