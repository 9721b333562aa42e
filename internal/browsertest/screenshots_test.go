package browsertest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestScreenshotsReplaceTheTestsOwnAndKeepTheOthers runs the folder as
// three runs of go test would: the gallery, then a test of a new function,
// then the gallery again with one page fewer.
func TestScreenshotsReplaceTheTestsOwnAndKeepTheOthers(t *testing.T) {
	dir := t.TempDir()
	png := []byte("\x89PNG")
	runOf := func(test string, pages ...string) {
		t.Helper()
		folder := &screenshotFolder{started: map[string]bool{}} // a new process
		for _, p := range pages {
			if err := folder.save(dir, test, p, png); err != nil {
				t.Fatal(err)
			}
		}
	}
	pngs := func() []string {
		t.Helper()
		files, err := filepath.Glob(filepath.Join(dir, "*.png"))
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range files {
			files[i] = filepath.Base(f)
		}
		return files
	}
	// Someone's own file in the folder is never touched.
	if err := os.WriteFile(filepath.Join(dir, "mine.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}

	runOf("TestGallery", "labels-1000px-light", "signout-1000px-light")
	runOf("TestListFiles/signed in", "listfiles-1000px-light")
	if got, want := pngs(), []string{"labels-1000px-light.png", "listfiles-1000px-light.png", "mine.png", "signout-1000px-light.png"}; !slices.Equal(got, want) {
		t.Errorf("after the gallery and a new function's test: %q, want %q", got, want)
	}
	runOf("TestGallery", "labels-1000px-light")
	if got, want := pngs(), []string{"labels-1000px-light.png", "listfiles-1000px-light.png", "mine.png"}; !slices.Equal(got, want) {
		t.Errorf("after the gallery ran again without the signout page: %q, want %q", got, want)
	}
	list, err := os.ReadFile(filepath.Join(dir, "TestListFiles_signed_in.txt"))
	if err != nil || string(list) != "listfiles-1000px-light.png\n" {
		t.Errorf("the new function's test lists %q (%v), want its one screenshot", list, err)
	}
}
