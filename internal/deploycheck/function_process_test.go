package deploycheck

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/gcf-oauth-gmail/internal/testhost"
)

// functionProcess is one instance of a function: the buildpack-built program serving one
// FUNCTION_TARGET on a loopback port, in its own working directory and with its own environment.
type functionProcess struct {
	name    string // the function it serves
	url     string // http://127.0.0.1:PORT
	cmd     *exec.Cmd
	stdout  string        // the file the process writes its stdout to, directly: never behind it
	stderr  string        // likewise for stderr
	exited  chan struct{} // closed when the process has ended
	waitErr error         // set before exited is closed
	stop    func()        // kills the process (if still running) and waits for it; idempotent
}

// launchFunction starts binary in dir with exactly env plus PORT, and waits until it listens or
// ends. The process is killed when the test ends.
func launchFunction(t *testing.T, binary, dir, name string, env []string) *functionProcess {
	t.Helper()
	for attempt := 1; ; attempt++ {
		p := startOnce(t, binary, dir, name, env)
		if p.running() || attempt == 3 || !strings.Contains(p.output(), "address already in use") {
			return p
		}
		// Another program took the free port between its discovery and the function's listen.
	}
}

func startOnce(t *testing.T, binary, dir, name string, env []string) *functionProcess {
	t.Helper()
	port := testhost.FreePort(t)
	p := &functionProcess{name: name, url: "http://127.0.0.1:" + port, exited: make(chan struct{})}
	p.cmd = exec.Command(binary)
	p.cmd.Dir = dir
	p.cmd.Env = append(append([]string(nil), env...), "PORT="+port)
	logs := t.TempDir()
	p.stdout, p.stderr = filepath.Join(logs, "stdout"), filepath.Join(logs, "stderr")
	stdout, err := os.Create(p.stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(p.stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	p.cmd.Stdout, p.cmd.Stderr = stdout, stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	var once sync.Once
	p.stop = func() {
		once.Do(func() {
			if p.running() {
				_ = p.cmd.Process.Kill()
			}
			<-p.exited
		})
	}
	t.Cleanup(p.stop)

	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return p
		default:
		}
		if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 200*time.Millisecond); err == nil {
			conn.Close()
			return p
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.stop()
	t.Fatalf("%s did not listen on port %s within 20s\n%s", name, port, p.output())
	return nil
}

func (p *functionProcess) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// mustBeServing fails the test unless the process is up and listening.
func (p *functionProcess) mustBeServing(t *testing.T) {
	t.Helper()
	if !p.running() {
		t.Fatalf("%s ended (%v), want it serving\n%s", p.name, p.waitErr, p.output())
	}
}

// exitCode is the code the process ended with: -1 while it runs or when a signal ended it.
func (p *functionProcess) exitCode() int {
	if p.running() {
		return -1
	}
	var exit *exec.ExitError
	if errors.As(p.waitErr, &exit) {
		return exit.ExitCode()
	}
	if p.waitErr == nil {
		return 0
	}
	return -1
}

// output is the process's output, for failure messages.
func (p *functionProcess) output() string {
	state := "running"
	if !p.running() {
		state = fmt.Sprintf("ended: %v", p.waitErr)
	}
	return fmt.Sprintf("--- %s (%s) stdout:\n%s--- %s stderr:\n%s---", p.name, state, p.stdoutText(), p.name, p.stderrText())
}

func (p *functionProcess) stdoutText() string { return readLog(p.stdout) }
func (p *functionProcess) stderrText() string { return readLog(p.stderr) }

func readLog(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)\n", path, err)
	}
	return string(data)
}

// newCookieKey returns a fresh COOKIE_SECRET value: standard base64 of 32 random bytes, as deploy.sh
// stores it in Secret Manager.
func newCookieKey() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return base64.StdEncoding.EncodeToString(key)
}

// cloudLoggingSeverities are the severities Cloud Logging knows.
var cloudLoggingSeverities = map[string]bool{
	"DEFAULT": true, "DEBUG": true, "INFO": true, "NOTICE": true, "WARNING": true,
	"ERROR": true, "CRITICAL": true, "ALERT": true, "EMERGENCY": true,
}

// checkFunctionLogs stops p and checks every line it wrote: a JSON object with a string message and
// a Cloud Logging severity, holding none of secrets in any common encoding. Exceptions are the
// lines functions-framework writes itself: "Serving function: ..." at start-up, and the empty
// lines it prints on both streams after every request when K_SERVICE is set (to flush the logs).
func checkFunctionLogs(t *testing.T, p *functionProcess, secrets []string) (objects []map[string]any) {
	t.Helper()
	p.stop()
	for stream, text := range map[string]string{"stdout": p.stdoutText(), "stderr": p.stderrText()} {
		for _, line := range strings.Split(text, "\n") {
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "Serving function: ") {
				continue
			}
			var obj map[string]any
			if err := json.Unmarshal([]byte(line), &obj); err != nil {
				t.Errorf("%s wrote a line on %s that is not a JSON object, want one JSON object per line:\n%s\n%s", p.name, stream, line, p.output())
				continue
			}
			objects = append(objects, obj)
			if msg, ok := obj["message"].(string); !ok || msg == "" {
				t.Errorf("%s wrote a log line without a string message, want one:\n%s", p.name, line)
			}
			if severity, _ := obj["severity"].(string); !cloudLoggingSeverities[severity] {
				t.Errorf("%s wrote a log line without a Cloud Logging severity, want one of DEFAULT..EMERGENCY:\n%s", p.name, line)
			}
			for _, secret := range secrets {
				if holdsSecret(line, secret) {
					t.Errorf("%s logged a secret (a token, code, cookie value or key), want none:\n%s", p.name, line)
				}
			}
		}
	}
	return objects
}

// holdsSecret reports whether text holds secret as is, URL-escaped or base64-encoded.
func holdsSecret(text, secret string) bool {
	if len(secret) < 8 {
		return false
	}
	for _, form := range []string{secret, url.QueryEscape(secret),
		base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString([]byte(secret))} {
		if strings.Contains(text, form) {
			return true
		}
	}
	return false
}

// exchange is one request and its response, body read, for checks and failure messages.
type exchange struct {
	request string // "GET https://..."
	status  int
	header  http.Header
	body    string
	cookies []*http.Cookie
}

func (e exchange) String() string {
	body := e.body
	if len(body) > 2000 {
		body = body[:2000] + "..."
	}
	return fmt.Sprintf("%s -> %d\nheaders: %v\nbody: %s", e.request, e.status, e.header, body)
}

func (e exchange) location() string { return e.header.Get("Location") }

// cookie is the Set-Cookie named name, or nil.
func (e exchange) cookie(name string) *http.Cookie {
	for _, c := range e.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// noRedirects is a client that shows every redirect instead of following it.
func noRedirects(c *http.Client) *http.Client {
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.Timeout = 15 * time.Second
	return c
}

// send makes one request and reads the answer. A "Host" entry of header sets the request's host,
// as a front end that passes the public one on.
func send(t *testing.T, client *http.Client, method, target string, header http.Header) exchange {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if k == "Host" { // the client sends req.Host, never a Host header
			req.Host = v[0]
			continue
		}
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, target, err)
	}
	return exchange{request: method + " " + target, status: resp.StatusCode, header: resp.Header, body: string(body), cookies: resp.Cookies()}
}

// platformEnvironment is what Cloud Functions (2nd gen) sets for an HTTP function, PORT aside.
func platformEnvironment(service, entryPoint string) []string {
	return []string{
		"FUNCTION_TARGET=" + entryPoint,
		"FUNCTION_SIGNATURE_TYPE=http",
		"K_SERVICE=" + service,
		"K_REVISION=" + service + "-00001-tst",
		"K_CONFIGURATION=" + service,
	}
}

// environmentWithout returns env less the variables named.
func environmentWithout(env []string, names ...string) []string {
	var kept []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			kept = append(kept, kv)
		}
	}
	return kept
}

// writeSecretFile writes a file only its owner can read, as a mounted secret is.
func writeSecretFile(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := writeTreeFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
}
