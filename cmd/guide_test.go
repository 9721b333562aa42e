package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

func TestReadyTextSaysWhereToGoWhoToBeAndHowToStop(t *testing.T) {
	accounts := fakegoogle.DemoAccounts()
	tests := []struct {
		name     string
		target   string
		accounts []fakegoogle.Account
		want     []string
		notWant  []string
	}{
		{"demo", "", accounts, []string{"Open http://localhost:8080/ in a browser", "no password", "Ctrl-C"}, []string{"127.0.0.1"}},
		{"real Google", "", nil, []string{"Open http://localhost:8080/ in a browser", "your Google account", "Ctrl-C"}, []string{"demo account", "@example"}},
		{"one function", "listlabels", nil, []string{"listlabels", "http://localhost:8080/", "Ctrl-C"}, []string{"demo account"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readyText("http://localhost:8080", tt.target, tt.accounts)
			for _, a := range tt.accounts {
				tt.want = append(tt.want, a.Name+" <"+a.Email+">")
			}
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("the text lacks %q:\n%s", want, got)
				}
			}
			for _, bad := range tt.notWant {
				if strings.Contains(got, bad) {
					t.Errorf("the text has %q:\n%s", bad, got)
				}
			}
			if !strings.HasSuffix(got, "Press Ctrl-C to stop.\n") {
				t.Errorf("the text does not end with how to stop:\n%s", got)
			}
		})
	}
}

func TestMissingSecretTextNamesTheDemoTheFileAndTheRedirectURI(t *testing.T) {
	got := missingSecretText("/home/ann/app/client_secret.json", "http://localhost:9000/oauth2callback")
	for _, want := range []string{"go run ./cmd -demo", "/home/ann/app/client_secret.json", "http://localhost:9000/oauth2callback", "CLIENT_SECRET_FILE", "redirect URI"} {
		if !strings.Contains(got, want) {
			t.Errorf("the text lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"request", "serverless_function_source_code"} {
		if strings.Contains(got, bad) {
			t.Errorf("the text mentions %q:\n%s", bad, got)
		}
	}
}

func TestPortTakenTextGivesACommandWithAnotherPort(t *testing.T) {
	tests := []struct {
		name, port string
		demo       bool
		args       []string
		want       []string
		notWant    string
	}{
		{"demo", "8080", true, []string{"-demo"}, []string{"Port 8080 is taken", "PORT=8081 go run ./cmd -demo\n"}, "redirect URI"},
		{"real Google needs the new redirect URI", "8080", false, nil, []string{"PORT=8081 go run ./cmd\n", "http://localhost:8081/oauth2callback"}, ""},
		{"the flags are kept", "9000", true, []string{"-demo", "-host", "::1"}, []string{"PORT=9001 go run ./cmd -demo -host ::1\n"}, ""},
		{"no port after the last", "65535", true, []string{"-demo"}, []string{"PORT=8081 go run ./cmd -demo\n"}, ""},
		{"a privileged port", "80", true, []string{"-demo"}, []string{"PORT=8081 go run ./cmd -demo\n"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := portTakenText(tt.port, tt.demo, tt.args, "bind: address already in use")
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("the text lacks %q:\n%s", want, got)
				}
			}
			if tt.notWant != "" && strings.Contains(got, tt.notWant) {
				t.Errorf("the text has %q:\n%s", tt.notWant, got)
			}
		})
	}
}

func TestMissingClientSecretLooksWhereTheAppLooks(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	present := filepath.Join(dir, "present.json")
	if err := os.WriteFile(present, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		env         map[string]string
		files       []string // created in the working directory first
		wantMissing bool
		wantPath    string
	}{
		{"nothing anywhere", nil, nil, true, filepath.Join(dir, "client_secret.json")},
		{"the file in the working directory", nil, []string{"client_secret.json"}, false, ""},
		{"the file where Cloud Functions puts the sources", nil, []string{"serverless_function_source_code/client_secret.json"}, false, ""},
		{"inline JSON", map[string]string{"CLIENT_SECRET_JSON": "{}"}, nil, false, ""},
		{"CLIENT_SECRET_FILE names a file", map[string]string{"CLIENT_SECRET_FILE": present}, nil, false, ""},
		{"CLIENT_SECRET_FILE names no file", map[string]string{"CLIENT_SECRET_FILE": "secrets/web.json"}, []string{"client_secret.json"}, true, filepath.Join(dir, "secrets", "web.json")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range tt.files {
				if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(f, []byte("{}"), 0o600); err != nil {
					t.Fatal(err)
				}
				defer os.RemoveAll(strings.Split(f, "/")[0])
			}
			path, missing := missingClientSecret(func(k string) string { return tt.env[k] })
			if missing != tt.wantMissing || path != tt.wantPath {
				t.Errorf("missingClientSecret = %q, %v; want %q, %v", path, missing, tt.wantPath, tt.wantMissing)
			}
		})
	}
}
