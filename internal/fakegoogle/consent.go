package fakegoogle

import (
	"net/http"
	"slices"
	"strconv"
)

// consentData fills the consent template.
type consentData struct {
	pageData
	AppName        string
	Action         string
	RequestID      string
	Accounts       []accountChoice
	Scopes         []scopeChoice
	SignIn         []string // what the sign-in scopes allow, when Choose
	Choose         bool     // each scope but the sign-in ones gets a box to untick
	Offline        bool
	RedirectOrigin string
}

// scopeChoice is one scope on the consent page.
type scopeChoice struct {
	ID, Scope, Words string
}

// accountChoice is one radio button of the consent page.
type accountChoice struct {
	ID, Email, Name string
	Checked         bool
}

// errorHeadings are the page headings Google uses for authorization errors it
// shows instead of redirecting.
var errorHeadings = map[string]string{
	"redirect_uri_mismatch": "Access blocked: This app’s request is invalid",
	"invalid_client":        "Access blocked: Authorization Error",
}

// handleAuthorize serves the authorization endpoint: it validates the request
// and shows the consent page, or reports the error like Google does.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeErrorPage(w, http.StatusMethodNotAllowed, "Method not allowed", "invalid_request",
			"The authorization endpoint only answers GET.")
		return
	}
	s.countAuthorization()
	req, aerr := s.parseAuthRequest(r.URL.Query())
	if aerr != nil {
		if aerr.Redirect != nil {
			redirect(w, aerr.Redirect.String())
			return
		}
		heading, ok := errorHeadings[aerr.Code]
		if !ok {
			heading = "Access blocked: Authorization Error"
		}
		writeErrorPage(w, aerr.Status, heading, aerr.Code, aerr.Description)
		return
	}

	s.mu.Lock()
	now := s.now()
	s.store.sweep(now)
	id := s.store.addPending(req, now.Add(pendingLifetime))
	s.mu.Unlock()

	checked := s.defaultAccount(req)
	accounts := make([]accountChoice, len(s.opts.Accounts))
	for i, a := range s.opts.Accounts {
		accounts[i] = accountChoice{ID: "account-" + strconv.Itoa(i), Email: a.Email, Name: a.Name, Checked: i == checked}
	}
	// As on Google's granular consent screen, each scope gets a box, but
	// the sign-in ones: signing in grants them.
	choose := req.choosable()
	var scopes []scopeChoice
	var signIn []string
	for i, sc := range req.scopes {
		words := describeScope(sc)
		if choose && isSignInScope(sc) {
			if !slices.Contains(signIn, words) {
				signIn = append(signIn, words)
			}
			continue
		}
		scopes = append(scopes, scopeChoice{ID: "scope-" + strconv.Itoa(i), Scope: sc, Words: words})
	}
	nonce := newNonce()
	formAction := "'self'"
	origin := originOf(req.redirectURI)
	if origin != "" {
		formAction += " " + origin
	}
	writePage(w, http.StatusOK, consentTemplate(), nonce, formAction, consentData{
		pageData:       pageData{Title: "Sign in - Google Accounts - " + s.opts.AppName, Nonce: nonce},
		AppName:        s.opts.AppName,
		Action:         DecisionPath,
		RequestID:      id,
		Accounts:       accounts,
		Scopes:         scopes,
		SignIn:         signIn,
		Choose:         choose,
		Offline:        req.offline,
		RedirectOrigin: origin,
	})
}

// handleDecision receives the consent form and sends the browser back to the
// application with a code, or with error=access_denied.
func (s *Server) handleDecision(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeErrorPage(w, http.StatusMethodNotAllowed, "Method not allowed", "invalid_request",
			"The consent form must be submitted with POST.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		writeErrorPage(w, http.StatusBadRequest, "Something went wrong", "invalid_request", "The consent form could not be read.")
		return
	}
	decision := r.PostForm.Get("decision")
	account := -1
	switch decision {
	case "allow":
		email := r.PostForm.Get("account")
		account = findAccount(s.opts.Accounts, email)
		if account < 0 || email == "" {
			writeErrorPage(w, http.StatusBadRequest, "Choose an account", "invalid_request",
				"Choose one of the listed accounts, then press Allow.")
			return
		}
	case "deny":
	default:
		writeErrorPage(w, http.StatusBadRequest, "Something went wrong", "invalid_request",
			"The consent form did not say Allow or Deny.")
		return
	}

	s.mu.Lock()
	req, ok := s.store.takePending(r.PostForm.Get("request"), s.now())
	s.mu.Unlock()
	if !ok {
		writeErrorPage(w, http.StatusBadRequest, "This sign-in request has expired", "invalid_request",
			"This sign-in request is unknown, has expired or was already answered. Go back to the application and sign in again.")
		return
	}
	if decision == "deny" {
		s.mu.Lock()
		s.stats.Denials++
		s.mu.Unlock()
		redirect(w, deniedRedirect(req).String())
		return
	}
	granted := req.scopes
	if req.choosable() {
		// Each scope has its own box on the consent page, as on
		// Google's: only the ticked ones are granted, and the sign-in
		// ones, which have none.
		granted = r.PostForm["scope"]
	}
	redirect(w, s.approve(req, account, granted).String())
}

// redirect sends a 302 to location without a body that could be cached or
// leak it further.
func redirect(w http.ResponseWriter, location string) {
	h := w.Header()
	h.Set("Location", location)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusFound)
}
