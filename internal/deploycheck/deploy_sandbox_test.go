package deploycheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"example.com/gcf-oauth-gmail/internal/testhost"
)

const (
	project          = "demo-proj"
	region           = "europe-west1"
	clientSecretName = "gcf-oauth-gmail-client-secret"
	cookieKeyName    = "gcf-oauth-gmail-cookie-key"
	serviceAccount   = "gcf-oauth-gmail@demo-proj.iam.gserviceaccount.com"
	buildAccount     = "gcf-oauth-gmail-build@demo-proj.iam.gserviceaccount.com"
	baseURL          = "https://europe-west1-demo-proj.cloudfunctions.net"
	redirectURI      = baseURL + "/oauth2callback"
	// deployer is the sandbox's active gcloud account, the person running deploy.sh.
	deployer = "deployer@example.com"
	// clientSecretValue is the "client_secret" in the test client JSON: no output may hold it.
	clientSecretValue = "GOCSPX-test-client-secret-value"
)

var (
	// functionLines are what `go run ./cmd -functions` prints in this repository: a line per
	// function, its name and then the Google API services it calls. functionNames are the names:
	// what deploy.sh must deploy. The tests compare with them and never name them.
	functionLines = appFunctionLines()
	functionNames = namesOf(functionLines)

	requiredAPIs = []string{
		"cloudfunctions.googleapis.com",
		"cloudbuild.googleapis.com",
		"run.googleapis.com",
		"artifactregistry.googleapis.com",
		"secretmanager.googleapis.com",
		"iam.googleapis.com",
		"gmail.googleapis.com", // the one API of the app's functions
	}
	// tools are the programs deploy.sh and the stubs run. The sandbox's PATH holds only these and
	// the stubs, so that no test can reach a real gcloud installed on the machine.
	tools = []string{
		"bash", "env", "basename", "dirname", "cat", "cp", "cut", "find", "fold", "grep", "head", "mkdir",
		"mktemp", "rm", "sed", "sort", "tail", "touch", "tr", "wc", "base64", "sha256sum", "shasum", "date", "rmdir",
	}
	deployHashLabel = regexp.MustCompile(`deploy-hash=[0-9a-f]{40}\b`)
)

// appFunctionLines runs the repository's runner once per test binary. A package variable rather
// than a helper: tests in other files range over functionNames.
func appFunctionLines() []string {
	fail := func(format string, args ...any) []string {
		fmt.Fprintf(os.Stderr, "deploycheck: "+format+"\n", args...)
		os.Exit(1)
		return nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return fail("%v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			return fail("no go.mod above %s", dir)
		}
		dir = filepath.Dir(dir)
	}
	cmd := exec.Command("go", "run", "./cmd", "-functions")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fail("go run ./cmd -functions, the list of functions deploy.sh deploys: %v\n%s", err, stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(namesOf(lines)) == 0 {
		return fail("go run ./cmd -functions listed no function")
	}
	return lines
}

// namesOf returns the first word of each line that has one: the functions' names.
func namesOf(lines []string) []string {
	var names []string
	for _, line := range lines {
		if fields := strings.Fields(line); len(fields) > 0 {
			names = append(names, fields[0])
		}
	}
	return names
}

func webClientJSON(redirectURIs ...string) string {
	return webClientJSONOf(project, redirectURIs...)
}

// webClientJSONOf is the JSON Google gives for a "Web application" client of clientProject.
func webClientJSONOf(clientProject string, redirectURIs ...string) string {
	quoted := make([]string, len(redirectURIs))
	for i, uri := range redirectURIs {
		quoted[i] = strconv.Quote(uri)
	}
	return fmt.Sprintf(`{"web":{"client_id":"1234-test.apps.googleusercontent.com","project_id":%q,`+
		`"auth_uri":"https://accounts.google.com/o/oauth2/auth","token_uri":"https://oauth2.googleapis.com/token",`+
		`"client_secret":%q,"redirect_uris":[%s]}}`, clientProject, clientSecretValue, strings.Join(quoted, ","))
}

// sandbox is a small repository holding a copy of deploy.sh and .gcloudignore, with the stub
// gcloud, go and sleep first on a PATH that has nothing else but the tools the scripts need.
type sandbox struct {
	t          *testing.T
	repo       string // where deploy.sh runs: a Go module with one file
	state      string // the stub's project
	log        string // the stub's record of calls
	home       string
	functions  string // what the stub go prints for `go run ./cmd -functions`
	goLog      string // the stub go's record of calls
	sleepLog   string // the stub sleep's record of calls
	curlLog    string // the stub curl's record of calls
	tools      string // the tools, without any stub
	gcloudBin  string // the stub gcloud
	goBin      string // the stub go
	sleepBin   string // the stub sleep
	withBin    string // PATH with every stub first
	withoutGo  string // PATH with the stubs but go
	withoutGcl string // PATH with the stubs but gcloud
	env        []string
	dir        string // where deploy.sh is run from, when not the repository
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	root := testhost.RepoRoot(t)
	base := t.TempDir()
	s := &sandbox{
		t:         t,
		repo:      filepath.Join(base, "repo"),
		state:     filepath.Join(base, "state"),
		log:       filepath.Join(base, "gcloud.log"),
		home:      filepath.Join(base, "home"),
		functions: filepath.Join(base, "functions"),
		goLog:     filepath.Join(base, "go.log"),
		sleepLog:  filepath.Join(base, "sleep.log"),
		curlLog:   filepath.Join(base, "curl.log"),
		tools:     filepath.Join(base, "tools"),
		gcloudBin: filepath.Join(base, "gcloud-bin"),
		goBin:     filepath.Join(base, "go-bin"),
		sleepBin:  filepath.Join(base, "sleep-bin"),
	}
	path := func(dirs ...string) string { return strings.Join(dirs, string(os.PathListSeparator)) }
	s.withBin = path(s.gcloudBin, s.goBin, s.sleepBin, s.tools)
	s.withoutGo = path(s.gcloudBin, s.sleepBin, s.tools)
	s.withoutGcl = path(s.goBin, s.sleepBin, s.tools)
	for _, dir := range []string{s.repo, s.state, s.home, s.tools, s.gcloudBin, s.goBin, s.sleepBin} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range tools {
		if path, err := exec.LookPath(name); err == nil {
			if err := os.Symlink(path, filepath.Join(s.tools, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	copyFile(t, filepath.Join("testdata", "gcloud"), filepath.Join(s.gcloudBin, "gcloud"), 0o755)
	copyFile(t, filepath.Join("testdata", "curl.sh"), filepath.Join(s.gcloudBin, "curl"), 0o755)
	copyFile(t, filepath.Join("testdata", "go.sh"), filepath.Join(s.goBin, "go"), 0o755)
	copyFile(t, filepath.Join("testdata", "sleep.sh"), filepath.Join(s.sleepBin, "sleep"), 0o755)
	copyFile(t, filepath.Join(root, "deploy.sh"), filepath.Join(s.repo, "deploy.sh"), 0o755)
	copyFile(t, filepath.Join(root, ".gcloudignore"), filepath.Join(s.repo, ".gcloudignore"), 0o644)
	s.writeRepo("go.mod", "module example.com/fixture\n\ngo 1.26.0\n")
	s.writeRepo("go.sum", "")
	s.writeRepo("function.go", "package fixture\n")
	s.writeRepo("client_secret.json", webClientJSON(redirectURI))
	s.setFunctions(functionLines...)
	s.writeState("enabled-services", strings.Join(requiredAPIs, "\n")+"\n")
	s.writeState("upload-files", "function.go\ngo.mod\ngo.sum\n")
	s.setConfig("account", deployer)
	return s
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, mode); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (s *sandbox) writeRepo(name, content string) {
	writeFile(s.t, filepath.Join(s.repo, name), content)
}

func (s *sandbox) writeState(name, content string) {
	writeFile(s.t, filepath.Join(s.state, name), content)
}

func (s *sandbox) readState(name string) string {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join(s.state, name))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return string(data)
}

func (s *sandbox) removeState(name string) {
	s.t.Helper()
	if err := os.Remove(filepath.Join(s.state, name)); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sandbox) setConfig(key, value string) {
	s.writeState(filepath.Join("config", key), value+"\n")
}

// setFunctions sets what the runner of the sandbox's repository lists: one line per function, its
// name and then the Google API services it calls.
func (s *sandbox) setFunctions(lines ...string) {
	writeFile(s.t, s.functions, strings.Join(lines, "\n")+"\n")
}

type result struct {
	stdout, stderr string
	exitCode       int
	elapsed        time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.exitCode, r.stdout, r.stderr)
}

func (s *sandbox) run(args ...string) result { return s.runWithPath(s.withBin, args...) }

func (s *sandbox) runWithPath(path string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{filepath.Join(s.repo, "deploy.sh")}, args...)...)
	cmd.Dir = s.repo
	if s.dir != "" {
		cmd.Dir = s.dir
	}
	cmd.Env = append([]string{
		"PATH=" + path,
		"HOME=" + s.home,
		"LC_ALL=C",
		"GCLOUD_STUB_STATE=" + s.state,
		"GCLOUD_STUB_LOG=" + s.log,
		"GO_STUB_FUNCTIONS=" + s.functions,
		"GO_STUB_LOG=" + s.goLog,
		"SLEEP_STUB_LOG=" + s.sleepLog,
		"CURL_STUB_LOG=" + s.curlLog,
	}, s.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.exitCode = exit.ExitCode()
	case err != nil:
		s.t.Fatalf("running deploy.sh: %v", err)
	}
	return r
}

// deploy runs deploy.sh --project --region with args and fails the test unless it succeeds.
func (s *sandbox) deploy(args ...string) result {
	s.t.Helper()
	r := s.run(append([]string{"--project", project, "--region", region}, args...)...)
	if r.exitCode != 0 {
		s.t.Fatalf("deploy.sh %s failed, want success:\n%s", strings.Join(args, " "), r)
	}
	return r
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func (s *sandbox) logLines() []string { return readLines(s.t, s.log) }

// sleeps returns the seconds deploy.sh asked the stub sleep for, in order.
func (s *sandbox) sleeps() []int {
	s.t.Helper()
	var seconds []int
	for _, line := range readLines(s.t, s.sleepLog) {
		n, err := strconv.Atoi(line)
		if err != nil {
			s.t.Fatalf("deploy.sh ran sleep %q, want whole seconds", line)
		}
		seconds = append(seconds, n)
	}
	return seconds
}

func (s *sandbox) clearLog() {
	for _, log := range []string{s.log, s.goLog, s.sleepLog, s.curlLog} {
		if err := os.Remove(log); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.t.Fatal(err)
		}
	}
}

// secretVersions returns the payloads the stub stored for secret, oldest first.
func (s *sandbox) secretVersions(secret string) []string {
	s.t.Helper()
	var versions []string
	for n := 1; ; n++ {
		data, err := os.ReadFile(filepath.Join(s.state, "secrets", secret, "versions", strconv.Itoa(n)))
		if errors.Is(err, os.ErrNotExist) {
			return versions
		}
		if err != nil {
			s.t.Fatal(err)
		}
		versions = append(versions, string(data))
	}
}

// versionStates returns the state of each version of secret, oldest first.
func (s *sandbox) versionStates(secret string) []string {
	s.t.Helper()
	var states []string
	for n := range s.secretVersions(secret) {
		state := strings.TrimSpace(s.readState(filepath.Join("secrets", secret, "states", strconv.Itoa(n+1))))
		if state == "" {
			state = "ENABLED"
		}
		states = append(states, state)
	}
	return states
}

// deployedFunctions returns the functions the stub's project has, by name.
func (s *sandbox) deployedFunctions() []string {
	s.t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.state, "functions"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		s.t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// addForeignFunction puts a function that is not the app's into the stub's project.
func (s *sandbox) addForeignFunction(name, inRegion string) {
	s.writeState(filepath.Join("functions", name, "deploy-hash"), "0123\n")
	s.writeState(filepath.Join("functions", name, "region"), inRegion+"\n")
}

func matching(lines []string, substr string) []string {
	var found []string
	for _, line := range lines {
		if strings.Contains(line, substr) {
			found = append(found, line)
		}
	}
	return found
}

// changes are the calls that alter a project.
func changes(lines []string) []string {
	var found []string
	for _, line := range lines {
		for _, verb := range []string{
			" create ", " deploy ", " versions add ", " delete ", " add-iam-policy-binding ",
			" remove-iam-policy-binding ", " versions disable ", " versions destroy ",
		} {
			if strings.Contains(line, verb) {
				found = append(found, line)
				break
			}
		}
	}
	return found
}

// functionJobOf returns the function a line of one function's job is about, or "": a
// `gcloud functions describe|deploy NAME` or `gcloud run services get-iam-policy|add-iam-policy-binding NAME`.
func functionJobOf(line string) string {
	fields := strings.Fields(strings.TrimPrefix(line, "+ "))
	if len(fields) < 4 || fields[0] != "gcloud" {
		return ""
	}
	switch fields[1] + " " + fields[2] {
	case "functions describe", "functions deploy", "run services":
		if fields[1] == "run" {
			if len(fields) < 5 || (fields[3] != "get-iam-policy" && fields[3] != "add-iam-policy-binding") {
				return ""
			}
			return fields[4]
		}
		return fields[3]
	}
	return ""
}

// inFunctionOrder puts each run of consecutive function describe and deploy calls in the order of
// functionNames, keeping each function's own calls in order: the functions deploy concurrently, so
// their calls interleave in any order.
func inFunctionOrder(lines []string) []string {
	out := slices.Clone(lines)
	index := func(line string) int { return slices.Index(functionNames, functionJobOf(line)) }
	for start := 0; start < len(out); {
		if functionJobOf(out[start]) == "" {
			start++
			continue
		}
		end := start
		for end < len(out) && functionJobOf(out[end]) != "" {
			end++
		}
		slices.SortStableFunc(out[start:end], func(a, b string) int { return index(a) - index(b) })
		start = end
	}
	return out
}

// lineDiff shows the lines only in want (-) and only in got (+), in order.
func lineDiff(want, got string) string {
	wantLines, gotLines := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, line := range wantLines {
		if !slices.Contains(gotLines, line) {
			fmt.Fprintf(&b, "- %s\n", line)
		}
	}
	for _, line := range gotLines {
		if !slices.Contains(wantLines, line) {
			fmt.Fprintf(&b, "+ %s\n", line)
		}
	}
	if b.Len() == 0 {
		return "(same lines, in another order)\ngot:\n" + got
	}
	return b.String()
}
