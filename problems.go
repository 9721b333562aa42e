package oauthgmail

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"example.com/gcf-oauth-gmail/internal/pages"
	"example.com/gcf-oauth-gmail/internal/upstream"
)

// The error pages. Each says what happened and what to do next.
var (
	signInAgain = &pages.Link{URL: "/oauth2init", Text: "Sign in again"}
	tryAgain    = &pages.Link{URL: "/listlabels", Text: "Try again"}

	problemInternal = pages.Problem{
		Status: http.StatusInternalServerError, Heading: "Something went wrong",
		Detail: "The app hit an unexpected error. It has been logged.", Next: signInAgain,
	}
	problemNoLogin = pages.Problem{
		Status: http.StatusBadRequest, Heading: "Sign-in expired or not started here",
		Detail: "This browser has no sign-in in progress, or it took longer than 10 minutes. Cookies must be enabled for this site.",
		Next:   signInAgain,
	}
	problemStateMismatch = pages.Problem{
		Status: http.StatusBadRequest, Heading: "This sign-in did not start in this browser",
		Detail: "The answer from Google does not belong to the sign-in this browser started, so it was ignored. This protects you from someone else's link signing you in.",
		Next:   signInAgain,
	}
	problemNoCode = pages.Problem{
		Status: http.StatusBadRequest, Heading: "Google's answer is incomplete",
		Detail: "The address has no authorization code.", Next: signInAgain,
	}
	problemCodeRejected = pages.Problem{
		Status: http.StatusBadRequest, Heading: "This sign-in link has expired",
		Detail: "Google did not accept the authorization code: it was already used or is too old. Codes work once, for a few minutes.",
		Next:   signInAgain,
	}
	problemTokenTooLarge = pages.Problem{
		Status: http.StatusBadGateway, Heading: "Google's token does not fit in a cookie",
		Detail: "The token Google issued is larger than a browser cookie can hold.", Next: signInAgain,
	}
	problemCrossSite = pages.Problem{
		Status: http.StatusForbidden, Heading: "Sign-out must come from this site",
		Detail: "The sign-out request came from another site and was refused.", Next: tryAgain,
	}
)

func writeProblem(w http.ResponseWriter, p pages.Problem) { pages.WriteProblem(w, p) }

// authorizationProblem explains an error Google sent to the callback.
func authorizationProblem(code string) pages.Problem {
	if code == "access_denied" {
		return pages.Problem{
			Status: http.StatusForbidden, Heading: "You didn't allow access",
			Detail: "The app needs permission to view your Gmail labels, and the consent screen was declined. Nothing was shared.",
			Next:   &pages.Link{URL: "/oauth2init", Text: "Try again"},
		}
	}
	return pages.Problem{
		Status: http.StatusBadRequest, Heading: "Google could not complete the sign-in",
		Detail: "Google answered with the error “" + printable(code) + "”.",
		Next:   signInAgain,
	}
}

// tokenProblem maps a failed call to the token endpoint to a page, and names
// the cause for the log without repeating Google's response body.
func tokenProblem(ctx context.Context, err error) (pages.Problem, string) {
	if errors.Is(err, upstream.ErrBodyTooLarge) {
		return problemGoogleDown("sign-in service"), causeOf(err)
	}
	if timedOut(ctx, err) {
		return pages.Problem{
			Status: http.StatusGatewayTimeout, Heading: "Google's sign-in service did not answer",
			Detail: "The token endpoint did not answer in time. Please try again in a moment.", Next: signInAgain,
		}, "timeout"
	}
	var rerr *oauth2.RetrieveError
	if errors.As(err, &rerr) {
		status := 0
		if rerr.Response != nil {
			status = rerr.Response.StatusCode
		}
		cause := "token endpoint " + http.StatusText(status) + " " + printable(rerr.ErrorCode)
		if rerr.ErrorCode == "invalid_grant" {
			return problemCodeRejected, cause
		}
		if rerr.ErrorCode == "invalid_client" || rerr.ErrorCode == "unauthorized_client" {
			return pages.Problem{
				Status: http.StatusBadGateway, Heading: "Google did not accept this app's credentials",
				Detail: "The client ID or secret the app is configured with was refused. The operator should check the client secret file.",
			}, cause
		}
		return problemGoogleDown("sign-in service"), cause
	}
	return problemGoogleDown("sign-in service"), causeOf(err)
}

// gmailProblem maps a failed Gmail call (other than 401) to a page.
func gmailProblem(ctx context.Context, err error) (pages.Problem, string) {
	// An oversized body is Gmail's fault even when reading it also ran
	// into the deadline.
	if errors.Is(err, upstream.ErrBodyTooLarge) {
		return problemGoogleDown("Gmail"), causeOf(err)
	}
	if timedOut(ctx, err) {
		return pages.Problem{
			Status: http.StatusGatewayTimeout, Heading: "Gmail did not answer",
			Detail: "Gmail did not answer in time. Please try again in a moment.", Next: tryAgain,
		}, "timeout"
	}
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		return problemGoogleDown("Gmail"), causeOf(err)
	}
	cause := "gmail " + http.StatusText(gerr.Code) + " " + reasons(gerr)
	retryAfter := gerr.Header.Get("Retry-After")
	switch {
	case gerr.Code == http.StatusTooManyRequests || (gerr.Code == http.StatusForbidden && isRateLimit(gerr)):
		return pages.Problem{
			Status: http.StatusServiceUnavailable, Heading: "Gmail is busy",
			Detail: "Gmail asked the app to slow down. Please try again in a minute.", Next: tryAgain,
			RetryAfter: retryAfter,
		}, cause
	case gerr.Code == http.StatusForbidden:
		return pages.Problem{
			Status: http.StatusForbidden, Heading: "The app may not read your Gmail labels",
			Detail: "Gmail refused: the permission to view your email settings was not granted (or this account cannot use Gmail). Sign in again and tick the Gmail permission.",
			Next:   signInAgain,
		}, cause
	case gerr.Code == http.StatusServiceUnavailable:
		p := problemGoogleDown("Gmail")
		p.Status, p.RetryAfter = http.StatusServiceUnavailable, retryAfter
		return p, cause
	}
	p := problemGoogleDown("Gmail")
	p.RetryAfter = retryAfter
	return p, cause
}

func problemGoogleDown(service string) pages.Problem {
	return pages.Problem{
		Status: http.StatusBadGateway, Heading: "Google's " + service + " failed",
		Detail: "Google's " + service + " answered with an error or an unreadable response. Please try again in a moment.",
		Next:   tryAgain,
	}
}

func timedOut(ctx context.Context, err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded)
}

func isInvalidGrant(err error) bool {
	var rerr *oauth2.RetrieveError
	return errors.As(err, &rerr) && rerr.ErrorCode == "invalid_grant"
}

// rateLimitReasons are the error reasons Google uses for quota and rate
// limits, in the legacy "errors" list and in ErrorInfo details.
var rateLimitReasons = []string{"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded", "limitExceeded", "RATE_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED"}

func isRateLimit(gerr *googleapi.Error) bool {
	for _, item := range gerr.Errors {
		if slices.Contains(rateLimitReasons, item.Reason) {
			return true
		}
	}
	for _, reason := range rateLimitReasons {
		if strings.Contains(gerr.Body, `"`+reason+`"`) {
			return true
		}
	}
	return false
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
	switch {
	case errors.Is(err, upstream.ErrBodyTooLarge):
		return "response too large"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var netErr interface{ Timeout() bool }
	if errors.As(err, &netErr) {
		if netErr.Timeout() {
			return "network timeout"
		}
		return "network error"
	}
	return "unreadable response"
}

// printable keeps a short, harmless form of a value that came from outside
// (an OAuth error code, a reason) for pages and logs.
func printable(s string) string {
	const max = 64
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			break
		}
		if r == '_' || r == '-' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}
