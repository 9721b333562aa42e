package oauthgmail

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"
	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/googleapi"

	"example.com/gcf-oauth-gmail/internal/pages"
	"example.com/gcf-oauth-gmail/internal/session"
	"example.com/gcf-oauth-gmail/internal/upstream"
)

// listLabels calls Gmail with the session's token, refreshing it first when
// it has expired (and once more if Gmail rejects it), and shows the labels.
// Whenever the user must consent again, it clears the session and sends the
// browser to oauth2init.
func (a *app) listLabels(w http.ResponseWriter, r *http.Request) {
	sess, err := a.store.Session(r)
	if err != nil {
		a.restartSignIn(w, r, err != session.ErrMissing, "no usable session", err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.timeout)
	defer cancel()

	// The page shows only names and types, so it asks Gmail for nothing
	// else; JSON clients get every field Gmail returns.
	asJSON := wantsJSON(r)
	fields := pageFields
	if asJSON {
		fields = ""
	}
	refreshed := false
	if !sess.Token.Valid() {
		if sess.Token.RefreshToken == "" {
			a.restartSignIn(w, r, true, "access token expired and there is no refresh token", nil)
			return
		}
		if !a.refresh(ctx, w, r, &sess) {
			return
		}
		refreshed = true
	}
	labels, err := a.fetchLabels(ctx, sess.Token, fields)
	if isUnauthorized(err) && !refreshed && sess.Token.RefreshToken != "" {
		// Gmail can reject a token before its stated expiry (revoked,
		// password changed): one refresh is worth a try.
		if !a.refresh(ctx, w, r, &sess) {
			return
		}
		refreshed = true
		labels, err = a.fetchLabels(ctx, sess.Token, fields)
	}
	if isUnauthorized(err) {
		a.restartSignIn(w, r, true, "Gmail rejected the token", nil)
		return
	}
	if err != nil {
		p, kind := gmailProblem(ctx, err)
		a.log.WarnContext(r.Context(), "Gmail call failed", "status", p.Status, "cause", kind)
		writeProblem(w, p)
		return
	}
	updated := refreshed
	if !sess.EmailRead {
		sess.Email, sess.EmailRead, updated = a.fetchEmail(ctx, sess.Token), true, true
	}
	if updated {
		if err := a.store.SetSession(w, sess); err != nil {
			a.log.ErrorContext(r.Context(), "cannot store the refreshed token", "error", err.Error())
		}
	}
	if asJSON {
		writeLabelsJSON(w, labels)
		return
	}
	pages.WriteLabels(w, labelsPage(sess.Email, labels))
}

// refresh replaces sess.Token with a new access token. On failure it writes
// the response (back to consent, or an error page) and returns false.
func (a *app) refresh(ctx context.Context, w http.ResponseWriter, r *http.Request, sess *session.Session) bool {
	expired := &oauth2.Token{RefreshToken: sess.Token.RefreshToken}
	tok, err := a.oauth.TokenSource(a.tokenContext(ctx), expired).Token()
	if err != nil {
		if isInvalidGrant(err) {
			a.restartSignIn(w, r, true, "refresh token rejected", nil)
			return false
		}
		p, kind := tokenProblem(ctx, err)
		a.log.WarnContext(r.Context(), "token refresh failed", "status", p.Status, "cause", kind)
		writeProblem(w, p)
		return false
	}
	a.log.InfoContext(r.Context(), "access token refreshed")
	sess.Token = tok
	return true
}

// restartSignIn sends the browser back to oauth2init, clearing the session
// cookie when there is one that cannot be used.
func (a *app) restartSignIn(w http.ResponseWriter, r *http.Request, clear bool, reason string, err error) {
	if clear {
		a.store.ClearSession(w)
	}
	attrs := []any{"reason", reason}
	if err != nil {
		attrs = append(attrs, "detail", err.Error())
	}
	a.log.InfoContext(r.Context(), "sending the browser to sign in", attrs...)
	redirect(w, "/oauth2init")
}

// pageFields is the partial response the labels page needs: Gmail sends
// only these fields, which halves the body and the cost of decoding it.
const pageFields googleapi.Field = "labels(name,type)"

// fetchLabels lists the account's labels, with only the given fields of
// each (all of them when fields is empty).
func (a *app) fetchLabels(ctx context.Context, tok *oauth2.Token, fields googleapi.Field) ([]*gmail.Label, error) {
	call := a.gmail.Users.Labels.List("me")
	if fields != "" {
		call.Fields(fields)
	}
	resp, err := call.Context(upstream.WithAccessToken(ctx, tok.AccessToken)).Do()
	if err != nil {
		return nil, err
	}
	return resp.Labels, nil
}

// emailTimeout bounds the wait for the account's address, which is only
// decoration.
const emailTimeout = 2 * time.Second

// fetchEmail reads the account's address for the page header. It is tried
// once per session, after the labels were read, and a failure only means the
// page does not show the address.
func (a *app) fetchEmail(ctx context.Context, tok *oauth2.Token) string {
	ctx, cancel := context.WithTimeout(ctx, emailTimeout)
	defer cancel()
	profile, err := a.gmail.Users.GetProfile("me").Fields("emailAddress").Context(upstream.WithAccessToken(ctx, tok.AccessToken)).Do()
	if err != nil {
		return ""
	}
	return profile.EmailAddress
}

func isUnauthorized(err error) bool {
	if err == nil {
		return false
	}
	var gerr *googleapi.Error
	return errors.As(err, &gerr) && gerr.Code == http.StatusUnauthorized
}

// wantsJSON reports whether the client prefers JSON to HTML.
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return preference(accept, "application/json") > preference(accept, "text/html")
}

// preference returns the q-value the Accept header gives mediaType, or 0.
func preference(accept, mediaType string) float64 {
	for rest := accept; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		name, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(name), mediaType) {
			continue
		}
		q := 1.0
		for params != "" {
			var param string
			param, params, _ = strings.Cut(params, ";")
			if v, ok := strings.CutPrefix(strings.TrimSpace(param), "q="); ok {
				q = parseQ(v)
			}
		}
		return q
	}
	return 0
}

func parseQ(v string) float64 {
	q, err := strconv.ParseFloat(v, 64)
	if err != nil || q < 0 || q > 1 {
		return 0
	}
	return q
}

func writeLabelsJSON(w http.ResponseWriter, labels []*gmail.Label) {
	if labels == nil {
		labels = []*gmail.Label{}
	}
	body, err := json.Marshal(struct {
		Labels []*gmail.Label `json:"labels"`
	}{labels})
	if err != nil {
		writeProblem(w, problemInternal)
		return
	}
	h := w.Header()
	pages.SetSecurityHeaders(h)
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // the client may be gone; nothing to do
}

// labelsPage sorts labels into system and user ones, each by name,
// ignoring case. Both lists share one array, so the page costs the same
// allocations however many labels there are.
func labelsPage(email string, labels []*gmail.Label) pages.Labels {
	system := 0
	for _, l := range labels {
		if l != nil && l.Type == "system" {
			system++
		}
	}
	names := make([]string, 0, len(labels))
	page := pages.Labels{Email: email, Count: len(labels), System: names[:0:system], User: names[system:system]}
	for _, l := range labels {
		switch {
		case l == nil:
		case l.Type == "system":
			page.System = append(page.System, l.Name)
		default:
			page.User = append(page.User, l.Name)
		}
	}
	slices.SortFunc(page.System, byNameIgnoringCase)
	slices.SortFunc(page.User, byNameIgnoringCase)
	return page
}

func byNameIgnoringCase(x, y string) int {
	return cmp.Or(compareFold(x, y), strings.Compare(x, y))
}

// compareFold compares strings as if lower-cased, without allocating.
// Bytes the two share at the start need no folding, which matters for
// names with a common prefix ("Projects/2025/...", "Projects/2026/...").
// ASCII, the common case in label names, then skips UTF-8 decoding; the
// order is the same either way, since an ASCII byte is its own rune.
func compareFold(x, y string) int {
	i := 0
	for i < len(x) && i < len(y) && x[i] == y[i] {
		i++
	}
	for i > 0 && (midRune(x, i) || midRune(y, i)) {
		i-- // back to the start of the rune the strings differ in
	}
	x, y = x[i:], y[i:]
	for x != "" && y != "" {
		if bx, by := x[0], y[0]; bx < utf8.RuneSelf && by < utf8.RuneSelf {
			if c := cmp.Compare(lowerASCII(bx), lowerASCII(by)); c != 0 {
				return c
			}
			x, y = x[1:], y[1:]
			continue
		}
		rx, nx := utf8.DecodeRuneInString(x)
		ry, ny := utf8.DecodeRuneInString(y)
		if c := cmp.Compare(unicode.ToLower(rx), unicode.ToLower(ry)); c != 0 {
			return c
		}
		x, y = x[nx:], y[ny:]
	}
	return cmp.Compare(len(x), len(y))
}

// midRune reports whether s[i] continues a rune begun before it.
func midRune(s string, i int) bool { return i < len(s) && !utf8.RuneStart(s[i]) }

func lowerASCII(b byte) rune {
	if 'A' <= b && b <= 'Z' {
		b += 'a' - 'A'
	}
	return rune(b)
}
