package deploycheck

import (
	"strings"
	"testing"
)

// invokers returns who may call a deployed function of the stub's project.
func (s *sandbox) invokers(function string) string {
	return strings.TrimSpace(s.readState("functions/" + function + "/invokers"))
}

// The browser calls the functions directly, so each must let anyone call it. gcloud grants that
// after deploying; when it could not, or when the grant was removed since, the next run adds it,
// even to a function that is up to date; an organisation policy that refuses it is explained.
func TestPublicAccessIsCheckedAndRepairedOnEveryRun(t *testing.T) {
	t.Parallel()
	last := functionNames[len(functionNames)-1]

	t.Run("refused by an organisation policy, then allowed", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t)
		s.writeState("public-access-denied", "")
		r := s.run("--project", project, "--region", region)
		if r.exitCode == 0 {
			t.Fatalf("deploy.sh succeeded though no function is public:\n%s", r)
		}
		explained := strings.Join(strings.Fields(r.stderr), " ")
		for _, want := range []string{
			"deployed, but private",
			"without signing in to Google Cloud",
			"organisation policy",
			"Domain restricted sharing (constraints/iam.allowedPolicyMemberDomains)",
			"Ask an organisation policy administrator",
			"run ./deploy.sh again: it makes the functions public without deploying them again",
		} {
			if !strings.Contains(explained, want) {
				t.Errorf("the explanation lacks %q:\n%s", want, r.stderr)
			}
		}
		for name, row := range summaryTable(r.stdout) {
			if row[0] != "private" {
				t.Errorf("the summary table says %q for %s, want private:\n%s", row[0], name, r.stdout)
			}
		}

		// The policy still refuses: the functions are up to date, and still explained as private.
		s.clearLog()
		r = s.run("--project", project, "--region", region)
		if r.exitCode == 0 || !strings.Contains(r.stderr, "deployed, but private") {
			t.Errorf("a rerun under the same policy: want the explanation again, got:\n%s", r)
		}
		if deploys := matching(s.logLines(), "gcloud functions deploy "); len(deploys) != 0 {
			t.Errorf("a rerun redeployed %d functions, want none: they are up to date", len(deploys))
		}

		// The administrator allowed it: the next run makes them public, without deploying.
		s.removeState("public-access-denied")
		s.clearLog()
		r = s.deploy()
		if deploys := matching(s.logLines(), "gcloud functions deploy "); len(deploys) != 0 {
			t.Errorf("the run after the policy changed redeployed %d functions, want none", len(deploys))
		}
		rows := summaryTable(r.stdout)
		for _, name := range functionNames {
			if rows[name][0] != "made public" || s.invokers(name) != "allUsers" {
				t.Errorf("%s: the table says %q and its invokers are %q, want made public and allUsers:\n%s",
					name, rows[name][0], s.invokers(name), r.stdout)
			}
		}
	})

	t.Run("a grant removed since the last deploy is added back", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t)
		s.deploy()
		s.writeState("functions/"+last+"/invokers", "")
		s.clearLog()
		r := s.deploy()
		want := "gcloud run services add-iam-policy-binding " + last + " --region=" + region + " --project=" + project +
			" --member=allUsers --role=roles/run.invoker --format=none"
		if got := changes(s.logLines()); len(got) != 1 || got[0] != want {
			t.Errorf("deploy.sh changed %q, want only %q", got, want)
		}
		if got := summaryTable(r.stdout)[last][0]; got != "made public" {
			t.Errorf("the summary table says %q for %s, want made public:\n%s", got, last, r.stdout)
		}
	})
}

// After deploying, each function is called from outside as a browser would call it: oauth2init
// must send it to Google's authorization endpoint, the others must answer.
func TestTheDeployedFunctionsAreCheckedFromOutside(t *testing.T) {
	t.Parallel()
	const oauth2init = "oauth2init" // the one whose answer is a redirect to Google
	tests := []struct {
		name      string
		answers   map[string]string // function: the stub's "STATUS LOCATION"
		wantOK    bool
		wantCheck map[string]string // function: check column, when not what a working app gives
	}{
		{
			name:   "every function answers, and the sign-in goes to Google",
			wantOK: true,
		},
		{
			name:      "oauth2init redirects to itself",
			answers:   map[string]string{oauth2init: "302 " + baseURL + "/oauth2init"},
			wantCheck: map[string]string{oauth2init: "FAILED: 302 back to europe-west1-demo-proj.cloudfunctions.net/oauth2init, not to Google"},
		},
		{
			name:      "oauth2init redirects elsewhere",
			answers:   map[string]string{oauth2init: "302 https://example.com/login"},
			wantCheck: map[string]string{oauth2init: "FAILED: 302 to example.com/login, not to Google"},
		},
		{
			name:      "a function fails",
			answers:   map[string]string{functionNames[len(functionNames)-1]: "500 "},
			wantCheck: map[string]string{functionNames[len(functionNames)-1]: "FAILED: 500"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			for name, answer := range tt.answers {
				s.writeState("functions/"+name+"/http", answer)
			}
			r := s.run("--project", project, "--region", region)
			if ok := r.exitCode == 0; ok != tt.wantOK {
				t.Fatalf("deploy.sh succeeded: %v, want %v:\n%s", ok, tt.wantOK, r)
			}
			checks := summaryChecks(r.stdout)
			for _, name := range functionNames {
				want, ok := tt.wantCheck[name]
				switch {
				case ok:
				case name == oauth2init:
					want = "ok: 302 to accounts.google.com/o/oauth2/auth"
				default:
					want = "ok: answers 200"
				}
				if checks[name] != want {
					t.Errorf("the check of %s says %q, want %q:\n%s", name, checks[name], want, r.stdout)
				}
			}
			if !tt.wantOK && !strings.Contains(r.stderr, "the check from outside of") {
				t.Errorf("stderr lacks the failed check:\n%s", r.stderr)
			}
			// A server error is tried once more: a new revision may still be starting.
			retries := 0
			for _, answer := range tt.answers {
				if strings.HasPrefix(answer, "5") {
					retries++
				}
			}
			if calls := readLines(t, s.curlLog); len(calls) != len(functionNames)+retries {
				t.Errorf("deploy.sh called curl %d times, want once per function, and once more for each server error (%d)", len(calls), retries)
			}
		})
	}

	t.Run("a dry run checks nothing", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t)
		r := s.deploy("--dry-run")
		for name, check := range summaryChecks(r.stdout) {
			if check != "-" {
				t.Errorf("a dry run's check of %s says %q, want -", name, check)
			}
		}
		if calls := readLines(t, s.curlLog); len(calls) != 0 {
			t.Errorf("a dry run called curl %d times, want none", len(calls))
		}
	})
}
