// Package browsertest holds real-browser tests of the demo: they build and
// start `go run ./cmd -demo` as a user would, drive Debian's headless
// Chromium through it with chromedp (consent, labels, deny, sign-out, label
// escaping) and check what a person would see on every page, saving a
// screenshot of each page under artifacts/screenshots at the repository root.
//
// The tests need the Debian package chromium (/usr/bin/chromium). Without it
// they are skipped, except when CI=true, where they fail. They never download
// a browser, and the browser never needs the network.
package browsertest
