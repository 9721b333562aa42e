// Package browsertest holds real-browser tests of the demo: they build and
// start `go run ./cmd -demo` as a user would, drive Debian's headless
// Chromium through it with chromedp (consent, labels, deny, sign-out, label
// escaping) and check what a person would see on every page.
//
// Every page a test meets gets its basic facts checked (language, title, one
// heading, viewport, its own stylesheet applied) and goes through axe-core.
// TestEveryPageIsAccessibleAndFitsAPhoneInLightAndDark walks through every
// page a browser can reach, Google's emulated consent and error pages
// included, with the demo account that has a long address and over a
// hundred labels, and looks at each in light and dark color scheme at 1000,
// 375 and 320 px: no axe-core violation, no horizontal scrolling, links and
// buttons at least 44 by 44 px. It opens every function of the app's table
// (oauthgmail.Functions), signed in and signed out, so a new function's
// pages join it without a change here. Screenshots go to
// artifacts/screenshots at the repository root, as
// <page>-<width>px-<light|dark>.png; each test lists those it saved in
// <test>.txt there, and its next run replaces them and leaves the other
// tests' alone, so a browser test of a new function that calls inspect adds
// its own. A failed step saves failure-<test>.png there too.
//
// The tests need the Debian package chromium (/usr/bin/chromium) and
// axe-core, which test.sh installs with npm ci into testdata/axe/node_modules
// at the version and checksum that testdata/axe/package-lock.json pins.
// Without either, the tests are skipped (the axe-core checks alone when only
// axe-core is missing), except when CI=true, where they fail. They never
// download a browser, and the browser never needs the network: axe-core's
// script is injected into each page through DevTools, which the pages'
// Content-Security-Policy does not restrict.
package browsertest
