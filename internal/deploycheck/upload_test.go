package deploycheck

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// uploadedFiles lists what `gcloud functions deploy --source=.` uploads from root when rules is its
// .gcloudignore: every file of the working tree, tracked by git or not, that rules do not exclude,
// slash-separated and sorted. gcloud reads .gcloudignore with gitignore's syntax and semantics, so
// git's own matcher applies rules, with the file types of the working tree: a pattern ending in "/"
// matches directories only, and a git worktree's or submodule's .git is a file, not a directory.
//
// The scratch repository's own store lives outside its work tree, so that the matcher does not take
// a listed .git for that store's directory, and no other ignore file (the repository's .gitignore, a
// global one) has a say. gcloud also follows symbolic links: a linked file is listed (and later
// copied) with its target's content; linked directories are not followed here.
func uploadedFiles(root, git string, rules []byte) ([]string, error) {
	var all []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir() && rel == ".git":
			return filepath.SkipDir // git's store; the rules are checked against .git/HEAD below
		case d.Type().IsRegular():
			all = append(all, rel)
		case d.Type()&fs.ModeSymlink != 0:
			if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
				all = append(all, rel)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the working tree: %w", err)
	}
	// A file inside a .git directory, whether or not this checkout has one: the rules must keep
	// the history of the repository out of the upload in every checkout.
	const storeFile = ".git/HEAD"
	all = append(all, storeFile)

	scratch, err := os.MkdirTemp("", "deploycheck-gcloudignore-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	tree := filepath.Join(scratch, "tree")
	if err := writeTreeFile(filepath.Join(tree, ".gitignore"), rules, 0o644); err != nil {
		return nil, err
	}
	gitEnv := []string{"HOME=" + scratch, "XDG_CONFIG_HOME=" + scratch, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull, "PATH=" + os.Getenv("PATH"),
		"GIT_DIR=" + filepath.Join(scratch, "store"), "GIT_WORK_TREE=" + tree}
	initCmd := exec.Command(git, "init", "-q")
	initCmd.Dir, initCmd.Env = tree, gitEnv
	if out, err := initCmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git init: %v\n%s", err, out)
	}
	check := exec.Command(git, "check-ignore", "--no-index", "--stdin", "-z")
	check.Dir, check.Env = tree, gitEnv
	check.Stdin = strings.NewReader(strings.Join(all, "\x00") + "\x00")
	var stderr bytes.Buffer
	check.Stderr = &stderr
	out, err := check.Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) { // 1: nothing is ignored
		return nil, fmt.Errorf("git check-ignore: %v\n%s", err, stderr.String())
	}
	ignored := map[string]bool{}
	for _, name := range strings.Split(string(out), "\x00") {
		ignored[name] = true
	}
	var uploaded []string
	for _, name := range all {
		if ignored[name] {
			continue
		}
		if slices.Contains(strings.Split(name, "/"), ".git") {
			return nil, fmt.Errorf(".gcloudignore lets gcloud upload %s: a .git directory holds the repository's history, and a .git file (a worktree's, a submodule's) the path of a local checkout", name)
		}
		uploaded = append(uploaded, name)
	}
	slices.Sort(uploaded)
	return uploaded, nil
}
