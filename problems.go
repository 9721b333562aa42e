package oauthgmail

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"example.com/gcf-oauth-gmail/internal/pages"
	"example.com/gcf-oauth-gmail/internal/upstream"
)

// Every error page of the app is built here. Each says in plain words what
// happened and the one thing to do next; the technical cause goes to the log.

var (
	signIn        = &pages.Link{URL: "/oauth2init", Text: "Sign in again"}
	goToApp       = &pages.Link{URL: "/oauth2init", Text: "Go to the app"}
	chooseAccount = &pages.Link{URL: "/oauth2init?account=choose", Text: "Use another account"} // with Google's account chooser
)

var (
	problemInternal = pages.Problem{
		Status: http.StatusInternalServerError, Heading: "Something went wrong on our side",
		Detail: "The problem has been logged. Please try again.", Next: signIn,
	}
	problemNotConfigured = pages.Problem{
		Status: http.StatusInternalServerError, Heading: "This app isn’t set up yet",
		Detail: "Its operator has to finish setting it up. There is nothing you can do here for now.",
	}
	problemNotFound = pages.Problem{
		Status: http.StatusNotFound, Heading: "There’s no such page",
		Detail: "The address may be mistyped, or the page may have moved.", Next: goToApp,
	}
	problemNoLogin = pages.Problem{
		Status: http.StatusBadRequest, Heading: "No sign-in in progress",
		Detail: "This address finishes a sign-in started on this site, and this browser has none in progress: it was finished already, or not within 10 minutes, the time a sign-in has.",
		Next:   &pages.Link{URL: "/oauth2init", Text: "Sign in"},
	}
	problemLoginExpired = pages.Problem{
		Status: http.StatusBadRequest, Heading: "Your sign-in timed out",
		Detail: "A sign-in has to be finished within 10 minutes, in the browser where it started, with cookies allowed for this site. Please start again.",
		Next:   signIn,
	}
	problemStateMismatch = pages.Problem{
		Status: http.StatusBadRequest, Heading: "This sign-in didn’t start in this browser",
		Detail: "To keep your account safe, a sign-in is only accepted in the browser where it started, so this one was ignored. You can start a new one here.",
		Next:   signIn,
	}
	problemForeignCallback = pages.Problem{
		Status: http.StatusBadRequest, Heading: "This link didn’t come from your sign-in",
		Detail: "It was ignored, and nothing changed. If you were signing in, go back to that tab and finish there.",
		Next:   goToApp,
	}
	problemNoCode = pages.Problem{
		Status: http.StatusBadRequest, Heading: "The sign-in didn’t finish",
		Detail: "Google sent you back without completing the sign-in. Please start again.", Next: signIn,
	}
	problemCodeRejected = pages.Problem{
		Status: http.StatusBadRequest, Heading: "This sign-in link has already been used",
		Detail: "Each answer from Google works only once, for a few minutes. Please start again.", Next: signIn,
	}
	problemTokenTooLarge = pages.Problem{
		Status: http.StatusBadGateway, Heading: "Your sign-in couldn’t be saved",
		Detail: "Google’s answer was too large to keep in this browser. Please try again.", Next: signIn,
	}
	problemCrossSiteSignOut = pages.Problem{
		Status: http.StatusForbidden, Heading: "Sign-out has to start on this site",
		Detail: "Another site asked to sign you out, so nothing was changed. To sign out, use the button on this site.",
		Next:   &pages.Link{URL: "/signout", Text: "Go to sign-out"},
	}
)

// problemMethodNotAllowed answers a method the function does not take.
func problemMethodNotAllowed(name string, allowed []string) pages.Problem {
	return pages.Problem{
		Status: http.StatusMethodNotAllowed, Heading: "This page can’t be opened that way",
		Detail: "/" + name + " answers " + strings.Join(allowed, ", ") + " requests only. Open it from a link or the address bar instead.",
		Next:   goToApp,
	}
}

// problemCrossSite answers a change that another site asked for.
func problemCrossSite(f Function) pages.Problem {
	return pages.Problem{
		Status: http.StatusForbidden, Heading: "This has to be done from this site",
		Detail: "Another site asked to make this change for you, so nothing was changed. To make it, use the form on this site.",
		Next:   &pages.Link{URL: "/" + f.Name, Text: "Go to the form"},
	}
}

// problemFormTooLarge answers a form over maxFormBytes.
func problemFormTooLarge(f Function) pages.Problem {
	return pages.Problem{
		Status: http.StatusRequestEntityTooLarge, Heading: "That’s too much to send",
		Detail: "The form was larger than this page accepts, so nothing was changed. Please shorten what you entered.",
		Next:   &pages.Link{URL: "/" + f.Name, Text: "Back to the form"},
	}
}

// problemBadForm answers a body that is not a form.
func problemBadForm(f Function) pages.Problem {
	return pages.Problem{
		Status: http.StatusBadRequest, Heading: "The form couldn’t be read",
		Detail: "Nothing was changed. Please send it again from the page.",
		Next:   &pages.Link{URL: "/" + f.Name, Text: "Back to the form"},
	}
}

// authorizationErrors says in plain words what each error that RFC 6749
// (4.1.2.1) and Google define for the authorization response means, and
// what may help: another account, trying again, or (neither) only the
// operator. Any other value, as a crafted link may carry, gets the general
// wording.
var authorizationErrors = map[string]struct {
	detail string
	next   *pages.Link
	retry  bool
}{
	"invalid_request":           {detail: "Google could not understand the app’s request. Its operator has to fix the app; trying again won’t help.", next: chooseAccount},
	"unauthorized_client":       {detail: "Google does not allow this app to sign people in this way. Its operator has to fix its Google settings.", next: chooseAccount},
	"unsupported_response_type": {detail: "Google could not understand the app’s request. Its operator has to fix the app; trying again won’t help.", next: chooseAccount},
	"invalid_scope":             {detail: "The app asked Google for access that does not exist. Its operator has to fix the app.", next: chooseAccount},
	"server_error":              {detail: "Google had a problem and could not finish. Please try again in a moment.", retry: true},
	"temporarily_unavailable":   {detail: "Google is busy right now. Please try again in a moment.", retry: true},
	"admin_policy_enforced":     {detail: "Your organisation’s administrator does not allow this app for your account. Ask them to allow it, or use another account.", next: chooseAccount},
	"org_internal":              {detail: "This app is only for the members of one organisation. Use an account of that organisation.", next: chooseAccount},
	"invalid_client":            {detail: "Google does not recognise this app, so nobody can sign in until its operator fixes its settings."},
	"redirect_uri_mismatch":     {detail: "Google does not recognise this app’s address, so nobody can sign in until its operator registers it."},
}

// authorizationProblem explains an error Google sent to the callback; retry
// starts the same sign-in again.
func authorizationProblem(code, retry string) pages.Problem {
	if code == "access_denied" {
		return pages.Problem{
			Status: http.StatusForbidden, Heading: "You didn’t allow access", Choice: true,
			Detail: "Nothing was shared. The app can only show your information if you allow it on Google’s screen.",
			Next:   &pages.Link{URL: retry, Text: "Choose again"},
		}
	}
	known, ok := authorizationErrors[code]
	if !ok {
		known.detail, known.retry = "Something went wrong at Google. Please try again in a moment.", true
	}
	p := pages.Problem{Status: http.StatusBadRequest, Heading: "Google could not complete the sign-in", Detail: known.detail, Next: known.next}
	if known.retry {
		p.Next = &pages.Link{URL: retry, Text: "Try again"}
	}
	return p
}

// scopeWords names the access a scope grants, as Google's consent screen
// does; other scopes are named by their address.
var scopeWords = map[string]string{
	"https://www.googleapis.com/auth/gmail.readonly":          "View your email messages and settings",
	"https://www.googleapis.com/auth/gmail.metadata":          "View your email message metadata such as labels and headers",
	"https://www.googleapis.com/auth/gmail.labels":            "See and edit your email labels",
	"https://www.googleapis.com/auth/drive.metadata.readonly": "See information about your Google Drive files",
	"https://www.googleapis.com/auth/drive.readonly":          "See and download all your Google Drive files",
	"https://www.googleapis.com/auth/calendar.readonly":       "See and download any calendar you can access",
}

// problemMissingScopes explains a sign-in that did not grant all the access
// f needs (an unticked box on the consent screen); retry asks again.
func problemMissingScopes(f Function, missing []string, retry string) pages.Problem {
	words := make([]string, len(missing))
	for i, s := range missing {
		words[i] = cmp.Or(scopeWords[s], s)
	}
	return pages.Problem{
		Status: http.StatusForbidden, Heading: "Some access wasn’t allowed", Choice: true,
		Detail: "To work, " + cmp.Or(f.API, "this page") + " needs this access, which was not ticked on Google’s screen: " +
			strings.Join(words, "; ") + ". Anything else you allowed still works. To continue, ask again and tick it.",
		Next: &pages.Link{URL: retry, Text: "Ask again"},
	}
}

// tokenProblem maps a failed call to the token endpoint to a page whose
// action goes to retry, and names the cause for the log without repeating
// Google's response body.
func tokenProblem(ctx context.Context, err error, retry string) (pages.Problem, string) {
	again := &pages.Link{URL: retry, Text: "Try again"}
	failed := problemGoogleFailed("Google’s sign-in", again)
	var rerr *oauth2.RetrieveError
	switch {
	case errors.Is(err, upstream.ErrBodyTooLarge):
		return failed, causeOf(err)
	case timedOut(ctx, err):
		return pages.Problem{
			Status: http.StatusGatewayTimeout, Heading: "Google’s sign-in is taking too long",
			Detail: "Google didn’t answer in time. Please try again in a moment.", Next: again,
		}, "timeout"
	case !errors.As(err, &rerr):
		return failed, causeOf(err)
	}
	status := 0
	if rerr.Response != nil {
		status = rerr.Response.StatusCode
	}
	cause := "token endpoint " + http.StatusText(status) + " " + printable(rerr.ErrorCode)
	switch rerr.ErrorCode {
	case "invalid_grant":
		return problemCodeRejected, cause
	case "invalid_client", "unauthorized_client":
		return pages.Problem{
			Status: http.StatusBadGateway, Heading: "This app’s Google sign-in isn’t set up correctly",
			Detail: "Google did not accept the app’s credentials, so nobody can sign in until its operator fixes them; trying again won’t help before then.",
		}, cause
	}
	return failed, cause
}

// googleFailure is how a failed call to a Google API (other than 401)
// should be answered.
type googleFailure struct {
	page  pages.Problem
	cause string // for the log: a kind and Google's reasons, never a body
	// needsConsent is true when Google refused for want of a scope: the
	// session is useless and the next sign-in must ask for consent again.
	needsConsent bool
}

// googleProblem maps an error from a call of f to its Google API to a page.
// It reads the googleapi.Error that Google's generated clients return.
func googleProblem(ctx context.Context, f Function, err error) googleFailure {
	api := cmp.Or(f.API, "Google")
	again := &pages.Link{URL: "/" + f.Name, Text: "Try again"}
	failed := googleFailure{page: problemGoogleFailed(api, again), cause: causeOf(err)}
	var gerr *googleapi.Error
	switch {
	case errors.Is(err, upstream.ErrBodyTooLarge):
		// Google's fault even when reading the body also ran into the deadline.
		return failed
	case timedOut(ctx, err):
		return googleFailure{page: pages.Problem{
			Status: http.StatusGatewayTimeout, Heading: api + " is taking too long",
			Detail: api + " didn’t answer in time. Please try again in a moment.", Next: again,
		}, cause: "timeout"}
	case !errors.As(err, &gerr):
		return failed
	}
	cause := api + " " + http.StatusText(gerr.Code) + " " + reasons(gerr)
	back := &pages.Link{URL: "/" + f.Name, Text: "Back"}
	said := googleSaid(gerr)
	var p pages.Problem
	switch {
	case gerr.Code == http.StatusTooManyRequests || gerr.Code == http.StatusForbidden && hasReason(gerr, rateLimitReasons):
		p = pages.Problem{
			Status: http.StatusServiceUnavailable, Heading: api + " is busy right now",
			Detail: api + " asked the app to slow down. Please try again in a minute.", Next: again,
			RetryAfter: gerr.Header.Get("Retry-After"),
		}
	case gerr.Code == http.StatusForbidden && hasReason(gerr, scopeReasons):
		return googleFailure{page: pages.Problem{
			Status: http.StatusForbidden, Heading: "The app needs your permission again",
			Detail: "Google says the app wasn’t allowed to use " + api + " for you. Sign in again and allow access on Google’s screen.",
			Next:   signIn,
		}, cause: cause, needsConsent: true}
	case gerr.Code == http.StatusForbidden && hasReason(gerr, disabledReasons):
		p = pages.Problem{
			Status: http.StatusForbidden, Heading: "This app isn’t set up to use " + api + " yet",
			Detail: "Its operator has to turn " + api + " on in the app’s Google Cloud project. Please try again later.", Next: again,
		}
	case gerr.Code == http.StatusForbidden:
		p = pages.Problem{
			Status: http.StatusForbidden, Heading: api + " didn’t allow this",
			Detail: "Google refused to do this for the app, for example because this account can’t use " + api + "." + said,
			Next:   chooseAccount,
		}
	case gerr.Code == http.StatusBadRequest:
		p = pages.Problem{
			Status: http.StatusBadRequest, Heading: api + " didn’t accept this",
			Detail: "Nothing was changed." + said + " Please check what you entered and try again.", Next: back,
		}
	case gerr.Code == http.StatusNotFound:
		p = pages.Problem{Status: http.StatusNotFound, Heading: api + " couldn’t find it", Detail: "It may have been deleted or moved." + said, Next: back}
	case gerr.Code == http.StatusConflict:
		p = pages.Problem{
			Status: http.StatusConflict, Heading: "That already exists in " + api,
			Detail: "Nothing was changed." + said + " Please choose another name.", Next: back,
		}
	case gerr.Code == http.StatusPreconditionFailed:
		p = pages.Problem{
			Status: http.StatusPreconditionFailed, Heading: "It changed in the meantime",
			Detail: "It was changed since this page was opened, so nothing was changed now." + said + " Please reload and try again.", Next: back,
		}
	default:
		p = problemGoogleFailed(api, again)
		p.RetryAfter = gerr.Header.Get("Retry-After")
		if gerr.Code == http.StatusServiceUnavailable {
			p.Status = http.StatusServiceUnavailable
		}
	}
	return googleFailure{page: p, cause: cause}
}

// googleSaid quotes Google's own message, when it has one, for a person:
// ` Google said: “Label name exists or conflicts”.` Pages escape it.
func googleSaid(gerr *googleapi.Error) string {
	message := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(gerr.Message))
	if message == "" {
		return ""
	}
	if runes := []rune(message); len(runes) > 200 {
		message = string(runes[:200]) + "…"
	}
	return " Google said: “" + strings.TrimSuffix(message, ".") + "”."
}

func problemGoogleFailed(service string, again *pages.Link) pages.Problem {
	return pages.Problem{
		Status: http.StatusBadGateway, Heading: service + " isn’t working right now",
		Detail: "Google had a problem answering. Please try again in a moment.", Next: again,
	}
}

func timedOut(ctx context.Context, err error) bool {
	var netErr interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		errors.As(err, &netErr) && netErr.Timeout()
}

// Google's error reasons, in the legacy "errors" list and in ErrorInfo
// details.
var (
	rateLimitReasons = []string{"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded", "limitExceeded", "RATE_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED"}
	scopeReasons     = []string{"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}
	disabledReasons  = []string{"accessNotConfigured", "SERVICE_DISABLED"}
)

func hasReason(gerr *googleapi.Error, wanted []string) bool {
	inList := func(item googleapi.ErrorItem) bool { return slices.Contains(wanted, item.Reason) }
	inBody := func(reason string) bool { return strings.Contains(gerr.Body, `"`+reason+`"`) }
	return slices.ContainsFunc(gerr.Errors, inList) || slices.ContainsFunc(wanted, inBody)
}

func reasons(gerr *googleapi.Error) string {
	var out []string
	for _, item := range gerr.Errors {
		out = append(out, printable(item.Reason))
	}
	return strings.Join(out, ",")
}

// causeOf names a transport-level failure by kind only: error strings from
// HTTP clients can quote URLs and response bodies.
func causeOf(err error) string {
	var netErr interface{ Timeout() bool }
	switch {
	case errors.Is(err, upstream.ErrBodyTooLarge):
		return "response too large"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case !errors.As(err, &netErr):
		return "unreadable response"
	case netErr.Timeout():
		return "network timeout"
	}
	return "network error"
}

// printable keeps a short, harmless form of a value that came from outside
// (an OAuth error code, a reason) for the log.
func printable(s string) string {
	const limit = 64
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= limit {
			break
		}
		if r == '_' || r == '-' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}
