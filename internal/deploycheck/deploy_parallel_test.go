package deploycheck

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// deployTime is one deploy as the stub timed it.
type deployTime struct {
	name       string
	start, end float64 // seconds since the epoch
}

func (s *sandbox) deployTimes() []deployTime {
	s.t.Helper()
	var times []deployTime
	for _, line := range readLines(s.t, s.state+"/deploy-times") {
		fields := strings.Fields(line)
		if len(fields) != 3 {
			s.t.Fatalf("the stub recorded the deploy time %q, want NAME START END", line)
		}
		start, err1 := strconv.ParseFloat(fields[1], 64)
		end, err2 := strconv.ParseFloat(fields[2], 64)
		if err1 != nil || err2 != nil {
			s.t.Fatalf("the stub recorded the deploy time %q, want seconds", line)
		}
		times = append(times, deployTime{fields[0], start, end})
	}
	return times
}

// tableRow matches a row of the summary table: function, result, URL, and the check from outside.
var tableRow = regexp.MustCompile(`(?m)^(\S+)\s+(deployed|unchanged|failed|dry run|made public|private)\s+(https://\S+)\s+(\S.*)$`)

func summaryTable(stdout string) map[string][2]string {
	rows := map[string][2]string{}
	for _, m := range tableRow.FindAllStringSubmatch(stdout, -1) {
		rows[m[1]] = [2]string{m[2], m[3]}
	}
	return rows
}

// summaryChecks returns the check column of the summary table, by function.
func summaryChecks(stdout string) map[string]string {
	checks := map[string]string{}
	for _, m := range tableRow.FindAllStringSubmatch(stdout, -1) {
		checks[m[1]] = m[4]
	}
	return checks
}

// overlapping reports whether every deploy of times started before any of them ended.
func overlapping(times []deployTime) bool {
	lastStart, firstEnd := times[0].start, times[0].end
	for _, d := range times {
		lastStart, firstEnd = max(lastStart, d.start), min(firstEnd, d.end)
	}
	return lastStart < firstEnd
}

// The first deploy of functions in a project and region creates the gcf-artifacts repository, and
// deploys that create it at once can fail (the stub fails them as Cloud Functions does): while no
// function of the app exists, the first one deploys alone.
func TestFunctionsDeployConcurrentlyUnlessSequential(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		redeploy bool // the functions exist, and the source changed
		// want is how the deploys ran: "first alone, then the others at once", "all at once",
		// or "one after the other".
		want string
	}{
		{name: "a first deploy: the first function alone, then the others at once", want: "first alone, then the others at once"},
		{name: "a redeploy: all at once", redeploy: true, want: "all at once"},
		{name: "--sequential: one after the other", args: []string{"--sequential"}, want: "one after the other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			if tt.redeploy {
				s.deploy()
				s.removeState("deploy-times")
				s.writeRepo("function.go", "package fixture\n\nconst changed = true\n")
			}
			s.env = append(s.env, "GCLOUD_STUB_DEPLOY_DELAY=1")
			r := s.deploy(tt.args...)

			times := s.deployTimes()
			if len(times) != len(functionNames) {
				t.Fatalf("the stub timed %d deploys, want %d", len(times), len(functionNames))
			}
			slices.SortFunc(times, func(a, b deployTime) int { return int((a.start - b.start) * 1e6) })
			switch tt.want {
			case "all at once":
				if !overlapping(times) {
					t.Errorf("the deploys did not all overlap, want all at once: %+v", times)
				}
			case "first alone, then the others at once":
				if times[0].name != functionNames[0] {
					t.Errorf("%s deployed first, want %s, the first function of the runner's list", times[0].name, functionNames[0])
				}
				for _, d := range times[1:] {
					if d.start < times[0].end {
						t.Errorf("%s started before %s, the first deploy, ended", d.name, times[0].name)
					}
				}
				if len(times) > 2 && !overlapping(times[1:]) {
					t.Errorf("the deploys after the first did not all overlap, want them at once: %+v", times[1:])
				}
			case "one after the other":
				for i := 1; i < len(times); i++ {
					if times[i].start < times[i-1].end {
						t.Errorf("--sequential: %s started before %s ended", times[i].name, times[i-1].name)
					}
				}
			}

			// Each function's output is prefixed with its name, so that interleaved lines stay readable.
			for _, name := range functionNames {
				want := "[" + name + "] + gcloud functions deploy " + name + " "
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			rows := summaryTable(r.stdout)
			for _, name := range functionNames {
				if got, want := rows[name], [2]string{"deployed", baseURL + "/" + name}; got != want {
					t.Errorf("the summary table says %q for %s, want %q:\n%s", got, name, want, r.stdout)
				}
			}
		})
	}
}

// Without the first deploy alone, the stub's deploys race to create the repository as Cloud
// Functions' do, and some fail: this is what the order above prevents. Here a function of the app
// exists but the repository does not (as the stub plays it), so deploy.sh deploys all at once.
func TestStubFailsFirstDeploysThatRaceToCreateTheRepository(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.env = append(s.env, "GCLOUD_STUB_DEPLOY_DELAY=1")
	s.addForeignFunction(functionNames[0], region)
	r := s.run("--project", project, "--region", region)
	if r.exitCode == 0 {
		t.Fatalf("deploy.sh deployed every function at once on a project without the repository, want the stub to fail all but one:\n%s", r)
	}
	if !strings.Contains(r.stderr, "Unable to retrieve the repository metadata") {
		t.Errorf("stderr lacks the stub's failure of a racing deploy:\n%s", r.stderr)
	}
}

func TestAFailedDeployIsNamedAfterTheOthersFinish(t *testing.T) {
	t.Parallel()
	failing := functionNames[len(functionNames)/2]
	s := newSandbox(t)
	s.deploy()
	s.writeRepo("function.go", "package fixture\n\nconst changed = true\n")
	s.writeState("deploy-failures/"+failing, "Build failed: go build: exit status 1")
	// The others take a second each: deploy.sh must wait for them before it exits.
	s.env = append(s.env, "GCLOUD_STUB_DEPLOY_DELAY=1")
	before := map[string]string{}
	for _, name := range functionNames {
		before[name] = s.readState("functions/" + name + "/deploy-hash")
	}
	r := s.run("--project", project, "--region", region)
	if r.exitCode == 0 {
		t.Fatalf("deploy.sh succeeded though the deploy of %s failed:\n%s", failing, r)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "error: the deploy of "+failing+" failed") {
		t.Errorf("the last line of stderr does not name %s as failed:\n%s", failing, last)
	}
	if !strings.Contains(r.stderr, "["+failing+"] ERROR: (gcloud.functions.deploy) Build failed") {
		t.Errorf("stderr lacks gcloud's error, prefixed with the function's name:\n%s", r.stderr)
	}
	rows := summaryTable(r.stdout)
	for _, name := range functionNames {
		want, changed := "deployed", true
		if name == failing {
			want, changed = "failed", false
		}
		if rows[name][0] != want {
			t.Errorf("the summary table says %q for %s, want %q:\n%s", rows[name][0], name, want, r.stdout)
		}
		if now := s.readState("functions/" + name + "/deploy-hash"); (now != before[name]) != changed {
			t.Errorf("%s redeployed by the time deploy.sh exited: %v, want %v", name, now != before[name], changed)
		}
	}
}

// TestMeasureDeployTime measures a first deploy with the functions deployed all at once and one at
// a time, each deploy taking DEPLOY_STUB_DELAY seconds in the stub. It runs only when that is set:
//
//	DEPLOY_STUB_DELAY=5 go test -count=1 -v -run TestMeasureDeployTime ./internal/deploycheck/
func TestMeasureDeployTime(t *testing.T) {
	delay := os.Getenv("DEPLOY_STUB_DELAY")
	if delay == "" {
		t.Skip("set DEPLOY_STUB_DELAY (seconds per deploy) to measure")
	}
	measure := func(args ...string) time.Duration {
		s := newSandbox(t)
		s.env = append(s.env, "GCLOUD_STUB_DEPLOY_DELAY="+delay)
		r := s.deploy(args...)
		if got := len(s.deployTimes()); got != len(functionNames) {
			t.Fatalf("%d deploys, want %d", got, len(functionNames))
		}
		return r.elapsed
	}
	sequential := measure("--sequential")
	concurrent := measure()
	t.Logf("%d functions, %ss per deploy: --sequential %.1fs, all at once %.1fs (%.1fx faster)",
		len(functionNames), delay, sequential.Seconds(), concurrent.Seconds(), sequential.Seconds()/concurrent.Seconds())
	if concurrent >= sequential {
		t.Errorf("deploying all at once took %v, --sequential %v: want it faster", concurrent, sequential)
	}
}
