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
				s.setFunctions(functionNames[1:]...)
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
