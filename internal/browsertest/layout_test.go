package browsertest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// A screen a page is looked at on.
type screen struct {
	width, height int64
	phone         bool // a mobile viewport, which honours <meta name="viewport">
	screenshot    bool // saved under artifacts/screenshots
	// axe runs axe-core there too. It takes about half a second a page, so
	// it runs on the widest and the narrowest screen, where layouts differ
	// most.
	axe bool
}

var (
	desktop = screen{width: 1000, height: 800, screenshot: true, axe: true}
	phone   = screen{width: 375, height: 812, phone: true, screenshot: true}
	// narrowest is the narrowest screen the pages support (the contract's
	// 320 px): no horizontal scrolling there.
	narrowest = screen{width: 320, height: 640, phone: true, axe: true}
	screens   = []screen{desktop, phone, narrowest}
	schemes   = []string{"light", "dark"}
)

// minTarget is the size in CSS px of the smallest tap target: 44 by 44, as
// WCAG 2.5.5 and Apple's and Google's guidelines ask.
const minTarget = 44

// inspect looks at the page shown as a person would, in light and dark color
// scheme, on a 1000 px desktop, a 375 px phone and a 320 px phone: axe-core
// finds no violation (on the desktop and the 320 px phone), nothing is wider
// than the screen, and every link and button is large enough to tap. It saves screenshots of the desktop and
// phone views as <name>-<width>px-<scheme>.png, and leaves the tab as it
// found it (light, the browser's own viewport).
func (s *session) inspect(name, axeSrc string) {
	s.t.Helper()
	defer s.do("reset the color scheme and viewport", colorScheme(""), chromedp.ResetViewport())
	for _, scheme := range schemes {
		s.do("emulate prefers-color-scheme: "+scheme, colorScheme(scheme))
		for _, sc := range screens {
			where := fmt.Sprintf("%s page at %d px, %s", name, sc.width, scheme)
			s.do("resize the viewport for the "+where, sc.emulate())
			if sc.screenshot {
				s.screenshot(fmt.Sprintf("%s-%dpx-%s", name, sc.width, scheme))
			}
			if sc.axe {
				s.checkAxe(axeSrc, where)
			}
			s.checkFits(where)
			s.checkTapTargets(where)
		}
	}
}

// emulate makes the tab's viewport this screen.
func (sc screen) emulate() chromedp.Action[chromedp.Void] {
	opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
	if sc.phone {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.EmulateViewport(sc.width, sc.height, opts...)
}

// colorScheme emulates prefers-color-scheme; "" ends the emulation.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var features []*emulation.MediaFeature
		if scheme != "" {
			features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
		}
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features})
		return err
	})
}

// describeJS defines describe(el): a short CSS-like name of an element and
// the start of its text, for failure messages.
const describeJS = `const describe = el => {
	let d = el.tagName.toLowerCase();
	if (el.id) d += "#" + el.id;
	for (const c of el.classList) d += "." + c;
	const text = (el.innerText || el.value || "").trim().replace(/\s+/g, " ");
	return text ? d + " " + JSON.stringify(text.length > 40 ? text.slice(0, 40) + "…" : text) : d;
};`

// fit is how the page fits the width of the screen.
type fit struct {
	ScrollWidth float64 `json:"scrollWidth"`
	ClientWidth float64 `json:"clientWidth"`
	// Beyond are the outermost elements that reach past the left or right
	// edge of the screen.
	Beyond []string `json:"beyond"`
	// Spilling are elements whose content is wider than their own box:
	// text running over its neighbours, or cut off.
	Spilling []string `json:"spilling"`
}

const fitJS = `(() => {
	` + describeJS + `
	const root = document.documentElement, width = root.clientWidth;
	const beyond = [], spilling = [];
	for (const el of document.body.querySelectorAll("*")) {
		const r = el.getBoundingClientRect();
		if (r.width > 0 && (r.right > width + 0.5 || r.left < -0.5) && !beyond.some(b => b.contains(el))) {
			beyond.push(el);
		}
		// Text clipped on purpose (read by screen readers, not shown) is
		// not spilling.
		const cs = getComputedStyle(el), clipped = cs.clip !== "auto" || cs.clipPath !== "none";
		if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && !clipped) {
			spilling.push(describe(el) + " (content " + el.scrollWidth + " px wide in " + el.clientWidth + " px)");
		}
	}
	return {
		scrollWidth: root.scrollWidth,
		clientWidth: width,
		beyond: beyond.slice(0, 5).map(el => {
			const r = el.getBoundingClientRect();
			return describe(el) + " (from " + Math.round(r.left) + " to " + Math.round(r.right) + " px)";
		}),
		spilling: spilling.slice(0, 5),
	};
})()`

// measureFit measures how the page shown fits the width of the screen.
func (s *session) measureFit() fit {
	s.t.Helper()
	return run(s, "measure the width of the page", chromedp.Evaluate[fit](fitJS))
}

// checkFits fails the test when the page scrolls sideways or some text
// does not fit its box, naming the elements at fault.
func (s *session) checkFits(where string) {
	s.t.Helper()
	f := s.measureFit()
	if f.ScrollWidth > f.ClientWidth || len(f.Beyond) > 0 {
		culprits := "the text of an element (below)"
		if len(f.Beyond) > 0 {
			culprits = strings.Join(f.Beyond, "; ")
		}
		s.t.Errorf("%s: the page is %v px wide on a %v px wide screen; want no horizontal scrolling. Too wide: %s",
			where, f.ScrollWidth, f.ClientWidth, culprits)
	}
	if len(f.Spilling) > 0 {
		s.t.Errorf("%s: content wider than its box, so it overlaps or is cut off: %s", where, strings.Join(f.Spilling, "; "))
	}
}

// target is a link or control smaller than minTarget.
type target struct {
	What   string  `json:"what"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// tapTargetsJS lists the visible links and controls smaller than the
// minimum. A control's label counts as part of it, since pressing the label
// presses the control. Links inside a sentence are exempt, as in WCAG 2.5.5:
// they are as tall as the line of text they are in.
const tapTargetsJS = `(min => {
	` + describeJS + `
	const inSentence = el => {
		if (getComputedStyle(el).display !== "inline") return false;
		let block = el.parentElement;
		while (block && getComputedStyle(block).display === "inline") block = block.parentElement;
		return block && block.textContent.replace(el.textContent, "").trim() !== "";
	};
	const small = [];
	const controls = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, [role="button"], [role="link"]';
	for (const el of document.querySelectorAll(controls)) {
		if (el.getClientRects().length === 0 || getComputedStyle(el).visibility !== "visible") continue;
		if (el.tagName === "A" && inSentence(el)) continue;
		let width = 0, height = 0;
		for (const box of [el, ...(el.labels || [])]) {
			const r = box.getBoundingClientRect();
			if (r.width * r.height > width * height) { width = r.width; height = r.height; }
		}
		if (width < min - 0.01 || height < min - 0.01) small.push({what: describe(el), width, height});
	}
	return small;
})`

// smallTargets returns the links and controls of the page shown that are
// smaller than minTarget in either direction.
func (s *session) smallTargets() []target {
	s.t.Helper()
	return run(s, "measure the links and buttons", chromedp.Evaluate[[]target](tapTargetsJS+"("+strconv.Itoa(minTarget)+")"))
}

// checkTapTargets fails the test for every link or control smaller than
// minTarget in either direction.
func (s *session) checkTapTargets(where string) {
	s.t.Helper()
	for _, tt := range s.smallTargets() {
		s.t.Errorf("%s: %s is %.1f by %.1f px; want at least %d by %d to be easy to tap",
			where, tt.What, tt.Width, tt.Height, minTarget, minTarget)
	}
}

// screenshot saves a full-page PNG of the page shown as name.png.
func (s *session) screenshot(name string) {
	s.t.Helper()
	png := run(s, "take a screenshot of the "+name+" page", chromedp.FullScreenshot(100))
	if err := screenshots.save(s.dir, s.t.Name(), name, png); err != nil {
		s.t.Fatal(err)
	}
}

// screenshots is the folder of screenshots every test of this process adds
// to.
var screenshots = &screenshotFolder{started: map[string]bool{}}

// screenshotFolder keeps, in a folder, the screenshots of the latest run of
// every test: each test lists the ones it saved in <test>.txt there, and
// the first screenshot a test saves in a process removes those its earlier
// run listed. So a page that is gone loses its screenshots, and a test
// (of a new function, say) adds its own without removing the others'.
type screenshotFolder struct {
	mu      sync.Mutex
	started map[string]bool // the tests that have saved a screenshot in this process
}

// save writes png as name.png in dir, for test.
func (f *screenshotFolder) save(dir, test, name string, png []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := filepath.Join(dir, fileName(test)+".txt")
	if !f.started[test] {
		f.started[test] = true
		earlier, _ := os.ReadFile(list) // none the first time
		for _, file := range strings.Fields(string(earlier)) {
			_ = os.Remove(filepath.Join(dir, filepath.Base(file)))
		}
		if err := os.Remove(list); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	file := fileName(name) + ".png"
	if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
		return err
	}
	l, err := os.OpenFile(list, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(l, file)
	return errors.Join(err, l.Close())
}
