package browsertest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// brokenPage breaks each check of inspect once, under a
// Content-Security-Policy as strict as the app's: an image without alt
// text, a box 400 px wide, a 20 px button, a lone one-letter link, and text
// that is readable in light color scheme only. Its inline link, inside a
// sentence, is exempt from the tap target size.
const brokenPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Broken on purpose</title>
<style nonce="checks">
body{margin:0;font:16px/1.5 sans-serif;color:#111;background:#fff}
main{padding:0 1rem}
#wide{width:400px;height:1rem;background:#ccc}
#tiny{width:20px;height:20px;padding:0}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}.dim{color:#333}}
</style>
</head>
<body>
<main>
<h1>Broken on purpose</h1>
<img id="noalt" width="40" height="40">
<div id="wide"></div>
<p><button id="tiny" type="button">x</button></p>
<p class="dim">Readable in light, hardly in dark.</p>
<p>A sentence with an <a id="inline" href="#">inline link</a> in it.</p>
<p><a id="lone" href="#">x</a></p>
</main>
</body>
</html>`

// TestInspectionCatchesAMissingAltAWideBoxSmallTargetsAndDarkOnlyContrast
// makes sure that the checks every page goes through can fail: each
// problem of brokenPage must be found, named by its element, in the color
// scheme and at the width where it shows, and only there.
func TestInspectionCatchesAMissingAltAWideBoxSmallTargetsAndDarkOnlyContrast(t *testing.T) {
	exe := chromium(t)
	axe := axeScript(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-checks'")
		_, _ = w.Write([]byte(brokenPage))
	}))
	defer srv.Close()
	s := newBrowser(t, exe, nil)
	s.open(srv.URL)

	// failed lists "rule target" for every violation axe-core reports.
	failed := func(scheme string) []string {
		s.do("emulate prefers-color-scheme: "+scheme, colorScheme(scheme))
		var out []string
		for _, v := range s.runAxe(axe).Violations {
			for _, n := range v.Nodes {
				out = append(out, v.ID+" "+n.Target)
			}
		}
		return out
	}
	light, dark := failed("light"), failed("dark")
	if want := "image-alt #noalt"; !slices.Contains(light, want) || !slices.Contains(dark, want) {
		t.Errorf("axe-core found %q in light, %q in dark; want %q in both", light, dark, want)
	}
	if want := "color-contrast .dim"; slices.Contains(light, want) || !slices.Contains(dark, want) {
		t.Errorf("axe-core found %q in light, %q in dark; want %q in dark only: is the dark color scheme emulated?", light, dark, want)
	}

	s.do("emulate a 1000 px screen", desktop.emulate())
	if f := s.measureFit(); f.ScrollWidth > f.ClientWidth || len(f.Beyond) > 0 {
		t.Errorf("at 1000 px: %+v; want the 400 px box to fit", f)
	}
	s.do("emulate a 320 px phone", narrowest.emulate())
	f := s.measureFit()
	if f.ClientWidth != float64(narrowest.width) || f.ScrollWidth <= f.ClientWidth {
		t.Errorf("at 320 px: the page is %v px wide in a %v px viewport; want wider than 320 px", f.ScrollWidth, f.ClientWidth)
	}
	if len(f.Beyond) != 1 || !strings.HasPrefix(f.Beyond[0], "div#wide ") {
		t.Errorf("at 320 px, elements past the edge: %q; want only div#wide", f.Beyond)
	}

	var small []string
	for _, tt := range s.smallTargets() {
		small = append(small, strings.Fields(tt.What)[0])
	}
	if !slices.Equal(small, []string{"button#tiny", "a#lone"}) {
		t.Errorf("small tap targets %q; want button#tiny and a#lone (a#inline is in a sentence)", small)
	}
}
