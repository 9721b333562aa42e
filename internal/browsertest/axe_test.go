package browsertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axePath is axe-core's browser script, installed by test.sh with npm ci
// from testdata/axe/package-lock.json (which pins its version and checksum).
var axePath = filepath.Join("testdata", "axe", "node_modules", "axe-core", "axe.min.js")

var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(axePath)
	return string(b), err
})

// axeScript returns axe-core's source. Without it the test fails when
// CI=true and is skipped otherwise, like a missing Chromium.
func axeScript(t *testing.T) string {
	t.Helper()
	src, ok := axeInstalled(t)
	if !ok {
		t.Skip(axeMissing)
	}
	return src
}

const axeMissing = "axe-core is not installed: run ./test.sh, or (cd internal/browsertest/testdata/axe && npm ci)"

// axeInstalled returns axe-core's source, or false when it is not
// installed; under CI=true, that fails the test.
func axeInstalled(t *testing.T) (string, bool) {
	t.Helper()
	src, err := axeSource()
	if err == nil && src != "" {
		return src, true
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (%v)", axeMissing, err)
	}
	return "", false
}

// axeViolation is one rule that failed on a page, with every element that
// failed it.
type axeViolation struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"`
	Help    string    `json:"help"`
	HelpURL string    `json:"helpUrl"`
	Nodes   []axeNode `json:"nodes"`
}

type axeNode struct {
	Target  string `json:"target"`  // CSS selector of the element
	Summary string `json:"summary"` // what to fix
}

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s, %s", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n\t\ttarget %s: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// axeResult is what axe-core found on a page.
type axeResult struct {
	Version    string         `json:"version"`
	Violations []axeViolation `json:"violations"`
	Incomplete []axeViolation `json:"incomplete"` // what axe could not decide
}

// axeRunJS runs axe-core on the whole document with its default rules (WCAG
// 2.0, 2.1 and 2.2 A and AA, and best practices) plus target-size (WCAG 2.2
// AA), which axe leaves off by default.
const axeRunJS = `(async () => {
	const result = await axe.run(document, {
		resultTypes: ["violations"],
		rules: {"target-size": {enabled: true}},
	});
	const rules = list => list.map(r => ({
		id: r.id,
		impact: r.impact || "",
		help: r.help,
		helpUrl: r.helpUrl,
		nodes: r.nodes.map(n => ({target: n.target.map(String).join(" "), summary: n.failureSummary || ""})),
	}));
	return {version: axe.version, violations: rules(result.violations), incomplete: rules(result.incomplete)};
})()`

// runAxe injects axe-core into the page shown, unless it is there already,
// and runs it. The script goes in through DevTools, which the pages'
// Content-Security-Policy does not apply to.
func (s *session) runAxe(src string) axeResult {
	s.t.Helper()
	if !run(s, "look for axe-core in the page", chromedp.Evaluate[bool](`typeof axe === "object"`)) {
		run(s, "inject axe-core", chromedp.Evaluate[bool](src+"\n;true"))
	}
	return run(s, "run axe-core", chromedp.Evaluate[axeResult](axeRunJS, chromedp.EvalAwaitPromise))
}

// checkAxe fails the test for every rule axe-core finds broken on the page
// shown, with its impact and the elements that break it; where says which
// page, width and color scheme. What axe cannot decide is logged.
func (s *session) checkAxe(src, where string) {
	s.t.Helper()
	r := s.runAxe(src)
	for _, v := range r.Violations {
		s.t.Errorf("%s: axe-core %s: %s", where, r.Version, v)
	}
	for _, v := range r.Incomplete {
		s.t.Logf("%s: axe-core %s could not decide, check by eye: %s", where, r.Version, v)
	}
	s.t.Logf("%s: axe-core %s: %d violations, %d undecided", where, r.Version, len(r.Violations), len(r.Incomplete))
}
