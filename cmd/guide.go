package main

import (
	"fmt"
	"strconv"
	"strings"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
)

// What the runner tells a person at a terminal, in sentences rather than
// log records: where to go once it is ready, and what to do when it cannot
// start. With JSON logs the same facts go into log records.

// readyText is the last thing the runner prints on a terminal when it is
// ready: the address to open, the demo accounts when the emulator runs
// (accounts is nil otherwise), and how to stop.
func readyText(base, target string, accounts []fakegoogle.Account) string {
	var b strings.Builder
	b.WriteString("\n")
	switch {
	case target != "":
		fmt.Fprintf(&b, "Serving the function %s alone, at %s/ and every path under it, as Cloud Functions would.\n", target, base)
	case accounts != nil:
		fmt.Fprintf(&b, "The demo is ready. Open %s/ in a browser.\n\n", base)
		b.WriteString("Google's sign-in and Gmail are emulated inside this process: there is no password,\n")
		b.WriteString("and nothing leaves this machine. Choose one of these demo accounts:\n")
		for _, a := range accounts {
			fmt.Fprintf(&b, "  - %s <%s>\n", a.Name, a.Email)
		}
	default:
		fmt.Fprintf(&b, "The app is ready. Open %s/ in a browser and sign in with your Google account.\n", base)
	}
	b.WriteString("\nPress Ctrl-C to stop.\n")
	return b.String()
}

// missingSecretText explains what to do when there is no client secret
// file: where it goes (path), which redirect URI to register with Google
// (redirect), and that -demo needs neither.
func missingSecretText(path, redirect string) string {
	return fmt.Sprintf(`There is no client secret file: %s does not exist.

To try the app without a Google account, run the demo instead:
    go run ./cmd -demo

To sign in with real Google, create an OAuth client of type "Web application" in the Google
Cloud console (APIs & Services > Credentials), register this authorized redirect URI:
    %s
then download the client's JSON, save it as %s
(or set CLIENT_SECRET_FILE to where it is), and run go run ./cmd again.
`, path, redirect, path)
}

// portTakenText says that port is taken and how to choose another: the
// command to run, with the runner's own arguments (args). Without the demo,
// Google must also know the new port's redirect URI.
func portTakenText(port string, demo bool, args []string, problem string) string {
	next := nextPort(port)
	command := strings.Join(append([]string{"PORT=" + next, "go run ./cmd"}, args...), " ")
	text := fmt.Sprintf(`Port %s is taken by another program (%s).
Stop that program, or choose another port:
    %s
`, port, problem, command)
	if !demo {
		text += fmt.Sprintf("Then register http://localhost:%s/oauth2callback as a redirect URI of your OAuth client too.\n", next)
	}
	return text
}

// nextPort is the port to suggest when port is taken: the next one, or
// 8081 when there is no next one to suggest.
func nextPort(port string) string {
	if n, err := strconv.Atoi(port); err == nil && n >= 1024 && n < 65535 {
		return strconv.Itoa(n + 1)
	}
	return "8081"
}
