package deploycheck

import (
	"slices"
	"strings"
	"testing"
)

// Every function of a project and region is served on REGION-PROJECT.cloudfunctions.net: another
// function there would receive the session cookie and be same-origin with the app.
func TestRefusesToShareTheOriginWithOtherFunctions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		setup       func(s *sandbox)
		args        []string
		wantRefusal bool
		wantWarning bool
	}{
		{
			name:        "another function in the same region",
			setup:       func(s *sandbox) { s.addForeignFunction("hello", region) },
			wantRefusal: true,
		},
		{
			name: "a function the app no longer has counts as another",
			setup: func(s *sandbox) {
				s.deploy()
				s.setFunctions(functionLines[1:]...)
			},
			wantRefusal: true,
		},
		{
			name:        "another function in the same region, with --allow-shared-origin",
			setup:       func(s *sandbox) { s.addForeignFunction("hello", region) },
			args:        []string{"--allow-shared-origin"},
			wantWarning: true,
		},
		{
			name:  "another function in another region: another host",
			setup: func(s *sandbox) { s.addForeignFunction("hello", "us-central1") },
		},
		{
			name:  "only the app's own functions, deployed before",
			setup: func(s *sandbox) { s.deploy() },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			tt.setup(s)
			s.clearLog()
			r := s.run(append([]string{"--project", project, "--region", region}, tt.args...)...)

			listed := matching(s.logLines(), "gcloud functions list ")
			want := "gcloud functions list --regions=" + region + " --project=" + project + " --format=value(name.basename())"
			if !slices.Equal(listed, []string{want}) {
				t.Errorf("deploy.sh listed the functions with %q, want %q", listed, want)
			}
			if tt.wantRefusal {
				if r.exitCode == 0 {
					t.Fatalf("deploy.sh deployed next to another function, want a refusal:\n%s", r)
				}
				for _, text := range []string{
					"not part of this app",
					"one host, " + baseURL,
					"session cookie",
					"same-origin",
					"Google Cloud project",
					"of its own",
					"--allow-shared-origin",
				} {
					if !strings.Contains(strings.Join(strings.Fields(r.stderr), " "), text) {
						t.Errorf("the refusal lacks %q:\n%s", text, r.stderr)
					}
				}
				if changed := changes(s.logLines()); len(changed) != 0 {
					t.Errorf("a refused run changed the project with %q, want no change", changed)
				}
				return
			}
			if r.exitCode != 0 {
				t.Fatalf("deploy.sh failed, want success:\n%s", r)
			}
			warned := strings.Contains(r.stderr, "warning: --allow-shared-origin: "+baseURL+" also serves hello")
			if warned != tt.wantWarning {
				t.Errorf("warned about the shared origin: %v, want %v:\n%s", warned, tt.wantWarning, r.stderr)
			}
		})
	}
}

// The Gmail API counts a user's calls against the project of the OAuth client, which may not be the
// project the functions run in.
func TestGmailAPIIsCheckedInTheOAuthClientsProject(t *testing.T) {
	t.Parallel()
	const owner = "consent-proj"
	withoutGmail := slices.DeleteFunc(slices.Clone(requiredAPIs), func(api string) bool { return api == "gmail.googleapis.com" })
	tests := []struct {
		name        string
		setup       func(s *sandbox)
		wantOK      bool
		wantChecked bool     // services of the client's project listed
		wantStderr  []string // on the warning or error line
	}{
		{
			name:        "client of the deploy project: no warning",
			setup:       func(*sandbox) {},
			wantOK:      true,
			wantChecked: false,
		},
		{
			name: "client of another project where Gmail is enabled: a warning, and Gmail need not be enabled here",
			setup: func(s *sandbox) {
				s.writeState("enabled-services", strings.Join(withoutGmail, "\n")+"\n")
				s.writeState("projects/"+owner+"/enabled-services", "gmail.googleapis.com\n")
			},
			wantOK:      true,
			wantChecked: true,
			wantStderr:  []string{"warning: ./client_secret.json belongs to project " + owner + ", not " + project},
		},
		{
			name:        "client of another project where Gmail is not enabled: the command that enables it",
			setup:       func(s *sandbox) { s.writeState("projects/"+owner+"/enabled-services", "iam.googleapis.com\n") },
			wantChecked: true,
			wantStderr: []string{
				"error: API(s) not enabled in project " + owner + ", where the OAuth client",
				"gcloud services enable gmail.googleapis.com --project=" + owner,
			},
		},
		{
			name:        "client of a project the deployer cannot read: a warning that says so",
			setup:       func(s *sandbox) { s.writeState("projects/"+owner+"/permission-denied", "") },
			wantOK:      true,
			wantChecked: true,
			wantStderr: []string{
				"belongs to project " + owner + ", not " + project,
				"cannot read that project's services",
				"gcloud services enable gmail.googleapis.com --project=" + owner,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			if tt.name != tests[0].name {
				s.writeRepo("client_secret.json", webClientJSONOf(owner, redirectURI))
			}
			tt.setup(s)
			r := s.run("--project", project, "--region", region)
			if ok := r.exitCode == 0; ok != tt.wantOK {
				t.Fatalf("deploy.sh succeeded: %v, want %v:\n%s", ok, tt.wantOK, r)
			}
			want := "gcloud services list --enabled --project=" + owner + " --format=value(config.name)"
			if checked := slices.Contains(s.logLines(), want); checked != tt.wantChecked {
				t.Errorf("ran %q: %v, want %v", want, checked, tt.wantChecked)
			}
			for _, text := range tt.wantStderr {
				if !strings.Contains(r.stderr, text) {
					t.Errorf("stderr lacks %q:\n%s", text, r.stderr)
				}
			}
			if len(tt.wantStderr) == 0 && strings.Contains(r.stderr, "belongs to project") {
				t.Errorf("warned about the client's project, want no warning:\n%s", r.stderr)
			}
			if !tt.wantOK {
				if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 {
					t.Errorf("stderr has %d lines, want one error line:\n%s", len(lines), r.stderr)
				}
				if changed := changes(s.logLines()); len(changed) != 0 {
					t.Errorf("a failing run changed the project with %q, want no change", changed)
				}
			}
		})
	}
}
