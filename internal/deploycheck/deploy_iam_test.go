package deploycheck

import (
	"slices"
	"strings"
	"testing"
)

// buildRoles are what a Cloud Functions build needs from its service account, as Google's page on
// the Cloud Run build service account names it: Cloud Run Builder (write the build's log, push the
// image to Artifact Registry, read the uploaded source from Cloud Storage), and nothing broader.
var buildRoles = []string{"roles/run.builder"}

// bindingsOf returns the roles member has in an IAM policy file of the stub, sorted.
func bindingsOf(policy, member string) []string {
	var roles []string
	for _, line := range strings.Split(policy, "\n") {
		if who, role, ok := strings.Cut(line, " "); ok && who == member {
			roles = append(roles, role)
		}
	}
	slices.Sort(roles)
	return roles
}

func TestBuildsRunAsADedicatedAccountWithOnlyTheRolesABuildNeeds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(s *sandbox)
		// wantDeployer is the member that may act as both accounts; "" when none is granted.
		wantDeployer string
		wantNote     string
	}{
		{
			name:         "a person deploys",
			wantDeployer: "user:" + deployer,
		},
		{
			name:         "a service account deploys (as in CI)",
			setup:        func(s *sandbox) { s.setConfig("account", "ci@demo-proj.iam.gserviceaccount.com") },
			wantDeployer: "serviceAccount:ci@demo-proj.iam.gserviceaccount.com",
		},
		{
			name:     "no active account: nothing granted, and a note says so",
			setup:    func(s *sandbox) { s.writeState("config/account", "") },
			wantNote: "no active gcloud account",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			if tt.setup != nil {
				tt.setup(s)
			}
			r := s.deploy()

			wantFlag := "--build-service-account=projects/" + project + "/serviceAccounts/" + buildAccount + " "
			deploys := matching(s.logLines(), "gcloud functions deploy ")
			if len(deploys) != len(functionNames) {
				t.Fatalf("%d functions deployed, want %d:\n%s", len(deploys), len(functionNames), r)
			}
			for _, line := range deploys {
				if !strings.Contains(line, wantFlag) {
					t.Errorf("deploy %q lacks %s", line, wantFlag)
				}
			}
			projectPolicy := s.readState("project-bindings")
			want := slices.Sorted(slices.Values(buildRoles))
			if got := bindingsOf(projectPolicy, "serviceAccount:"+buildAccount); !slices.Equal(got, want) {
				t.Errorf("the build account has the project roles %q, want exactly %q", got, want)
			}
			if lines := strings.Fields(projectPolicy); len(lines) != 2*len(buildRoles) {
				t.Errorf("the project's IAM policy is:\n%s\nwant only the build account's %d roles", projectPolicy, len(buildRoles))
			}
			for _, account := range []string{serviceAccount, buildAccount} {
				policy := s.readState("service-accounts/" + account)
				var wantPolicy string
				if tt.wantDeployer != "" {
					wantPolicy = tt.wantDeployer + " roles/iam.serviceAccountUser\n"
				}
				if policy != wantPolicy {
					t.Errorf("the IAM policy of %s is %q, want %q", account, policy, wantPolicy)
				}
			}
			if !strings.Contains(r.stderr, tt.wantNote) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantNote, r.stderr)
			}
		})
	}
}

func TestOnlyMissingBuildRolesAreGranted(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.deploy()
	// The build account lost Cloud Run Builder, and has some other role.
	s.writeState("project-bindings", "serviceAccount:"+buildAccount+" roles/logging.logWriter\n")
	s.clearLog()
	s.deploy()
	granted := matching(s.logLines(), "add-iam-policy-binding ")
	want := "gcloud projects add-iam-policy-binding " + project + " --member=serviceAccount:" + buildAccount +
		" --role=roles/run.builder --condition=None --format=none"
	if !slices.Equal(granted, []string{want}) {
		t.Errorf("after Cloud Run Builder was removed, deploy.sh granted %q, want only %q", granted, want)
	}
	s.clearLog()
	s.deploy()
	if granted := matching(s.logLines(), "add-iam-policy-binding "); len(granted) != 0 {
		t.Errorf("with every role in effect, deploy.sh granted %q, want nothing", granted)
	}
}

// A new service account takes a while to reach every Google service: IAM may answer that it does
// not exist. deploy.sh tries again for a bounded time, then gives up with a clear message.
func TestWaitsForIAMToKnowANewAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		lag       string // calls naming a new account that IAM answers with "does not exist"
		wantOK    bool
		wantSleep func(t *testing.T, sleeps []int)
	}{
		{
			name:   "IAM knows the accounts at once: only the wait for the new roles to propagate",
			lag:    "0",
			wantOK: true,
			wantSleep: func(t *testing.T, sleeps []int) {
				if len(sleeps) != 1 || sleeps[0] < 60 || sleeps[0] > 120 {
					t.Errorf("deploy.sh slept %v seconds, want one wait of at most 120 s for IAM to propagate the new roles", sleeps)
				}
			},
		},
		{
			name:   "IAM learns of the accounts after two tries each: retried, then deployed",
			lag:    "2",
			wantOK: true,
			wantSleep: func(t *testing.T, sleeps []int) {
				if len(sleeps) < 3 {
					t.Errorf("deploy.sh slept %v seconds, want retries, then the wait for propagation", sleeps)
				}
			},
		},
		{
			name: "IAM never learns of the account: gives up after about 7 minutes",
			lag:  "1000",
			wantSleep: func(t *testing.T, sleeps []int) {
				total := 0
				for _, s := range sleeps {
					total += s
				}
				if total < 7*60 || total > 10*60 {
					t.Errorf("deploy.sh slept %v seconds in all (%d s), want IAM's propagation time, about 7 minutes, then give up", sleeps, total)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			s.writeState("iam-lag", tt.lag+"\n")
			r := s.run("--project", project, "--region", region)
			if ok := r.exitCode == 0; ok != tt.wantOK {
				t.Fatalf("deploy.sh succeeded: %v, want %v:\n%s", ok, tt.wantOK, r)
			}
			tt.wantSleep(t, s.sleeps())
			deploys := matching(s.logLines(), "gcloud functions deploy ")
			if tt.wantOK {
				if len(deploys) != len(functionNames) {
					t.Errorf("%d functions deployed, want %d", len(deploys), len(functionNames))
				}
				return
			}
			if len(deploys) != 0 {
				t.Errorf("deploy.sh deployed %d functions after giving up on IAM, want none", len(deploys))
			}
			last := strings.TrimSpace(r.stderr[strings.LastIndex(strings.TrimSpace(r.stderr), "\n")+1:])
			for _, want := range []string{"IAM still does not know the service account", "run ./deploy.sh again later", "If the deploy fails"} {
				if !strings.Contains(last, want) {
					t.Errorf("the last line of stderr lacks %q:\n%s", want, last)
				}
			}
		})
	}
}

// firstDeployRoles are what the message to a deployer who may not grant roles names.
var firstDeployRoles = []string{"Owner", "Project IAM Admin", "Service Account Admin", "Secret Manager Admin"}

// A refusal to grant, which is not IAM's delay, stops at once with one message that says which
// roles a first deploy needs, in place of gcloud's raw error.
func TestAnIAMRefusalStopsAtOnceNamingTheRolesAFirstDeployNeeds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(s *sandbox)
	}{
		{
			name:  "an Editor",
			setup: func(s *sandbox) { s.writeState("project-bindings", "user:"+deployer+" roles/editor\n") },
		},
		{
			name:  "someone refused the project's policy",
			setup: func(s *sandbox) { s.writeState("project-policy-denied", "") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			tt.setup(s)
			r := s.run("--project", project, "--region", region)
			if r.exitCode == 0 {
				t.Fatalf("deploy.sh succeeded though it may not change the project's IAM policy:\n%s", r)
			}
			var errors []string
			for _, line := range strings.Split(r.stderr, "\n") {
				if strings.Contains(line, "error") || strings.Contains(line, "ERROR") {
					errors = append(errors, line)
				}
			}
			if len(errors) != 1 {
				t.Fatalf("stderr has %d error lines, want one clear message:\n%s", len(errors), r.stderr)
			}
			for _, want := range append(slices.Clone(firstDeployRoles), "Editor is not enough", "gcloud projects add-iam-policy-binding", "If the deploy fails") {
				if !strings.Contains(errors[0], want) {
					t.Errorf("the error lacks %q:\n%s", want, errors[0])
				}
			}
			if sleeps := s.sleeps(); len(sleeps) != 0 {
				t.Errorf("deploy.sh slept %v seconds, want no retry: a refusal is not IAM's delay", sleeps)
			}
			if deploys := matching(s.logLines(), "gcloud functions deploy "); len(deploys) != 0 {
				t.Errorf("deploy.sh deployed %d functions, want none", len(deploys))
			}
		})
	}
}

// An Editor may deploy functions but not grant roles: once an Owner has deployed the app, an
// Editor's runs grant nothing, since every grant is in effect, and work.
func TestAnEditorRedeploysAfterAnOwnersFirstDeploy(t *testing.T) {
	t.Parallel()
	const owner = "owner@example.com"
	s := newSandbox(t)
	s.setConfig("account", owner)
	s.writeState("project-bindings", "user:"+owner+" roles/owner\nuser:"+deployer+" roles/editor\n")
	s.deploy()
	// Then the Editor, whom nothing was granted to: Editor may act as any account already.
	s.setConfig("account", deployer)
	s.writeRepo("function.go", "package fixture\n\nconst changed = true\n")
	s.clearLog()
	r := s.deploy()
	if deploys := matching(s.logLines(), "gcloud functions deploy "); len(deploys) != len(functionNames) {
		t.Errorf("the Editor's run redeployed %d functions, want %d:\n%s", len(deploys), len(functionNames), r)
	}
	if granted := matching(s.logLines(), "-iam-policy-binding "); len(granted) != 0 {
		t.Errorf("the Editor's run tried to grant %q, want nothing: every grant is in effect", granted)
	}
}

// Right after an account is created, IAM may answer calls on it "denied ... (or it may not
// exist)": deploy.sh tries again, for an account it created, and only for one.
func TestMayNotExistIsRetriedOnlyForAnAccountThisRunCreated(t *testing.T) {
	t.Parallel()
	t.Run("an account this run created: retried, then deployed", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t)
		s.writeState("iam-lag", "2\n")
		s.writeState("iam-lag-denied", "")
		r := s.run("--project", project, "--region", region)
		if r.exitCode != 0 {
			t.Fatalf("deploy.sh failed, want retries until IAM knows the new accounts:\n%s", r)
		}
		if !strings.Contains(r.stderr, "(or it may not exist)") || len(s.sleeps()) < 3 {
			t.Errorf("want IAM's \"may not exist\" answers retried (slept %v):\n%s", s.sleeps(), r.stderr)
		}
	})
	t.Run("an account that existed before the run: a refusal, not retried", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t)
		s.deploy()
		s.writeState("service-accounts/"+serviceAccount, "")
		s.writeState("iam-lag-denied", "")
		s.writeState("iam-unknown/"+serviceAccount, "1000\n")
		s.clearLog()
		r := s.run("--project", project, "--region", region)
		if sleeps := s.sleeps(); len(sleeps) != 0 {
			t.Errorf("deploy.sh slept %v seconds, want no retry for an account it did not create:\n%s", sleeps, r)
		}
		if !strings.Contains(r.stderr, "cannot read the IAM policy of "+serviceAccount) {
			t.Errorf("stderr lacks a note that the account's policy could not be read:\n%s", r.stderr)
		}
	})
}

// IAM's describe may not find an account that its create then finds: that is the account, ready.
func TestACreateThatFindsTheAccountIsSuccess(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.writeState("service-accounts/"+buildAccount, "")
	s.writeState("hidden-accounts", buildAccount+"\n")
	r := s.deploy()
	if created := matching(s.logLines(), "gcloud iam service-accounts create gcf-oauth-gmail-build "); len(created) != 1 {
		t.Fatalf("deploy.sh ran %q, want one create of the build account", created)
	}
	if !strings.Contains(r.stderr, "service account "+buildAccount+" already exists: using it") {
		t.Errorf("stderr lacks a note that the account exists:\n%s", r.stderr)
	}
	if deploys := matching(s.logLines(), "gcloud functions deploy "); len(deploys) != len(functionNames) {
		t.Errorf("%d functions deployed, want %d", len(deploys), len(functionNames))
	}
}

// An earlier deploy.sh granted three broader roles: a run says how to remove them, and grants
// only Cloud Run Builder.
func TestTheBroaderRolesOfAnEarlierVersionAreNamed(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.deploy()
	old := []string{"roles/logging.logWriter", "roles/artifactregistry.writer", "roles/storage.objectViewer"}
	for _, role := range old {
		policy := s.readState("project-bindings") + "serviceAccount:" + buildAccount + " " + role + "\n"
		s.writeState("project-bindings", policy)
	}
	r := s.deploy()
	for _, want := range append(old, "gcloud projects remove-iam-policy-binding "+project+" --member=serviceAccount:"+buildAccount) {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// A project owner may act as any account of the project, and may not be allowed to read the
// accounts' policies: deploy.sh then notes it and goes on.
func TestAnOwnerWhoCannotReadAccountPoliciesStillDeploys(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	s.writeState("account-policy-denied", "")
	s.writeState("owners", "user:"+deployer+"\n")
	r := s.deploy()
	if !strings.Contains(r.stderr, "cannot read the IAM policy of "+buildAccount) {
		t.Errorf("stderr lacks a note that the build account's policy could not be read:\n%s", r.stderr)
	}
	if deploys := matching(s.logLines(), "gcloud functions deploy "); len(deploys) != len(functionNames) {
		t.Errorf("%d functions deployed, want %d", len(deploys), len(functionNames))
	}
}
