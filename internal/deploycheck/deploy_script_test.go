package deploycheck

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
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

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from this run")

const (
	project          = "demo-proj"
	region           = "europe-west1"
	clientSecretName = "gcf-oauth-gmail-client-secret"
	cookieKeyName    = "gcf-oauth-gmail-cookie-key"
	serviceAccount   = "gcf-oauth-gmail@demo-proj.iam.gserviceaccount.com"
	baseURL          = "https://europe-west1-demo-proj.cloudfunctions.net"
	redirectURI      = baseURL + "/oauth2callback"
	// clientSecretValue is the "client_secret" in the test client JSON: no output may hold it.
	clientSecretValue = "GOCSPX-test-client-secret-value"
)

var (
	functionNames = []string{"oauth2init", "oauth2callback", "listlabels", "signout"}
	requiredAPIs  = []string{
		"cloudfunctions.googleapis.com",
		"cloudbuild.googleapis.com",
		"run.googleapis.com",
		"artifactregistry.googleapis.com",
		"secretmanager.googleapis.com",
		"gmail.googleapis.com",
		"iam.googleapis.com",
	}
	// tools are the programs deploy.sh and the stub gcloud run. The sandbox's PATH holds only these
	// and the stub, so that no test can reach a real gcloud installed on the machine.
	tools = []string{
		"bash", "env", "basename", "dirname", "cat", "cut", "find", "grep", "head", "mkdir", "rm",
		"sed", "sleep", "sort", "tail", "touch", "tr", "wc", "base64", "sha256sum", "shasum",
	}
	deployHashLabel = regexp.MustCompile(`deploy-hash=[0-9a-f]{40}\b`)
)

func webClientJSON(redirectURIs ...string) string {
	quoted := make([]string, len(redirectURIs))
	for i, uri := range redirectURIs {
		quoted[i] = strconv.Quote(uri)
	}
	return fmt.Sprintf(`{"web":{"client_id":"1234-test.apps.googleusercontent.com","project_id":%q,`+
		`"auth_uri":"https://accounts.google.com/o/oauth2/auth","token_uri":"https://oauth2.googleapis.com/token",`+
		`"client_secret":%q,"redirect_uris":[%s]}}`, project, clientSecretValue, strings.Join(quoted, ","))
}

// sandbox is a small repository holding a copy of deploy.sh and .gcloudignore, with the stub
// gcloud first on a PATH that has nothing else but the tools the scripts need.
type sandbox struct {
	t       *testing.T
	repo    string // where deploy.sh runs: a Go module with one file
	state   string // the stub's project
	log     string // the stub's record of calls
	home    string
	tools   string // PATH without gcloud
	withBin string // PATH with the stub gcloud first
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	root := testhost.RepoRoot(t)
	base := t.TempDir()
	s := &sandbox{
		t:     t,
		repo:  filepath.Join(base, "repo"),
		state: filepath.Join(base, "state"),
		log:   filepath.Join(base, "gcloud.log"),
		home:  filepath.Join(base, "home"),
		tools: filepath.Join(base, "tools"),
	}
	bin := filepath.Join(base, "bin")
	s.withBin = bin + string(os.PathListSeparator) + s.tools
	for _, dir := range []string{s.repo, s.state, s.home, s.tools, bin} {
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
	copyFile(t, filepath.Join("testdata", "gcloud"), filepath.Join(bin, "gcloud"), 0o755)
	copyFile(t, filepath.Join(root, "deploy.sh"), filepath.Join(s.repo, "deploy.sh"), 0o755)
	copyFile(t, filepath.Join(root, ".gcloudignore"), filepath.Join(s.repo, ".gcloudignore"), 0o644)
	s.writeRepo("go.mod", "module example.com/fixture\n\ngo 1.26.0\n")
	s.writeRepo("go.sum", "")
	s.writeRepo("function.go", "package fixture\n")
	s.writeRepo("client_secret.json", webClientJSON(redirectURI))
	s.writeState("enabled-services", strings.Join(requiredAPIs, "\n")+"\n")
	s.writeState("upload-files", "function.go\ngo.mod\ngo.sum\n")
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

func (s *sandbox) setConfig(key, value string) {
	s.writeState(filepath.Join("config", key), value+"\n")
}

type result struct {
	stdout, stderr string
	exitCode       int
}

func (r result) String() string {
	return fmt.Sprintf("exit code %d\nstdout:\n%s\nstderr:\n%s", r.exitCode, r.stdout, r.stderr)
}

func (s *sandbox) run(args ...string) result { return s.runWithPath(s.withBin, args...) }

func (s *sandbox) runWithPath(path string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{filepath.Join(s.repo, "deploy.sh")}, args...)...)
	cmd.Dir = s.repo
	cmd.Env = []string{
		"PATH=" + path,
		"HOME=" + s.home,
		"LC_ALL=C",
		"GCLOUD_STUB_STATE=" + s.state,
		"GCLOUD_STUB_LOG=" + s.log,
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
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

func (s *sandbox) logLines() []string {
	s.t.Helper()
	data, err := os.ReadFile(s.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func (s *sandbox) clearLog() {
	if err := os.Remove(s.log); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.t.Fatal(err)
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
		for _, verb := range []string{" create ", " deploy ", " versions add ", " delete ", " add-iam-policy-binding "} {
			if strings.Contains(line, verb) {
				found = append(found, line)
				break
			}
		}
	}
	return found
}

func TestFirstDeployRunsTheExpectedGcloudCommands(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.deploy()
	got := strings.Join(s.logLines(), "\n") + "\n"
	golden := filepath.Join("testdata", "first-deploy.golden")
	if *update {
		writeFile(t, golden, got)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("a first deploy ran other gcloud commands than %s (go test -update rewrites it):\n%s",
			golden, lineDiff(string(want), got))
	}
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

func TestSecondDeployChangesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// change alters the sandbox after a first deploy and returns the flags of the second.
		change        func(s *sandbox) []string
		wantAdded     []string // secrets that get exactly one new version
		wantDeploys   int
		wantInDeploys string // every redeploy has it
	}{
		{
			name:   "nothing changed: nothing is created, added or redeployed",
			change: func(*sandbox) []string { return nil },
		},
		{
			name: "a changed client secret file adds one version and redeploys every function pinned to it",
			change: func(s *sandbox) []string {
				s.writeRepo("client_secret.json", webClientJSON(redirectURI, "http://localhost:8080/oauth2callback"))
				return nil
			},
			wantAdded:     []string{clientSecretName},
			wantDeploys:   4,
			wantInDeploys: "--set-secrets=/secrets/oauth/client_secret.json=" + clientSecretName + ":2,COOKIE_SECRET=" + cookieKeyName + ":1 ",
		},
		{
			name:          "--rotate-cookie-key adds one key version and redeploys every function pinned to it",
			change:        func(*sandbox) []string { return []string{"--rotate-cookie-key"} },
			wantAdded:     []string{cookieKeyName},
			wantDeploys:   4,
			wantInDeploys: "--set-secrets=/secrets/oauth/client_secret.json=" + clientSecretName + ":1,COOKIE_SECRET=" + cookieKeyName + ":2 ",
		},
		{
			name: "changed source redeploys every function and touches no secret",
			change: func(s *sandbox) []string {
				s.writeRepo("function.go", "package fixture\n\nconst changed = true\n")
				return nil
			},
			wantDeploys:   4,
			wantInDeploys: "--set-secrets=/secrets/oauth/client_secret.json=" + clientSecretName + ":1,COOKIE_SECRET=" + cookieKeyName + ":1 ",
		},
		{
			name:          "--offline redeploys every function with ACCESS_TYPE=offline",
			change:        func(*sandbox) []string { return []string{"--offline"} },
			wantDeploys:   4,
			wantInDeploys: ",ACCESS_TYPE=offline ",
		},
		{
			name: "a function whose last deploy failed is deployed again, alone",
			change: func(s *sandbox) []string {
				s.writeState("functions/listlabels/state", "FAILED\n")
				return nil
			},
			wantDeploys:   1,
			wantInDeploys: "gcloud functions deploy listlabels ",
		},
		{
			name:          "--max-instances redeploys every function with the new cap",
			change:        func(*sandbox) []string { return []string{"--max-instances=3"} },
			wantDeploys:   4,
			wantInDeploys: " --max-instances=3 ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			s.deploy()
			s.clearLog()
			args := tt.change(s)
			s.deploy(args...)
			log := s.logLines()

			if created := matching(log, " create "); len(created) != 0 {
				t.Errorf("second deploy created %q, want nothing created", created)
			}
			for _, secret := range []string{clientSecretName, cookieKeyName} {
				added := matching(log, "gcloud secrets versions add "+secret+" ")
				want := 0
				if slices.Contains(tt.wantAdded, secret) {
					want = 1
				}
				if len(added) != want {
					t.Errorf("second deploy added %d versions of %s, want %d", len(added), secret, want)
				}
				if got := len(s.secretVersions(secret)); got != 1+want {
					t.Errorf("secret %s has %d versions after the second deploy, want %d", secret, got, 1+want)
				}
			}
			deploys := matching(log, "gcloud functions deploy ")
			if len(deploys) != tt.wantDeploys {
				t.Errorf("second deploy redeployed %d functions, want %d:\n%s", len(deploys), tt.wantDeploys, strings.Join(deploys, "\n"))
			}
			for _, line := range deploys {
				if !strings.Contains(line, tt.wantInDeploys) {
					t.Errorf("redeploy %q lacks %q", line, tt.wantInDeploys)
				}
			}

			s.clearLog()
			// The same settings again, less a rotation: that is a one-off.
			s.deploy(slices.DeleteFunc(args, func(arg string) bool { return arg == "--rotate-cookie-key" })...)
			if changed := changes(s.logLines()); len(changed) != 2 { // the two idempotent IAM bindings
				t.Errorf("a third, identical run changed %q, want only the two secret IAM bindings", changed)
			}
		})
	}
}

// normalizeCommand turns a line of a dry run, or of the stub's log, into a comparable command: no
// prefix, no shown input, no hash value (a dry run cannot know it).
func normalizeCommand(line string) string {
	line = strings.TrimPrefix(line, "+ ")
	if i := strings.Index(line, " < "); i >= 0 {
		line = line[:i]
	}
	line = deployHashLabel.ReplaceAllString(line, "deploy-hash=HASH")
	return strings.ReplaceAll(line, "deploy-hash=<hash>", "deploy-hash=HASH")
}

func shownCommands(stdout string) []string {
	var shown []string
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, "+ ") {
			shown = append(shown, normalizeCommand(line))
		}
	}
	return shown
}

func TestDryRunRunsNoGcloudAndListsTheCommandsOfAFirstDeploy(t *testing.T) {
	t.Parallel()
	dry := newSandbox(t)
	r := dry.deploy("--dry-run")
	if log := dry.logLines(); len(log) != 0 {
		t.Errorf("--dry-run called gcloud, want no call:\n%s", strings.Join(log, "\n"))
	}
	if entries, _ := os.ReadDir(filepath.Join(dry.state, "secrets")); len(entries) != 0 {
		t.Errorf("--dry-run stored %d secrets, want none", len(entries))
	}

	real := newSandbox(t)
	real.deploy()
	var want []string
	for _, line := range real.logLines() {
		want = append(want, normalizeCommand(line))
	}
	if got := shownCommands(r.stdout); !slices.Equal(got, want) {
		t.Errorf("--dry-run listed other commands than a first deploy runs:\n%s",
			lineDiff(strings.Join(want, "\n"), strings.Join(got, "\n")))
	}
	for _, text := range []string{
		"< <(head -c 32 /dev/urandom | base64", // where the cookie key comes from, not a key
		"< ./client_secret.json",
		redirectURI,
		baseURL + "/oauth2init",
	} {
		if !strings.Contains(r.stdout, text) {
			t.Errorf("--dry-run output lacks %q:\n%s", text, r.stdout)
		}
	}
}

func TestDryRunDeleteListsTheDeletesAndRunsNoGcloud(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	r := s.deploy("--dry-run", "--delete")
	if log := s.logLines(); len(log) != 0 {
		t.Errorf("--dry-run --delete called gcloud, want no call:\n%s", strings.Join(log, "\n"))
	}
	if got := changes(shownCommands(r.stdout)); len(got) != 7 {
		t.Errorf("--dry-run --delete listed %d deletes, want 7 (4 functions, 2 secrets, 1 service account):\n%s",
			len(got), strings.Join(got, "\n"))
	}
}

func TestCookieKeyIsRandomAndNeverShown(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	first := s.deploy()
	rotated := s.deploy("--rotate-cookie-key")
	log := strings.Join(s.logLines(), "\n")
	outputs := map[string]string{
		"first deploy stdout": first.stdout, "first deploy stderr": first.stderr,
		"rotation stdout": rotated.stdout, "rotation stderr": rotated.stderr,
		"gcloud log": log,
	}

	keys := s.secretVersions(cookieKeyName)
	if len(keys) != 2 {
		t.Fatalf("cookie key has %d versions after a deploy and a rotation, want 2", len(keys))
	}
	if keys[0] == keys[1] {
		t.Errorf("the rotated cookie key equals the first one, want a fresh random key")
	}
	for i, key := range keys {
		raw, err := base64.StdEncoding.DecodeString(key)
		if err != nil || len(raw) != 32 {
			t.Errorf("cookie key version %d is %q: want standard base64 of 32 bytes, no newline (decoded %d bytes, %v)",
				i+1, key, len(raw), err)
		}
		for name, output := range outputs {
			if strings.Contains(output, key) || (len(raw) > 0 && strings.Contains(output, string(raw))) {
				t.Errorf("%s holds cookie key version %d, want it never shown", name, i+1)
			}
		}
	}
	for name, output := range outputs {
		if strings.Contains(output, clientSecretValue) {
			t.Errorf("%s holds the OAuth client secret, want it never shown", name)
		}
	}
}

func TestDeleteRemovesEverythingAndToleratesWhatIsGone(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.deploy()
	s.clearLog()
	s.deploy("--delete")

	want := []string{}
	for _, name := range functionNames {
		want = append(want, fmt.Sprintf("gcloud functions delete %s --gen2 --region=%s --project=%s --quiet", name, region, project))
	}
	want = append(want,
		fmt.Sprintf("gcloud secrets delete %s --project=%s --quiet", clientSecretName, project),
		fmt.Sprintf("gcloud secrets delete %s --project=%s --quiet", cookieKeyName, project),
		fmt.Sprintf("gcloud iam service-accounts delete %s --project=%s --quiet", serviceAccount, project),
	)
	if got := changes(s.logLines()); !slices.Equal(got, want) {
		t.Errorf("--delete changed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, dir := range []string{"functions", "secrets", "service-accounts"} {
		if entries, _ := os.ReadDir(filepath.Join(s.state, dir)); len(entries) != 0 {
			t.Errorf("after --delete the project still has %d %s, want none", len(entries), dir)
		}
	}

	s.clearLog()
	s.deploy("--delete")
	if got := changes(s.logLines()); len(got) != 0 {
		t.Errorf("a second --delete ran %q, want no delete of what is gone", got)
	}
}

func TestFailsEarlyWithOneClearLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		setup    func(s *sandbox)
		noGcloud bool
		args     []string
		want     []string
	}{
		{
			name:     "gcloud not on PATH",
			noGcloud: true,
			args:     []string{"--project", project, "--region", region},
			want:     []string{"gcloud not found on PATH", "install the Google Cloud CLI"},
		},
		{
			name: "no project in the flags or the gcloud config",
			args: []string{"--region", region},
			want: []string{"no project", "--project", "gcloud config set project"},
		},
		{
			name:  "no region in the flags or the gcloud config",
			setup: func(s *sandbox) { s.setConfig("project", project) },
			want:  []string{"no region", "--region", "gcloud config set functions/region"},
		},
		{
			name: "dry run without a region",
			args: []string{"--dry-run", "--project", project},
			want: []string{"--dry-run runs no gcloud command", "--region"},
		},
		{
			name: "client secret file missing",
			args: []string{"--project", project, "--region", region, "--client-secret", "missing.json"},
			want: []string{"missing.json not found", "--client-secret"},
		},
		{
			name: "client secret of an installed app, not a web client",
			setup: func(s *sandbox) {
				s.writeRepo("client_secret.json", strings.Replace(webClientJSON(redirectURI), `"web"`, `"installed"`, 1))
			},
			args: []string{"--project", project, "--region", region},
			want: []string{"client_secret.json is not", `"Web application"`},
		},
		{
			name: "Gmail API not enabled",
			setup: func(s *sandbox) {
				enabled := slices.DeleteFunc(slices.Clone(requiredAPIs), func(api string) bool { return api == "gmail.googleapis.com" })
				s.writeState("enabled-services", strings.Join(enabled, "\n")+"\n")
			},
			args: []string{"--project", project, "--region", region},
			want: []string{"not enabled", "gcloud services enable gmail.googleapis.com --project=" + project},
		},
		{
			name:  "no API enabled",
			setup: func(s *sandbox) { s.writeState("enabled-services", "") },
			args:  []string{"--project", project, "--region", region},
			want:  []string{"gcloud services enable " + strings.Join(requiredAPIs, " ") + " --project=" + project},
		},
		{
			name:  "client secret file would be uploaded with the source",
			setup: func(s *sandbox) { s.writeState("upload-files", "client_secret.json\nfunction.go\ngo.mod\ngo.sum\n") },
			args:  []string{"--project", project, "--region", region},
			want:  []string{"refusing to deploy", "client_secret.json", ".gcloudignore"},
		},
		{
			name: "unknown flag",
			args: []string{"--frobnicate"},
			want: []string{"unknown argument: --frobnicate"},
		},
		{
			name: "flag without its value",
			args: []string{"--region", region, "--project"},
			want: []string{"--project needs a value"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			if tt.setup != nil {
				tt.setup(s)
			}
			path := s.withBin
			if tt.noGcloud {
				path = s.tools
			}
			r := s.runWithPath(path, tt.args...)
			if r.exitCode == 0 {
				t.Fatalf("deploy.sh %s succeeded, want a failure naming %q:\n%s", strings.Join(tt.args, " "), tt.want, r)
			}
			if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 {
				t.Errorf("stderr has %d lines, want one error line:\n%s", len(lines), r.stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if changed := changes(s.logLines()); len(changed) != 0 {
				t.Errorf("a failing run changed the project with %q, want no change", changed)
			}
		})
	}
}

func TestProjectAndRegionComeFromFlagsElseGcloudConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config bool
		args   []string
	}{
		{name: "gcloud config when no flag is given", config: true},
		{name: "flags over gcloud config", config: true, args: []string{"--project", project, "--region", region}},
		{name: "flags with no gcloud config", args: []string{"--project=" + project, "--region=" + region}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			if tt.config {
				s.setConfig("project", project)
				s.setConfig("functions/region", region)
				if tt.args != nil {
					s.setConfig("project", "other-project")
					s.setConfig("functions/region", "us-east1")
				}
			}
			if r := s.run(tt.args...); r.exitCode != 0 {
				t.Fatalf("deploy.sh failed, want success:\n%s", r)
			}
			deploys := matching(s.logLines(), "gcloud functions deploy ")
			if len(deploys) != 4 {
				t.Fatalf("%d functions deployed, want 4", len(deploys))
			}
			for _, line := range deploys {
				if !strings.Contains(line, " --region="+region+" --project="+project+" ") {
					t.Errorf("deploy %q is not to --region=%s --project=%s", line, region, project)
				}
			}
		})
	}
}

func TestRuntimeIsDerivedFromGoMod(t *testing.T) {
	t.Parallel()
	repoGoMod, err := os.ReadFile(filepath.Join(testhost.RepoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(string(repoGoMod))
	if m == nil {
		t.Fatal("the repository's go.mod has no go line")
	}
	tests := []struct {
		name, goMod, want string
	}{
		{"the repository's go.mod", string(repoGoMod), "go" + m[1] + m[2]},
		{"go 1.26.0", "module x\n\ngo 1.26.0\n", "go126"},
		{"go 1.22 without patch", "module x\n\ngo 1.22\n", "go122"},
		{"toolchain line ignored", "module x\n\ngo 1.23.4\n\ntoolchain go1.25.1\n", "go123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			s.writeRepo("go.mod", tt.goMod)
			r := s.deploy("--dry-run")
			deploys := matching(strings.Split(r.stdout, "\n"), "gcloud functions deploy ")
			if len(deploys) != 4 {
				t.Fatalf("--dry-run listed %d deploys, want 4:\n%s", len(deploys), r.stdout)
			}
			for _, line := range deploys {
				if !strings.Contains(line, " --runtime="+tt.want+" ") {
					t.Errorf("deploy %q lacks --runtime=%s", line, tt.want)
				}
			}
		})
	}

	t.Run("no go line", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t)
		s.writeRepo("go.mod", "module x\n")
		r := s.run("--dry-run", "--project", project, "--region", region)
		if r.exitCode == 0 || !strings.Contains(r.stderr, "go.mod has no 'go 1.N' line") {
			t.Errorf("want a failure naming the missing go line, got:\n%s", r)
		}
	})
}

func TestPrintsTheRedirectURIAndWarnsWhenTheClientLacksIt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		clientJSON  string
		wantWarning bool
	}{
		{"registered", webClientJSON("http://localhost:8080/oauth2callback", redirectURI), false},
		{"registered with escaped slashes", strings.ReplaceAll(webClientJSON(redirectURI), "/", `\/`), false},
		{"not registered", webClientJSON("http://localhost:8080/oauth2callback"), true},
		{"no redirect URI at all", webClientJSON(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			s.writeRepo("client_secret.json", tt.clientJSON)
			r := s.deploy()
			for _, want := range []string{"redirect URI", redirectURI, baseURL + "/oauth2init"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			warned := strings.Contains(r.stderr, "warning: ./client_secret.json does not list "+redirectURI)
			if warned != tt.wantWarning {
				t.Errorf("warned about the redirect URI: %v, want %v\nstderr:\n%s", warned, tt.wantWarning, r.stderr)
			}
		})
	}
}

func TestHelpExitsZeroAndMentionsEveryFlag(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	r := s.runWithPath(s.tools, "--help")
	if r.exitCode != 0 {
		t.Fatalf("--help failed, want exit 0:\n%s", r)
	}
	script, err := os.ReadFile(filepath.Join(testhost.RepoRoot(t), "deploy.sh"))
	if err != nil {
		t.Fatal(err)
	}
	// Every option that parse_args accepts, as written in its case labels.
	parsed := regexp.MustCompile(`(?m)^\s+(-h \| )?(--[a-z-]+)\)`).FindAllStringSubmatch(string(script), -1)
	if len(parsed) < 9 {
		t.Fatalf("found %d options in deploy.sh's parse_args, want at least 9: has its layout changed?", len(parsed))
	}
	for _, m := range parsed {
		if !strings.Contains(r.stdout, m[2]) {
			t.Errorf("--help does not mention %s:\n%s", m[2], r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "signs everyone out") {
		t.Errorf("--help does not say that --rotate-cookie-key signs everyone out:\n%s", r.stdout)
	}
}

func TestScriptsPassShellcheck(t *testing.T) {
	t.Parallel()
	shellcheck, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("shellcheck is not installed: CI must install it (Debian package shellcheck)")
		}
		t.Skip("shellcheck is not installed: apt-get install shellcheck")
	}
	for _, script := range []string{filepath.Join(testhost.RepoRoot(t), "deploy.sh"), filepath.Join("testdata", "gcloud")} {
		if out, err := exec.Command(shellcheck, script).CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s: %v, want no finding:\n%s", script, err, out)
		}
	}
}

// gcloud reads .gcloudignore with gitignore's syntax, so git's own matcher checks the file here.
func TestGcloudignoreUploadsTheFunctionAndNothingElse(t *testing.T) {
	t.Parallel()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed; it is the reference matcher for .gcloudignore's syntax")
	}
	uploaded := []string{
		"go.mod", "go.sum", "function.go", "signout.go",
		"internal/session/session.go", "internal/pages/pages.go",
		"internal/pages/templates/layout.html", "internal/pages/templates/style.css",
	}
	ignored := []string{
		".gcloudignore", ".gitignore", ".ci/run", ".github/workflows/ci.yml",
		"function_test.go", "internal/session/store_test.go", "internal/pages/testdata/page.golden",
		"cmd/main.go", "internal/fakegoogle/fakegoogle.go", "internal/deploycheck/doc.go",
		"client_secret.json", "client_secret_1234-abc.apps.googleusercontent.com.json",
		"client_secret.json.example", "server.pem", "tls.key", "sa.p12", ".env", ".env.local",
		"deploy.sh", "README.md", "artifacts/report.txt", "cover.out", "cpu.prof", "deploycheck.test",
		"test.sh", "scripts/coldstart.sh", "internal/coldstart/hello/main.go", "internal/browsertest/doc.go", "internal/testhost/testhost.go",
		"serverless_function_source_code/go.mod",
	}
	dir := t.TempDir()
	gitRun := func(args ...string) (string, error) {
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		cmd.Env = []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1", "PATH=" + os.Getenv("PATH")}
		out, err := cmd.Output()
		return string(out), err
	}
	if _, err := gitRun("init", "-q"); err != nil {
		t.Fatalf("git init: %v", err)
	}
	for _, name := range append(slices.Clone(uploaded), ignored...) {
		writeFile(t, filepath.Join(dir, name), "x\n")
	}
	copyFile(t, filepath.Join(testhost.RepoRoot(t), ".gcloudignore"), filepath.Join(dir, ".gitignore"), 0o644)
	out, err := gitRun(append([]string{"check-ignore", "--no-index", "--"}, append(slices.Clone(uploaded), ignored...)...)...)
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("git check-ignore: %v", err)
	}
	matched := strings.Split(strings.TrimSpace(out), "\n")
	for _, name := range uploaded {
		if slices.Contains(matched, name) {
			t.Errorf(".gcloudignore leaves %s behind, want it uploaded", name)
		}
	}
	for _, name := range ignored {
		if !slices.Contains(matched, name) {
			t.Errorf(".gcloudignore uploads %s, want it left behind", name)
		}
	}
}

// .gcloudignore leaves cmd/, internal/fakegoogle and internal/deploycheck behind: the build of the
// function package breaks if it comes to import one of them.
func TestFunctionPackageImportsNoPackageLeftBehind(t *testing.T) {
	t.Parallel()
	root := testhost.RepoRoot(t)
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(goMod)
	if m == nil {
		t.Fatal("go.mod has no module line")
	}
	module := string(m[1])
	leftBehind := []string{"cmd", "internal/fakegoogle", "internal/deploycheck"}

	seen := map[string]bool{}
	var visit func(rel, from string)
	visit = func(rel, from string) {
		if seen[rel] {
			return
		}
		seen[rel] = true
		for _, excluded := range leftBehind {
			if rel == excluded || strings.HasPrefix(rel, excluded+"/") {
				t.Errorf("%s imports %s/%s, which .gcloudignore leaves behind", from, module, rel)
			}
		}
		files, _ := filepath.Glob(filepath.Join(root, rel, "*.go"))
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Errorf("parsing %s: %v", file, err)
				continue
			}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if dep, ok := strings.CutPrefix(path, module+"/"); ok {
					visit(dep, filepath.Join(rel, filepath.Base(file)))
				}
			}
		}
	}
	if files, _ := filepath.Glob(filepath.Join(root, "*.go")); len(files) == 0 {
		t.Skip("no function package at the repository root yet")
	}
	visit(".", "the function package")
}
