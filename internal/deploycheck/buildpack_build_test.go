package deploycheck

import (
	"bytes"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/gcf-oauth-gmail/internal/testhost"
)

// What Google's Go buildpack does with a function's upload (the google.go.functions-framework and
// google.go.build buildpacks: cmd/go/functions_framework and cmd/go/build in
// GoogleCloudPlatform/buildpacks).
const (
	// sourceDirName is where the buildpack moves the upload, inside the image's working directory,
	// and so where a deployed function finds its files relative to its working directory.
	sourceDirName = "serverless_function_source_code"
	// appPackageDir is where the buildpack writes the main package it generates: a directory of the
	// function's own module, so that the program is built from that module, its go.mod and go.sum.
	appPackageDir = "functions.local/app"
	// frameworkModule is functions-framework-go, which the generated main package starts.
	frameworkModule = "github.com/GoogleCloudPlatform/functions-framework-go"
	// frameworkVersion is the version the buildpack adds to go.mod when go.mod requires none.
	frameworkVersion = "v1.9.2"
	// declarativePackage, when the function package imports it, makes the buildpack generate a main
	// package that only imports the function package: its init registers the functions.
	declarativePackage = frameworkModule + "/functions"
)

// functionBuild is what the buildpack makes of an upload: the image's working directory and the
// program.
type functionBuild struct {
	module    string   // the function's module path, from its go.mod
	workspace string   // the image's working directory: serverless_function_source_code/ and nothing else
	source    string   // workspace/serverless_function_source_code: the upload, the function's module
	binary    string   // the program, outside the workspace as in the buildpack's bin layer
	uploaded  []string // the uploaded files, slash-separated and relative to the repository root
	unused    []string // the uploaded files the program's build did not read
	tidied    tidyChanges
	steps     []string // what the build did and how long each step took
}

// tidyChanges is what the buildpack's go mod tidy changed in the uploaded go.mod and go.sum.
type tidyChanges struct {
	modRemoved, modAdded []string // requirements of go.mod, as "path version"
	sumAdded             []string // lines of go.sum
}

// stepError is a build step that failed, as the buildpack's log would show it: the command, the
// directory it ran in, and its output.
type stepError struct {
	step   string
	dir    string
	output string
	err    error
}

func (e *stepError) Error() string {
	return fmt.Sprintf("%s (in %s): %v\n%s", e.step, e.dir, e.err, e.output)
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

// builtFunction builds what .gcloudignore uploads, once per test binary, and returns the build.
func builtFunction(t *testing.T) *functionBuild {
	t.Helper()
	root := testhost.RepoRoot(t)
	git := gitForGcloudignore(t)
	goTool := goCommandPath(t)
	buildOnce.Do(func() {
		built, buildErr = func() (*functionBuild, error) {
			rules, err := os.ReadFile(filepath.Join(root, ".gcloudignore"))
			if err != nil {
				return nil, fmt.Errorf("reading .gcloudignore: %w", err)
			}
			upload, err := uploadedFiles(root, git, rules)
			if err != nil {
				return nil, err
			}
			if buildRoot, err = os.MkdirTemp("", "deploycheck-buildpack-"); err != nil {
				return nil, err
			}
			return buildLikeBuildpack(root, upload, buildRoot, goTool)
		}()
	})
	if buildErr != nil {
		t.Fatalf("building what .gcloudignore uploads as Google's Go buildpack does: %v", buildErr)
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

func goCommandPath(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	return goTool
}

// buildLikeBuildpack builds upload, the files of root that gcloud uploads, in dir as the buildpack
// builds a function whose source has a go.mod:
//
//  1. the upload lands in the image's working directory, and everything in it but .google* moves
//     into serverless_function_source_code/;
//  2. the .go files there name the function package (one package, all files, whatever their build
//     constraints or name), and tell whether it imports functions-framework's functions package;
//  3. go list -m names the module, which is the function package's import path;
//  4. go.mod must require functions-framework, or go mod edit adds it at frameworkVersion;
//  5. main.go is written in serverless_function_source_code/functions.local/app/;
//  6. go mod tidy runs in serverless_function_source_code/, over every package of the module: the
//     upload's and the generated one;
//  7. go build -o <bin layer>/main <that directory>, from serverless_function_source_code/, with
//     no flags (deploy.sh sets no GOOGLE_GOGCFLAGS or GOOGLE_GOLDFLAGS).
//
// A failed step is a *stepError.
func buildLikeBuildpack(root string, upload []string, dir, goTool string) (*functionBuild, error) {
	env, err := buildEnvironment(goTool)
	if err != nil {
		return nil, err
	}
	b := &functionBuild{
		workspace: filepath.Join(dir, "workspace"),
		binary:    filepath.Join(dir, "layers", "bin", "main"),
		uploaded:  upload,
	}
	b.source = filepath.Join(b.workspace, sourceDirName)
	timed := func(step string, run func() error) error {
		start := time.Now()
		err := run()
		b.steps = append(b.steps, fmt.Sprintf("%s: %v", step, time.Since(start).Round(time.Millisecond)))
		return err
	}
	goRun := func(step string, args ...string) (string, error) {
		cmd := exec.Command(goTool, args...)
		cmd.Dir, cmd.Env = b.source, env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return "", &stepError{step: step, dir: sourceDirName, output: stdout.String() + stderr.String(), err: err}
		}
		return stdout.String(), nil
	}

	err = timed(fmt.Sprintf("unpack the %d uploaded files", len(upload)), func() error {
		for _, name := range upload {
			if err := copyTreeFile(filepath.Join(root, filepath.FromSlash(name)), filepath.Join(b.workspace, filepath.FromSlash(name))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	if err := timed("move the upload into "+sourceDirName+"/", b.moveUploadIntoSource); err != nil {
		return nil, err
	}

	pkgName, imports, err := functionPackage(b.source)
	if err != nil {
		return nil, &stepError{step: "naming the function package", dir: sourceDirName, err: err}
	}
	if _, err := os.Stat(filepath.Join(b.source, "go.mod")); err != nil {
		return nil, fmt.Errorf("the upload has no go.mod (is it in .gcloudignore?); the buildpack would build it in GOPATH mode, which this build does not model: %w", err)
	}
	if _, err := os.Stat(filepath.Join(b.source, "vendor")); err == nil {
		return nil, errors.New("the upload has a vendor directory; the buildpack builds those another way, which this build does not model")
	}
	if _, err := os.Stat(filepath.Join(b.source, "go.sum")); err != nil {
		if err := timed("go mod tidy, for want of a go.sum", func() error {
			if err := fillModuleCache(goTool, root); err != nil {
				return err
			}
			_, err := goRun("go mod tidy", "mod", "tidy")
			return err
		}); err != nil {
			return nil, err
		}
	}

	out, err := goRun("go list -m", "list", "-m")
	if err != nil {
		return nil, err
	}
	b.module = strings.TrimSpace(out)
	if first, _, _ := strings.Cut(b.module, "/"); !strings.Contains(first, ".") {
		return nil, fmt.Errorf("the buildpack refuses the module path %q: its first element must contain a dot", b.module)
	}
	// The function package is the module's root package, unless the working directory has a
	// directory named after the package (it holds only serverless_function_source_code/ by now).
	pkgPath := b.module
	if _, err := os.Stat(filepath.Join(b.workspace, pkgName)); err == nil {
		pkgPath = b.module + "/" + pkgName
	}

	if _, err := goRun("go list -m "+frameworkModule, "list", "-m", "-f", "{{.Version}}", frameworkModule); err != nil {
		if _, err := goRun("go mod edit -require", "mod", "edit", "-require", frameworkModule+"@"+frameworkVersion); err != nil {
			return nil, err
		}
	}
	if !imports[declarativePackage] {
		return nil, fmt.Errorf("the function package does not import %s: the buildpack would generate a main package that registers FUNCTION_TARGET's exported function, built once per function, which this build does not model", declarativePackage)
	}
	if err := writeTreeFile(filepath.Join(b.source, filepath.FromSlash(appPackageDir), "main.go"), fmt.Appendf(nil, generatedMain, pkgPath), 0o644); err != nil {
		return nil, err
	}

	if err := timed("fill the module cache", func() error { return fillModuleCache(goTool, root) }); err != nil {
		return nil, err
	}
	modBefore, sumBefore := nonEmptyLines(filepath.Join(b.source, "go.mod")), nonEmptyLines(filepath.Join(b.source, "go.sum"))
	if err := timed("go mod tidy", func() error {
		_, err := goRun("go mod tidy", "mod", "tidy")
		return err
	}); err != nil {
		return nil, err
	}
	modAfter, sumAfter := nonEmptyLines(filepath.Join(b.source, "go.mod")), nonEmptyLines(filepath.Join(b.source, "go.sum"))
	b.tidied = tidyChanges{
		modRemoved: linesNotIn(requirements(modBefore), requirements(modAfter)),
		modAdded:   linesNotIn(requirements(modAfter), requirements(modBefore)),
		sumAdded:   linesNotIn(sumAfter, sumBefore),
	}

	appDir := filepath.Join(b.source, filepath.FromSlash(appPackageDir))
	if err := timed("go build", func() error {
		_, err := goRun("go build", "build", "-o", b.binary, appDir)
		return err
	}); err != nil {
		return nil, err
	}

	// Not a step of the buildpack: the files the program's build read, to tell the upload's dead weight.
	err = timed("go list -deps (the files the build read)", func() error {
		out, err := goRun("go list -deps", "list", "-deps", "-f", `{{if .Module}}{{if eq .Module.Path "`+b.module+`"}}{{$dir := .Dir}}{{range .GoFiles}}{{$dir}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$dir}}/{{.}}
{{end}}{{end}}{{end}}`, appDir)
		if err != nil {
			return err
		}
		used := map[string]bool{"go.mod": true, "go.sum": true}
		for _, path := range strings.Fields(out) {
			if rel, err := filepath.Rel(b.source, path); err == nil {
				used[filepath.ToSlash(rel)] = true
			}
		}
		for _, name := range b.uploaded {
			if !used[name] {
				b.unused = append(b.unused, name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// moveUploadIntoSource moves what is in the workspace into serverless_function_source_code/, as the
// buildpack does before anything else: a serverless_function_source_code/ of the upload is
// replaced, and names starting with .google stay where they are.
func (b *functionBuild) moveUploadIntoSource() error {
	if err := os.RemoveAll(b.source); err != nil {
		return err
	}
	if err := os.MkdirAll(b.source, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(b.workspace)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == sourceDirName || strings.HasPrefix(e.Name(), ".google") {
			continue
		}
		if err := os.Rename(filepath.Join(b.workspace, e.Name()), filepath.Join(b.source, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// functionPackage reads the package clause and the imports of every .go file in dir, as the
// buildpack does to name the function package: _test.go files and files excluded by build
// constraints count too, and all must be of one package.
func functionPackage(dir string) (name string, imports map[string]bool, err error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", nil, err
	}
	imports = map[string]bool{}
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, parser.ImportsOnly)
		if err != nil {
			return "", nil, err
		}
		if name != "" && f.Name.Name != name {
			return "", nil, fmt.Errorf("multiple packages in the function's directory: %s and %s", name, f.Name.Name)
		}
		name = f.Name.Name
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			imports[path] = true
		}
	}
	if name == "" {
		return "", nil, errors.New("no Go package in the function's directory")
	}
	return name, imports, nil
}

// generatedMain is the main package the buildpack writes, in this project's words, for a function
// package that imports functions-framework's functions package: it imports the function package for
// its init, which registers the functions, and has functions-framework serve on $PORT the one
// FUNCTION_TARGET names. Its verb is the function package's import path.
const generatedMain = `// Command app serves one function of the function package, the one FUNCTION_TARGET names.
package main

import (
	"log"
	"net/http"
	"os"

	_ %q

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

func main() {
	// Paths a browser asks for on its own; functions-framework serves its own mux, so these go unused.
	http.HandleFunc("/robots.txt", http.NotFound)
	http.HandleFunc("/favicon.ico", http.NotFound)

	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := funcframework.Start(port); err != nil {
		log.Fatalf("serving the function: %%v", err)
	}
}
`

// buildEnvironment is the environment of the build's go commands: the go command's defaults, as in
// the buildpack's build image (no GOFLAGS, no go.work, no go env file, the toolchain at hand), with
// this machine's module and build caches, and no network. The buildpack runs go mod tidy with
// GOPROXY=https://proxy.golang.org|direct and starts with empty caches; here GOPROXY=off and
// GOSUMDB=off make a module or checksum missing from the cache and go.sum an error or a line tidy
// adds to go.sum (see tidyChanges), instead of a download.
func buildEnvironment(goTool string) ([]string, error) {
	out, err := exec.Command(goTool, "env", "GOMODCACHE", "GOCACHE").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	caches := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(caches) != 2 || caches[0] == "" || caches[1] == "" {
		return nil, fmt.Errorf("go env GOMODCACHE GOCACHE printed %q, want two paths", out)
	}
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(name, "GO") && !strings.HasPrefix(name, "CGO_") {
			env = append(env, kv)
		}
	}
	return append(env, "GOENV=off", "GOTOOLCHAIN=local", "GOPROXY=off", "GOSUMDB=off",
		"GOMODCACHE="+caches[0], "GOCACHE="+caches[1]), nil
}

// fillModuleCache makes sure, once per test binary, that the module cache holds what the build's
// go mod tidy loads, which a fresh machine's cache does not: go test downloaded only what the tests
// build, and tidy also loads, for instance, the modules of the tests of the packages the function
// imports. It runs go mod tidy -diff in the repository root (whose packages include every uploaded
// one), which changes no file, with the go command's own settings (GOPROXY, GOSUMDB, GOENV's file):
// with a full cache it reaches no network; otherwise it downloads what is missing, checked against
// go.sum as usual. When it cannot, the error says in one line what to run.
func fillModuleCache(goTool, root string) error {
	cacheOnce.Do(func() {
		cmd := exec.Command(goTool, "mod", "tidy", "-diff")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		// Exit status 1 with nothing on stderr but the downloads: the repository's go.mod or
		// go.sum is not tidy, which TestBuildpackTidyNeedsNothingBeyondTheUploadedGoSum reports.
		err := cmd.Run()
		var problems []string
		for _, line := range strings.Split(stderr.String(), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "go: downloading ") {
				problems = append(problems, line)
			}
		}
		if err != nil && len(problems) > 0 {
			cacheErr = fmt.Errorf("the module cache lacks modules that the buildpack's go mod tidy loads, and they could not be downloaded (%s): run `go mod tidy -diff` in the repository where the Go module proxy is reachable (it downloads them and changes no file), then run the tests again", problems[len(problems)-1])
		}
	})
	return cacheErr
}

var (
	cacheOnce sync.Once
	cacheErr  error
)

// nonEmptyLines returns the non-blank lines of a file, trimmed; none when it cannot be read.
func nonEmptyLines(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var lines []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

// requirements returns the requirements of a go.mod's lines, as "path version", whether in a
// require block or on a require line, marked indirect or not.
func requirements(goMod []string) []string {
	var reqs []string
	inBlock := false
	for _, line := range goMod {
		switch {
		case line == "require (":
			inBlock = true
		case inBlock && line == ")":
			inBlock = false
		case inBlock || strings.HasPrefix(line, "require "):
			if fields := strings.Fields(strings.TrimPrefix(line, "require ")); len(fields) >= 2 {
				reqs = append(reqs, fields[0]+" "+fields[1])
			}
		}
	}
	return reqs
}

// linesNotIn returns the lines of a that b lacks.
func linesNotIn(a, b []string) []string {
	in := map[string]bool{}
	for _, line := range b {
		in[line] = true
	}
	var missing []string
	for _, line := range a {
		if !in[line] {
			missing = append(missing, line)
		}
	}
	return missing
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

// newWorkspace gives a function instance the image's working directory, as Cloud Functions does: a
// copy of the build's, serverless_function_source_code/ and nothing else. It returns the directory.
func newWorkspace(t *testing.T, b *functionBuild) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir(b.workspace, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(b.workspace, path)
		return copyTreeFile(path, filepath.Join(dir, rel))
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
