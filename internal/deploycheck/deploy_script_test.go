package deploycheck

import (
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

func TestFirstDeployRunsTheExpectedGcloudCommands(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.deploy()
	got := strings.Join(oneFunctionBlock(t, inFunctionOrder(s.logLines())), "\n") + "\n"
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

// oneFunctionBlock replaces the calls made for each function (describe, then deploy) by one block
// for a function named FUNCTION, after checking that every function of the app had that block
// and nothing else, so that the golden file holds no list of functions: adding one changes it not.
func oneFunctionBlock(t *testing.T, lines []string) []string {
	t.Helper()
	var out, block []string
	blocks := map[string][]string{}
	for _, line := range lines {
		name := functionJobOf(line)
		if name == "" {
			out = append(out, line)
			continue
		}
		if len(blocks) == 0 {
			out = append(out, "<block>")
		}
		ownName := regexp.MustCompile(`(functions (?:describe|deploy) |services (?:get-iam-policy|add-iam-policy-binding) |--entry-point=)` + regexp.QuoteMeta(name) + `\b`)
		line = ownName.ReplaceAllString(line, "${1}FUNCTION")
		blocks[name] = append(blocks[name], deployHashLabel.ReplaceAllString(line, "deploy-hash=HASH"))
	}
	for i, name := range functionNames {
		if i == 0 {
			block = blocks[name]
		} else if !slices.Equal(blocks[name], block) {
			t.Errorf("the calls for %s differ from those for %s:\n%s", name, functionNames[0], lineDiff(strings.Join(block, "\n"), strings.Join(blocks[name], "\n")))
		}
	}
	if len(blocks) != len(functionNames) {
		t.Errorf("calls were made for %d functions, want the app's %d (%v)", len(blocks), len(functionNames), functionNames)
	}
	if i := slices.Index(out, "<block>"); i >= 0 {
		out = slices.Replace(out, i, i+1, block...)
	}
	return out
}

func TestSecondDeployChangesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	all := len(functionNames)
	tests := []struct {
		name string
		// change alters the sandbox after a first deploy and returns the flags of the second.
		change        func(s *sandbox) []string
		wantAdded     []string // secrets that get exactly one new version
		wantDeploys   int
		wantInDeploys string // every redeploy has it
	}{
		{
			name:   "nothing changed: nothing is created, added, granted or redeployed",
			change: func(*sandbox) []string { return nil },
		},
		{
			name: "a changed client secret file adds one version and redeploys every function pinned to it",
			change: func(s *sandbox) []string {
				s.writeRepo("client_secret.json", webClientJSON(redirectURI, "http://localhost:8080/oauth2callback"))
				return nil
			},
			wantAdded:     []string{clientSecretName},
			wantDeploys:   all,
			wantInDeploys: "--set-secrets=/secrets/oauth/client_secret.json=" + clientSecretName + ":2,COOKIE_SECRET=" + cookieKeyName + ":1 ",
		},
		{
			name: "--rotate-cookie-key adds one key version and redeploys every function with it and the previous one",
			change: func(s *sandbox) []string {
				s.ageCookieKey(49 * time.Hour)
				return []string{"--rotate-cookie-key"}
			},
			wantAdded:     []string{cookieKeyName},
			wantDeploys:   all,
			wantInDeploys: "--set-secrets=/secrets/oauth/client_secret.json=" + clientSecretName + ":1,COOKIE_SECRET=" + cookieKeyName + ":2,COOKIE_SECRET_PREVIOUS=" + cookieKeyName + ":1 ",
		},
		{
			name: "changed source redeploys every function and touches no secret",
			change: func(s *sandbox) []string {
				s.writeRepo("function.go", "package fixture\n\nconst changed = true\n")
				return nil
			},
			wantDeploys:   all,
			wantInDeploys: "--set-secrets=/secrets/oauth/client_secret.json=" + clientSecretName + ":1,COOKIE_SECRET=" + cookieKeyName + ":1 ",
		},
		{
			name:          "--offline redeploys every function with ACCESS_TYPE=offline",
			change:        func(*sandbox) []string { return []string{"--offline"} },
			wantDeploys:   all,
			wantInDeploys: ",ACCESS_TYPE=offline ",
		},
		{
			name: "a function whose last deploy failed is deployed again, alone",
			change: func(s *sandbox) []string {
				s.writeState("functions/"+functionNames[len(functionNames)-1]+"/state", "FAILED\n")
				return nil
			},
			wantDeploys:   1,
			wantInDeploys: "gcloud functions deploy " + functionNames[len(functionNames)-1] + " ",
		},
		{
			name:          "--max-instances redeploys every function with the new cap",
			change:        func(*sandbox) []string { return []string{"--max-instances=3"} },
			wantDeploys:   all,
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
			if granted := matching(log, "-iam-policy-binding "); len(granted) != 0 {
				t.Errorf("second deploy changed IAM policies with %q, want no change", granted)
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
			if sleeps := s.sleeps(); len(sleeps) != 0 {
				t.Errorf("second deploy slept %v seconds, want no wait: it created no account and granted no role", sleeps)
			}

			s.clearLog()
			// The same settings again, less a rotation: that is a one-off.
			s.deploy(slices.DeleteFunc(args, func(arg string) bool { return arg == "--rotate-cookie-key" })...)
			if changed := changes(s.logLines()); len(changed) != 0 {
				t.Errorf("a third, identical run changed %q, want no change", changed)
			}
		})
	}
}

// normalizeCommand turns a line of a dry run, or of the stub's log, into a comparable command: no
// prefix, no shown input, no hash value (a dry run cannot know it), and the dry run's stand-in for
// the active account.
func normalizeCommand(line string) string {
	line = strings.TrimPrefix(line, "+ ")
	if i := strings.Index(line, " < "); i >= 0 {
		line = line[:i]
	}
	line = deployHashLabel.ReplaceAllString(line, "deploy-hash=HASH")
	line = strings.ReplaceAll(line, deployer, "ACCOUNT")
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

// A dry run shows what a real run would run: that of a first deploy, or with --rotate-cookie-key
// or --delete, that of a run on a project where the app is deployed.
func TestDryRunListsTheCommandsOfARealRunAndRunsNone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		args         []string
		deployedOnce bool // the real run happens after a first deploy
		wantShown    []string
	}{
		{
			name: "first deploy",
			wantShown: []string{
				"< <(head -c 32 /dev/urandom | base64", // where the cookie key comes from, not a key
				"< ./client_secret.json",
				"gcloud iam service-accounts create gcf-oauth-gmail-build ",
				"--build-service-account=projects/" + project + "/serviceAccounts/" + buildAccount + " ",
				redirectURI,
				baseURL + "/oauth2init",
			},
		},
		{
			name:         "rotation",
			args:         []string{"--rotate-cookie-key"},
			deployedOnce: true,
			wantShown: []string{
				"gcloud secrets versions add " + cookieKeyName + " --data-file=- --project=" + project + " < <(head -c 32",
				",COOKIE_SECRET=" + cookieKeyName + ":2,COOKIE_SECRET_PREVIOUS=" + cookieKeyName + ":1 ",
			},
		},
		{
			name:         "delete",
			args:         []string{"--delete"},
			deployedOnce: true,
			wantShown:    []string{"gcloud iam service-accounts delete " + buildAccount + " "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dry := newSandbox(t)
			before, _ := os.ReadDir(dry.state)
			r := dry.deploy(append([]string{"--dry-run"}, tt.args...)...)
			if log := dry.logLines(); len(log) != 0 {
				t.Errorf("--dry-run called gcloud, want no call:\n%s", strings.Join(log, "\n"))
			}
			if after, _ := os.ReadDir(dry.state); len(after) != len(before) {
				t.Errorf("--dry-run changed the project: it holds %d entries, had %d", len(after), len(before))
			}

			real := newSandbox(t)
			if tt.deployedOnce {
				real.deploy()
				real.ageCookieKey(49 * time.Hour)
				real.clearLog()
			}
			real.deploy(tt.args...)
			var want []string
			for _, line := range inFunctionOrder(real.logLines()) {
				want = append(want, normalizeCommand(line))
			}
			if got := shownCommands(r.stdout); !slices.Equal(got, want) {
				t.Errorf("--dry-run %s listed other commands than a real run runs:\n%s", strings.Join(tt.args, " "),
					lineDiff(strings.Join(want, "\n"), strings.Join(got, "\n")))
			}
			for _, text := range tt.wantShown {
				if !strings.Contains(r.stdout, text) {
					t.Errorf("--dry-run output lacks %q:\n%s", text, r.stdout)
				}
			}
		})
	}
}

func TestDryRunDeleteListsTheDeletesAndRunsNoGcloud(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	r := s.deploy("--dry-run", "--delete")
	if log := s.logLines(); len(log) != 0 {
		t.Errorf("--dry-run --delete called gcloud, want no call:\n%s", strings.Join(log, "\n"))
	}
	// Every function, the two secrets, the build account's roles and the two accounts.
	want := len(functionNames) + 2 + len(buildRoles) + 2
	if got := changes(shownCommands(r.stdout)); len(got) != want {
		t.Errorf("--dry-run --delete listed %d deletes, want %d (every function, 2 secrets, %d roles, 2 service accounts):\n%s",
			len(got), want, len(buildRoles), strings.Join(got, "\n"))
	}
}

func TestCookieKeyIsRandomAndNeverShown(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	first := s.deploy()
	s.ageCookieKey(49 * time.Hour)
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
	)
	for _, role := range buildRoles {
		want = append(want, fmt.Sprintf("gcloud projects remove-iam-policy-binding %s --member=serviceAccount:%s --role=%s --condition=None --format=none",
			project, buildAccount, role))
	}
	want = append(want,
		fmt.Sprintf("gcloud iam service-accounts delete %s --project=%s --quiet", buildAccount, project),
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
	if bindings := strings.TrimSpace(s.readState("project-bindings")); bindings != "" {
		t.Errorf("after --delete the project's IAM policy still has:\n%s\nwant none of the app's bindings", bindings)
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
		name  string
		setup func(s *sandbox)
		path  func(s *sandbox) string // the PATH, when not every stub
		args  []string
		want  []string
	}{
		{
			name: "gcloud not on PATH",
			path: func(s *sandbox) string { return s.withoutGcl },
			args: []string{"--project", project, "--region", region},
			want: []string{"gcloud not found on PATH", "install the Google Cloud CLI"},
		},
		{
			name: "go not on PATH",
			path: func(s *sandbox) string { return s.withoutGo },
			args: []string{"--project", project, "--region", region},
			want: []string{"go not found on PATH", "go run ./cmd -functions", "install Go"},
		},
		{
			name: "go not on PATH, in a dry run",
			path: func(s *sandbox) string { return s.withoutGo },
			args: []string{"--dry-run", "--project", project, "--region", region},
			want: []string{"go not found on PATH"},
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
			name:  "the runner lists a name Cloud Functions refuses",
			setup: func(s *sandbox) { s.setFunctions(append(slices.Clone(functionLines), "Bad_Name")...) },
			args:  []string{"--project", project, "--region", region},
			want:  []string{`"Bad_Name"`, "not a valid Cloud Functions name"},
		},
		{
			name:  "the runner lists no function",
			setup: func(s *sandbox) { s.setFunctions() },
			args:  []string{"--project", project, "--region", region},
			want:  []string{"go run ./cmd -functions' listed no function"},
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
			if tt.path != nil {
				path = tt.path(s)
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

// The list of functions is the runner's: adding one to the Go package is all it takes for deploy.sh
// to deploy it, and to delete it.
func TestFunctionsAreTheRunnersList(t *testing.T) {
	t.Parallel()
	const added = "digest"
	s := newSandbox(t)
	s.setFunctions(append(slices.Clone(functionLines), added)...)
	r := s.deploy()
	want := append(slices.Clone(functionNames), added)
	var deployed []string
	for _, line := range matching(s.logLines(), "gcloud functions deploy ") {
		deployed = append(deployed, functionJobOf(line))
	}
	slices.Sort(deployed)
	slices.Sort(want)
	if !slices.Equal(deployed, want) {
		t.Errorf("deploy.sh deployed %q, want every function the runner lists: %q", deployed, want)
	}
	if !strings.Contains(r.stdout, baseURL+"/"+added) {
		t.Errorf("the summary lacks the URL of %s:\n%s", added, r.stdout)
	}
	if got := readLines(t, s.goLog); !slices.Equal(got, []string{"go run ./cmd -functions"}) {
		t.Errorf("deploy.sh ran go as %q, want go run ./cmd -functions once per run", got)
	}

	s.clearLog()
	s.deploy("--delete")
	if deletes := matching(s.logLines(), "gcloud functions delete "+added+" "); len(deletes) != 1 {
		t.Errorf("--delete did not delete %s, a function of the runner's list:\n%s", added, strings.Join(s.logLines(), "\n"))
	}
	if left := s.deployedFunctions(); len(left) != 0 {
		t.Errorf("after --delete the project still has the functions %q", left)
	}
}

func TestFailsWhenTheRunnerDoesNotBuild(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	if err := os.Remove(s.functions); err != nil { // the stub go then fails as a broken build would
		t.Fatal(err)
	}
	r := s.run("--project", project, "--region", region)
	if r.exitCode == 0 {
		t.Fatalf("deploy.sh succeeded with a runner that does not build, want a failure:\n%s", r)
	}
	for _, want := range []string{"cmd/main.go:1:1", "'go run ./cmd -functions' failed"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q (the build's error, then deploy.sh's):\n%s", want, r.stderr)
		}
	}
	if changed := changes(s.logLines()); len(changed) != 0 {
		t.Errorf("a failing run changed the project with %q, want no change", changed)
	}
}

// The real script in the real repository, with the real go: its dry run deploys exactly what the
// runner lists.
func TestRepositoryDryRunDeploysEveryFunctionOfTheRunner(t *testing.T) {
	t.Parallel()
	root := testhost.RepoRoot(t)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	bin := t.TempDir() // go and the tools, but no gcloud
	if err := os.Symlink(goTool, filepath.Join(bin, "go")); err != nil {
		t.Fatal(err)
	}
	for _, name := range tools {
		if path, err := exec.LookPath(name); err == nil {
			if err := os.Symlink(path, filepath.Join(bin, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	goEnv := func(name string) string {
		out, err := exec.Command(goTool, "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return name + "=" + strings.TrimSpace(string(out))
	}
	cmd := exec.Command("bash", filepath.Join(root, "deploy.sh"), "--dry-run", "--project", project, "--region", region,
		"--client-secret", filepath.Join(testhost.RepoRoot(t), "internal", "deploycheck", "testdata", "web-client.json"))
	cmd.Dir = t.TempDir()
	cmd.Env = []string{
		"PATH=" + bin, "HOME=" + t.TempDir(), "LC_ALL=C",
		goEnv("GOCACHE"), goEnv("GOMODCACHE"), goEnv("GOPATH"),
		"GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS=-mod=mod",
	}
	out, err := cmd.Output()
	var stderr []byte
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		stderr = exit.Stderr
	}
	if err != nil {
		t.Fatalf("deploy.sh --dry-run in the repository: %v\n%s\n%s", err, out, stderr)
	}
	var deployed []string
	for _, line := range strings.Split(string(out), "\n") {
		if name := functionJobOf(line); name != "" && strings.HasPrefix(line, "+ gcloud functions deploy ") {
			deployed = append(deployed, name)
		}
	}
	if !slices.Equal(deployed, functionNames) {
		t.Errorf("deploy.sh --dry-run deploys %q, want the runner's functions %q, in its order:\n%s", deployed, functionNames, out)
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
			if len(deploys) != len(functionNames) {
				t.Fatalf("%d functions deployed, want %d", len(deploys), len(functionNames))
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
			if len(deploys) != len(functionNames) {
				t.Fatalf("--dry-run listed %d deploys, want %d:\n%s", len(deploys), len(functionNames), r.stdout)
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
	if len(parsed) < 11 {
		t.Fatalf("found %d options in deploy.sh's parse_args, want at least 11: has its layout changed?", len(parsed))
	}
	for _, m := range parsed {
		if !strings.Contains(r.stdout, m[2]) {
			t.Errorf("--help does not mention %s:\n%s", m[2], r.stdout)
		}
	}
	for _, want := range []string{"every function of the app (go run ./cmd -functions)", "signs nobody out"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--help lacks %q:\n%s", want, r.stdout)
		}
	}
	// A list of the functions in the help would go stale when one is added.
	for _, name := range functionNames {
		if regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`).MatchString(r.stdout) {
			t.Errorf("--help names the function %s, want no list of functions (it would go stale):\n%s", name, r.stdout)
		}
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
	for _, script := range []string{
		filepath.Join(testhost.RepoRoot(t), "deploy.sh"),
		filepath.Join("testdata", "gcloud"), filepath.Join("testdata", "go.sh"), filepath.Join("testdata", "sleep.sh"),
		filepath.Join("testdata", "curl.sh"),
	} {
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
