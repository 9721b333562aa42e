package deploycheck

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Each function names the Google APIs it calls: deploy.sh checks the union of them in the project
// of the OAuth client, whichever function they come from.
func TestTheFunctionsAPIsAreCheckedInTheClientsProject(t *testing.T) {
	t.Parallel()
	const owner = "consent-proj"
	added := append(slices.Clone(functionLines), "digest drive.googleapis.com gmail.googleapis.com", "agenda calendar-json.googleapis.com")
	tests := []struct {
		name       string
		clientOf   string // the OAuth client's project
		functions  []string
		enabled    string // in the client's project
		wantOK     bool
		wantStderr string
	}{
		{
			name:       "the deploy project lacks Drive and Calendar",
			clientOf:   project,
			functions:  added,
			enabled:    strings.Join(requiredAPIs, "\n"),
			wantStderr: "gcloud services enable drive.googleapis.com calendar-json.googleapis.com --project=" + project,
		},
		{
			name:      "the deploy project has them all",
			clientOf:  project,
			functions: added,
			enabled:   strings.Join(append(slices.Clone(requiredAPIs), "drive.googleapis.com", "calendar-json.googleapis.com"), "\n"),
			wantOK:    true,
		},
		{
			name:       "the client's project has Gmail only",
			clientOf:   owner,
			functions:  added,
			enabled:    "gmail.googleapis.com",
			wantStderr: "gcloud services enable drive.googleapis.com calendar-json.googleapis.com --project=" + owner,
		},
		{
			name:       "a service name that is not one",
			clientOf:   project,
			functions:  append(slices.Clone(functionLines), "digest Drive"),
			enabled:    strings.Join(requiredAPIs, "\n"),
			wantStderr: `printed "Drive" as a service of digest, which is not a Google API service name`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			s.setFunctions(tt.functions...)
			s.writeRepo("client_secret.json", webClientJSONOf(tt.clientOf, redirectURI))
			if tt.clientOf == project {
				s.writeState("enabled-services", tt.enabled+"\n")
			} else {
				s.writeState("projects/"+tt.clientOf+"/enabled-services", tt.enabled+"\n")
			}
			r := s.run("--project", project, "--region", region)
			if ok := r.exitCode == 0; ok != tt.wantOK {
				t.Fatalf("deploy.sh succeeded: %v, want %v:\n%s", ok, tt.wantOK, r)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, r.stderr)
			}
			if !tt.wantOK {
				if changed := changes(s.logLines()); len(changed) != 0 {
					t.Errorf("a failing run changed the project with %q, want no change", changed)
				}
			}
		})
	}
}

// A relative --client-secret, and the default client_secret.json, are read from the repository
// root, next to deploy.sh, wherever it is run from.
func TestTheClientSecretIsReadFromTheRepositoryRoot(t *testing.T) {
	t.Parallel()
	t.Run("the default, run from another directory", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t)
		s.dir = t.TempDir()
		s.deploy()
		stored := s.secretVersions(clientSecretName)
		if len(stored) != 1 || stored[0] != webClientJSON(redirectURI) {
			t.Errorf("stored the client secrets %q, want the repository's client_secret.json", stored)
		}
	})
	t.Run("a relative path, run from a subdirectory that holds another file of that name", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t)
		other := webClientJSONOf("elsewhere", redirectURI)
		s.writeRepo("sub/client.json", other)
		s.writeRepo("client.json", webClientJSON(redirectURI))
		s.writeState("upload-files", "function.go\ngo.mod\ngo.sum\n")
		s.dir = filepath.Join(s.repo, "sub")
		s.deploy("--client-secret", "client.json")
		if stored := s.secretVersions(clientSecretName); len(stored) != 1 || stored[0] != webClientJSON(redirectURI) {
			t.Errorf("stored the client secrets %q, want the repository root's client.json", stored)
		}
	})
	t.Run("a relative path found only where deploy.sh was run from", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t)
		s.dir = t.TempDir()
		writeFile(t, filepath.Join(s.dir, "mine.json"), webClientJSON(redirectURI))
		r := s.run("--project", project, "--region", region, "--client-secret", "mine.json")
		if r.exitCode == 0 {
			t.Fatalf("deploy.sh read mine.json from where it was run, want it read from the repository root:\n%s", r)
		}
		for _, want := range []string{"not found in the repository root", "pass " + filepath.Join(s.dir, "mine.json")} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
	})
}

// The file the client secret is read from, or a copy of it, is never uploaded with the source,
// whatever its name: deploy.sh compares what each uploaded file holds with it.
func TestRefusesToUploadTheClientSecretUnderAnyName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file string
		args       []string
	}{
		{name: "--client-secret ./web-client.json", file: "web-client.json", args: []string{"--client-secret", "./web-client.json"}},
		{name: "a copy of client_secret.json under another name", file: "config/oauth.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			s.writeRepo(tt.file, webClientJSON(redirectURI))
			// What gcloud would list: .gcloudignore knows only client_secret*.json.
			s.writeState("upload-files", tt.file+"\nfunction.go\ngo.mod\ngo.sum\n")
			r := s.run(append([]string{"--project", project, "--region", region}, tt.args...)...)
			if r.exitCode == 0 {
				t.Fatalf("deploy.sh deployed with %s in the upload, want a refusal:\n%s", tt.file, r)
			}
			for _, want := range []string{"refusing to deploy: " + tt.file + " would be uploaded", "holds the OAuth client secret", ".gcloudignore"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 {
				t.Errorf("stderr has %d lines, want one error line:\n%s", len(lines), r.stderr)
			}
			if changed := changes(s.logLines()); len(changed) != 0 {
				t.Errorf("a refused run changed the project with %q, want no change", changed)
			}
		})
	}
}
