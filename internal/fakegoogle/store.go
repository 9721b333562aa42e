package fakegoogle

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"
	"time"
)

// authRequest is a validated authorization request, kept between the consent
// page and the user's decision, and then with the code it produced.
type authRequest struct {
	clientID    string
	redirectURI string
	scopes      []string
	state       string
	challenge   string // S256 code_challenge
	offline     bool   // access_type=offline
	prompt      string
	loginHint   string
	// includeGranted is include_granted_scopes=true: the grant adds the
	// scopes the account granted the client before.
	includeGranted bool
}

// choosable reports whether the consent page gives each requested scope
// but the sign-in ones a box to untick, as Google's granular consent does:
// when several scopes are asked for, or one is added to those granted
// before (include_granted_scopes=true), and not for sign-in scopes alone.
func (r authRequest) choosable() bool {
	return (len(r.scopes) > 1 || r.includeGranted) &&
		slices.ContainsFunc(r.scopes, func(sc string) bool { return !isSignInScope(sc) })
}

// forceConsent reports whether the request has prompt=consent, which gets
// a new refresh token even when the account has one for the client.
func (r authRequest) forceConsent() bool {
	return slices.Contains(strings.Fields(r.prompt), "consent")
}

// pendingConsent is an authorization request waiting for Allow or Deny.
type pendingConsent struct {
	req     authRequest
	expires time.Time
}

// authCode is an issued authorization code.
type authCode struct {
	req     authRequest
	account int      // index into Options.Accounts
	scopes  []string // what the user granted: req.scopes or some of them
	expires time.Time
	used    bool
	grant   *grant // the tokens it was exchanged for, once used
}

// grant is what one successful code exchange produced: a refresh token (for
// offline access) and the access tokens issued from the code or the refresh
// token. Revoking any of them revokes the grant.
type grant struct {
	clientID     string
	account      int
	scopes       []string
	refreshToken string // empty for online access
	accessTokens []string
	revoked      bool
}

// consentKey names what one account granted one client.
type consentKey struct {
	clientID string
	account  int
}

// consentRecord is what an account has granted a client so far, as Google
// remembers it until the access is revoked: every scope it consented to,
// the grant holding the refresh token (Google issues one at the first
// consent only, or with prompt=consent), and every grant, so that a
// revocation ends them all.
type consentRecord struct {
	scopes  []string
	refresh *grant
	grants  []*grant
}

// accessToken is an issued access token.
type accessToken struct {
	grant         *grant
	scopes        []string // the grant's scopes when it was issued
	expires       time.Time
	forcedExpired bool // set by ExpireAccessTokens
}

// store is the Server's mutable state. Every method must be called with
// Server.mu held.
type store struct {
	pending   map[string]*pendingConsent
	codes     map[string]*authCode
	access    map[string]*accessToken
	refresh   map[string]*grant
	consents  map[consentKey]*consentRecord
	secrets   []string // every credential ever issued, for Secrets
	lastSweep time.Time
}

func newStore() store {
	return store{
		pending:  make(map[string]*pendingConsent),
		codes:    make(map[string]*authCode),
		access:   make(map[string]*accessToken),
		refresh:  make(map[string]*grant),
		consents: make(map[consentKey]*consentRecord),
	}
}

// sweepInterval bounds how often expired codes and consents are purged.
const sweepInterval = 30 * time.Second

// sweep drops expired pending consents and authorization codes, at most once
// per sweepInterval.
func (st *store) sweep(now time.Time) {
	if now.Sub(st.lastSweep) < sweepInterval {
		return
	}
	st.lastSweep = now
	for id, p := range st.pending {
		if !now.Before(p.expires) {
			delete(st.pending, id)
		}
	}
	for c, ac := range st.codes {
		if !now.Before(ac.expires) {
			delete(st.codes, c)
		}
	}
}

// addPending stores a request that waits for the user's decision and returns
// its opaque id.
func (st *store) addPending(req authRequest, expires time.Time) string {
	id := randomToken("")
	st.pending[id] = &pendingConsent{req: req, expires: expires}
	return id
}

// takePending removes and returns the pending request with this id, if it
// exists and has not expired.
func (st *store) takePending(id string, now time.Time) (authRequest, bool) {
	p, ok := st.pending[id]
	if !ok {
		return authRequest{}, false
	}
	delete(st.pending, id)
	if !now.Before(p.expires) {
		return authRequest{}, false
	}
	return p.req, true
}

// issueCode stores and returns a new authorization code.
func (st *store) issueCode(req authRequest, account int, scopes []string, expires time.Time) string {
	code := randomToken(codePrefix)
	st.codes[code] = &authCode{req: req, account: account, scopes: scopes, expires: expires}
	st.secrets = append(st.secrets, code)
	return code
}

// newGrant records a grant and, for offline access, its refresh token.
func (st *store) newGrant(clientID string, account int, scopes []string, offline bool) *grant {
	g := &grant{clientID: clientID, account: account, scopes: scopes}
	if offline {
		g.refreshToken = randomToken(refreshPrefix)
		st.refresh[g.refreshToken] = g
		st.secrets = append(st.secrets, g.refreshToken)
	}
	return g
}

// issueAccess stores and returns a new access token of grant g.
func (st *store) issueAccess(g *grant, expires time.Time) string {
	tok := randomToken(accessPrefix)
	st.access[tok] = &accessToken{grant: g, scopes: g.scopes, expires: expires}
	g.accessTokens = append(g.accessTokens, tok)
	st.secrets = append(st.secrets, tok)
	return tok
}

// consent returns the record of what account granted clientID, creating an
// empty one.
func (st *store) consent(clientID string, account int) *consentRecord {
	k := consentKey{clientID, account}
	rec, ok := st.consents[k]
	if !ok {
		rec = &consentRecord{}
		st.consents[k] = rec
	}
	return rec
}

// revokeAccess ends everything the account of grant g granted its client,
// as Google's revocation does: every grant, every token, and the record, so
// that the next consent is a first one again.
func (st *store) revokeAccess(g *grant) {
	g.revoked = true
	k := consentKey{g.clientID, g.account}
	if rec, ok := st.consents[k]; ok {
		for _, other := range rec.grants {
			other.revoked = true
		}
		delete(st.consents, k)
	}
}

// grantOf returns the grant a code, access token or refresh token belongs
// to, or nil.
func (st *store) grantOf(token string) *grant {
	if at, ok := st.access[token]; ok {
		return at.grant
	}
	if g, ok := st.refresh[token]; ok {
		return g
	}
	if ac, ok := st.codes[token]; ok {
		return ac.grant
	}
	return nil
}

// Prefixes that make issued credentials look like Google's.
const (
	codePrefix    = "4/demo-"
	accessPrefix  = "ya29.demo-" // #nosec G101 -- a prefix for fake tokens, not a credential
	refreshPrefix = "1//demo-"
)

// randomToken returns prefix followed by 256 random bits in unpadded
// base64url.
func randomToken(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b) // never fails; it crashes the program instead
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}
