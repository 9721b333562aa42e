package deploycheck

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ageCookieKey makes every version of the cookie key as old as age, as Secret Manager would tell.
func (s *sandbox) ageCookieKey(age time.Duration) {
	s.t.Helper()
	stored := time.Now().Add(-age).UTC().Format("2006-01-02T15:04:05.000000Z")
	for n := range s.secretVersions(cookieKeyName) {
		s.writeState(filepath.Join("secrets", cookieKeyName, "created", strconv.Itoa(n+1)), stored+"\n")
	}
}

// A browser keeps the session cookie 48 hours, so the key before the current one must stay that
// long after a rotation: a rotation within 48 hours of the last one would drop a key that cookies
// still need, and is refused unless the key leaked.
func TestRotationWithinTheCookiesLifeIsRefusedUnlessTheKeyLeaked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		age        time.Duration // of the key in use
		args       []string
		wantRotate bool
	}{
		{name: "the key in use is 47 h old: refused", age: 47 * time.Hour},
		{name: "the key in use is 49 h old: rotated", age: 49 * time.Hour, wantRotate: true},
		{name: "the key in use is an hour old, and leaked: rotated", age: time.Hour, args: []string{"--key-leaked"}, wantRotate: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			s.deploy()
			s.deploy("--rotate-cookie-key", "--key-leaked")
			s.ageCookieKey(tt.age)
			s.clearLog()
			r := s.run(append([]string{"--project", project, "--region", region, "--rotate-cookie-key"}, tt.args...)...)
			versions := len(s.secretVersions(cookieKeyName))
			if tt.wantRotate {
				if r.exitCode != 0 || versions != 3 {
					t.Fatalf("want a rotation (3 key versions), got %d versions:\n%s", versions, r)
				}
				return
			}
			if r.exitCode == 0 {
				t.Fatalf("deploy.sh rotated a key %v old, want a refusal:\n%s", tt.age, r)
			}
			for _, want := range []string{"refusing to rotate the cookie key", "48 h", "--key-leaked"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if changed := changes(s.logLines()); len(changed) != 0 || versions != 2 {
				t.Errorf("a refused rotation changed %q (%d key versions), want no change", changed, versions)
			}
		})
	}
	t.Run("a fresh key with none before it: rotated, since no key is dropped", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t)
		s.deploy()
		s.deploy("--rotate-cookie-key")
		if versions := len(s.secretVersions(cookieKeyName)); versions != 2 {
			t.Errorf("the cookie key has %d versions, want 2: a rotation right after the first deploy", versions)
		}
	})
	t.Run("--key-leaked alone is an error", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t)
		r := s.run("--project", project, "--region", region, "--key-leaked")
		if r.exitCode == 0 || !strings.Contains(r.stderr, "--key-leaked goes with --rotate-cookie-key") {
			t.Errorf("want a refusal of --key-leaked without --rotate-cookie-key, got:\n%s", r)
		}
	})
}

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
				if slices.Contains(st.args, "--rotate-cookie-key") {
					s.ageCookieKey(49 * time.Hour) // rotations two days apart
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
