package deploycheck

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// mountedCookieKeys returns the cookie key versions a deployed function mounts, as
// COOKIE_SECRET and COOKIE_SECRET_PREVIOUS ("" for none).
func (s *sandbox) mountedCookieKeys(function string) (current, previous string) {
	s.t.Helper()
	for _, ref := range strings.Split(strings.TrimSpace(s.readState(filepath.Join("functions", function, "secrets"))), ",") {
		target, secretRef, _ := strings.Cut(ref, "=")
		secret, version, _ := strings.Cut(secretRef, ":")
		if secret != cookieKeyName {
			continue
		}
		switch target {
		case "COOKIE_SECRET":
			current = version
		case "COOKIE_SECRET_PREVIOUS":
			previous = version
		default:
			s.t.Errorf("%s mounts the cookie key as %s, want only COOKIE_SECRET and COOKIE_SECRET_PREVIOUS", function, target)
		}
	}
	return current, previous
}

// Rotating the cookie key keeps the key before it, so nobody is signed out; versions no function
// mounts any more are disabled once every function runs without them.
func TestCookieKeyRotation(t *testing.T) {
	t.Parallel()
	last := functionNames[len(functionNames)-1]
	type step struct {
		name         string
		before       func(s *sandbox)
		args         []string
		wantFail     string // in stderr, when the run is to fail
		wantCurrent  string // on every function that deployed
		wantPrevious string
		wantStates   []string // of the key's versions, oldest first
		wantDeploys  int
	}
	all := len(functionNames)
	scenarios := []struct {
		name  string
		steps []step
	}{
		{
			name: "rotations, a redeploy the day after, and a leaked key destroyed",
			steps: []step{
				{
					name:        "first deploy: one key",
					wantCurrent: "1", wantStates: []string{"ENABLED"}, wantDeploys: all,
				},
				{
					name: "rotation: a new key, and the one before it as the previous key",
					args: []string{"--rotate-cookie-key"}, wantCurrent: "2", wantPrevious: "1",
					wantStates: []string{"ENABLED", "ENABLED"}, wantDeploys: all,
				},
				{
					name:        "a deploy the day after keeps both, and redeploys nothing",
					wantCurrent: "2", wantPrevious: "1", wantStates: []string{"ENABLED", "ENABLED"},
				},
				{
					name: "second rotation: the first key is no longer mounted, and is disabled",
					args: []string{"--rotate-cookie-key"}, wantCurrent: "3", wantPrevious: "2",
					wantStates: []string{"DISABLED", "ENABLED", "ENABLED"}, wantDeploys: all,
				},
				{
					name:        "the previous key destroyed after a leak: the next deploy stops mounting it",
					before:      func(s *sandbox) { s.writeState("secrets/"+cookieKeyName+"/states/2", "DESTROYED\n") },
					wantCurrent: "3", wantStates: []string{"DISABLED", "DESTROYED", "ENABLED"}, wantDeploys: all,
				},
			},
		},
		{
			name: "a rotation whose deploy fails disables nothing until a run without the flag finishes it",
			steps: []step{
				{name: "first deploy", wantCurrent: "1", wantStates: []string{"ENABLED"}, wantDeploys: all},
				{
					name: "rotation", args: []string{"--rotate-cookie-key"}, wantCurrent: "2", wantPrevious: "1",
					wantStates: []string{"ENABLED", "ENABLED"}, wantDeploys: all,
				},
				{
					name:     "rotation with a failing deploy: the first key stays enabled, since one function still mounts it",
					before:   func(s *sandbox) { s.writeState("deploy-failures/"+last, "Build failed\n") },
					args:     []string{"--rotate-cookie-key"},
					wantFail: "run ./deploy.sh again without --rotate-cookie-key to finish the rotation",
					// The other functions deployed.
					wantCurrent: "3", wantPrevious: "2",
					wantStates: []string{"ENABLED", "ENABLED", "ENABLED"}, wantDeploys: all,
				},
				{
					name:        "the run that finishes it: the failed function deploys, and the first key is disabled",
					before:      func(s *sandbox) { s.removeState("deploy-failures/" + last) },
					wantCurrent: "3", wantPrevious: "2",
					wantStates: []string{"DISABLED", "ENABLED", "ENABLED"}, wantDeploys: 1,
				},
			},
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			for _, st := range sc.steps {
				if st.before != nil {
					st.before(s)
				}
				s.clearLog()
				r := s.run(append([]string{"--project", project, "--region", region}, st.args...)...)
				if st.wantFail != "" {
					if r.exitCode == 0 || !strings.Contains(r.stderr, st.wantFail) {
						t.Fatalf("%s: want a failure saying %q, got:\n%s", st.name, st.wantFail, r)
					}
				} else if r.exitCode != 0 {
					t.Fatalf("%s: deploy.sh failed, want success:\n%s", st.name, r)
				}
				log := s.logLines()
				if deploys := matching(log, "gcloud functions deploy "); len(deploys) != st.wantDeploys {
					t.Errorf("%s: %d deploys, want %d", st.name, len(deploys), st.wantDeploys)
				}
				for _, name := range functionNames {
					if st.wantFail != "" && name == last {
						continue
					}
					current, previous := s.mountedCookieKeys(name)
					if current != st.wantCurrent || previous != st.wantPrevious {
						t.Errorf("%s: %s mounts cookie key %q and previous %q, want %q and %q",
							st.name, name, current, previous, st.wantCurrent, st.wantPrevious)
					}
				}
				if got := s.versionStates(cookieKeyName); !slices.Equal(got, st.wantStates) {
					t.Errorf("%s: cookie key versions are %q, want %q", st.name, got, st.wantStates)
				}
				// A version is disabled only after every deploy: until then a running function may mount it.
				disabled := slices.IndexFunc(log, func(line string) bool { return strings.Contains(line, " versions disable ") })
				lastDeploy := -1
				for i, line := range log {
					if strings.Contains(line, "gcloud functions deploy ") {
						lastDeploy = i
					}
				}
				if disabled >= 0 && disabled < lastDeploy {
					t.Errorf("%s: a key version was disabled before the last deploy:\n%s", st.name, strings.Join(log, "\n"))
				}
			}
		})
	}
}
