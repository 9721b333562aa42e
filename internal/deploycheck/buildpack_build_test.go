package deploycheck

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/gcf-oauth-gmail/internal/testhost"
)

// sourceDirName is where Google's Go buildpack moves the uploaded source, and so where a deployed
// function finds it relative to its working directory.
const sourceDirName = "serverless_function_source_code"

// appModule is the module of the main package that the buildpack generates.
const appModule = "functions.local/app"

// functionBuild is the repository built the way Google's Go buildpack builds a function: the
// upload (the files .gcloudignore lets through) in serverless_function_source_code/, and a
// generated main package, in a module of its own, that imports the function package by its module
// path and starts functions-framework.
type functionBuild struct {
	module   string   // the function's module path, from its go.mod
	source   string   // the upload, as the buildpack lays it out
	binary   string   // the function's program
	uploaded []string // the uploaded files, slash-separated and relative to the repository root
	unused   []string // the uploaded files the build did not read
	steps    []string // what the build did and how long each step took
}

var (
	buildOnce sync.Once
	built     *functionBuild
	buildErr  error
	// buildRoot holds the shared build; TestMain removes it. A t.TempDir would vanish with the first
	// test that asks for the build.
	buildRoot string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildRoot != "" {
		_ = os.RemoveAll(buildRoot)
	}
	os.Exit(code)
}

// builtFunction builds the function once per test binary and returns the build.
func builtFunction(t *testing.T) *functionBuild {
	t.Helper()
	root := testhost.RepoRoot(t)
	git := gitForGcloudignore(t)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	buildOnce.Do(func() {
		buildRoot, buildErr = os.MkdirTemp("", "deploycheck-buildpack-")
		if buildErr == nil {
			built, buildErr = buildLikeBuildpack(root, buildRoot, git, goTool)
		}
	})
	if buildErr != nil {
		t.Fatalf("building the function as Google's Go buildpack does, from what .gcloudignore uploads: %v", buildErr)
	}
	return built
}

func gitForGcloudignore(t *testing.T) string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is not installed: CI needs it as the reference matcher of .gcloudignore's syntax")
		}
		t.Skip("git is not installed; it is the reference matcher of .gcloudignore's syntax")
	}
	return git
}

func buildLikeBuildpack(root, dir, git, goTool string) (*functionBuild, error) {
	b := &functionBuild{source: filepath.Join(dir, sourceDirName), binary: filepath.Join(dir, "bin", "function")}
	step := func(what string, start time.Time) {
		b.steps = append(b.steps, fmt.Sprintf("%s: %v", what, time.Since(start).Round(time.Millisecond)))
	}

	start := time.Now()
	rules, err := os.ReadFile(filepath.Join(root, ".gcloudignore"))
	if err != nil {
		return nil, fmt.Errorf("reading .gcloudignore: %w", err)
	}
	uploaded, err := uploadedFiles(root, git, rules)
	if err != nil {
		return nil, err
	}
	b.uploaded = uploaded
	for _, name := range uploaded {
		if err := copyTreeFile(filepath.Join(root, filepath.FromSlash(name)), filepath.Join(b.source, filepath.FromSlash(name))); err != nil {
			return nil, err
		}
	}
	step(fmt.Sprintf("copy the %d uploaded files", len(uploaded)), start)

	goMod, err := os.ReadFile(filepath.Join(b.source, "go.mod"))
	if err != nil {
		return nil, fmt.Errorf("the upload has no go.mod (is it in .gcloudignore?): %w", err)
	}
	module := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(goMod)
	goLine := regexp.MustCompile(`(?m)^go\s+(\S+)`).FindSubmatch(goMod)
	if module == nil || goLine == nil {
		return nil, fmt.Errorf("the uploaded go.mod lacks a module or a go line:\n%s", goMod)
	}
	b.module = string(module[1])

	app := filepath.Join(dir, "main")
	files := map[string]string{
		"go.mod": fmt.Sprintf("module %s\n\ngo %s\n\nrequire %s v0.0.0\n\nreplace %s => ../%s\n",
			appModule, goLine[1], b.module, b.module, sourceDirName),
		"main.go": fmt.Sprintf(generatedMain, b.module),
	}
	// The function's go.sum seeds the checksums, as the buildpack's own tidy in the function's
	// directory would find them; tidy adds what the generated module needs on top.
	if sum, err := os.ReadFile(filepath.Join(b.source, "go.sum")); err == nil {
		files["go.sum"] = string(sum)
	}
	for name, content := range files {
		if err := writeTreeFile(filepath.Join(app, name), []byte(content), 0o644); err != nil {
			return nil, err
		}
	}

	// -e: tidy also wants the modules of the tests of dependencies, which an offline module cache
	// may lack. The build that follows fails, with a clear message, on anything the program needs.
	start = time.Now()
	if out, err := goCommand(goTool, app, "mod", "tidy", "-e"); err != nil {
		return nil, fmt.Errorf("go mod tidy in the generated module: %v\n%s", err, out)
	}
	step("go mod tidy -e in the generated module", start)

	start = time.Now()
	if out, err := goCommand(goTool, app, "build", "-o", b.binary, "."); err != nil {
		tidied, _ := os.ReadFile(filepath.Join(app, "go.mod"))
		return nil, fmt.Errorf("go build of the generated main package: %v\n%s\ngenerated go.mod after tidy:\n%s", err, out, tidied)
	}
	step("go build", start)

	// The files the build read: what the upload cannot do without.
	start = time.Now()
	out, err := goCommand(goTool, app, "list", "-deps", "-f", `{{if .Module}}{{if eq .Module.Path "`+b.module+`"}}{{$dir := .Dir}}{{range .GoFiles}}{{$dir}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$dir}}/{{.}}
{{end}}{{end}}{{end}}`, ".")
	if err != nil {
		return nil, fmt.Errorf("go list -deps of the generated main package: %v\n%s", err, out)
	}
	used := map[string]bool{"go.mod": true, "go.sum": true}
	for _, path := range strings.Fields(string(out)) {
		if rel, err := filepath.Rel(b.source, path); err == nil {
			used[filepath.ToSlash(rel)] = true
		}
	}
	for _, name := range b.uploaded {
		if !used[name] {
			b.unused = append(b.unused, name)
		}
	}
	step("go list -deps", start)
	return b, nil
}

// generatedMain is the main package of a function registered with functions.HTTP, as the buildpack
// writes it: it imports the function package for its init and lets functions-framework serve the
// function named by FUNCTION_TARGET at "/".
const generatedMain = `// Command app serves the function that FUNCTION_TARGET names, as Google's Go buildpack generates it.
package main

import (
	"log"
	"os"

	_ %q

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := funcframework.Start(port); err != nil {
		log.Fatalf("Function failed to start: %%v\n", err)
	}
}
`

// goCommand runs the go command in dir with the module cache and proxy settings of the environment.
func goCommand(goTool, dir string, args ...string) ([]byte, error) {
	cmd := exec.Command(goTool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	return cmd.CombinedOutput()
}

func copyTreeFile(from, to string) error {
	info, err := os.Stat(from)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return writeTreeFile(to, data, info.Mode().Perm())
}

func writeTreeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, mode)
}

// newWorkspace lays out a function instance's working directory as Cloud Functions does: the
// upload under serverless_function_source_code/, nothing beside it. It returns the directory.
func newWorkspace(t *testing.T, b *functionBuild) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range b.uploaded {
		if err := copyTreeFile(filepath.Join(b.source, filepath.FromSlash(name)), filepath.Join(dir, sourceDirName, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
