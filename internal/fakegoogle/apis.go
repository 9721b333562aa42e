package fakegoogle

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
)

// An api is a method of a Google API that every Server serves.
//
// A file of this package that emulates a Google API adds its methods to
// apis in an init function, so that the demo and every test see them, and
// can keep data of its own for every account with newPerAccount. Nothing
// else needs to change:
//
//	// Each account's Drive, filled when the Server is created.
//	var driveFiles = newPerAccount(func(a Account) []file {
//		return []file{{Name: "Notes of " + a.Name}}
//	})
//
//	func init() {
//		apis = append(apis, api{
//			pattern: "GET /drive/v3/files",
//			scopes:  []string{driveScope},
//			serve: func(c *call) reply {
//				return c.json(http.StatusOK, map[string]any{"files": *driveFiles.of(c)})
//			},
//		})
//	}
type api struct {
	pattern string   // a net/http ServeMux pattern with a method, such as "GET /drive/v3/files"
	scopes  []string // any one of them allows the method
	// serve answers a request, with the Server's lock held (see call).
	serve func(c *call) reply
	// gmail makes the method one of Gmail's: FailGmail's faults apply to
	// it and Stats.GmailRequests counts it.
	gmail bool

	handle APIHandler // set by HandleAPI, in place of serve
}

// apis are the methods every Server serves; see api.
var apis []api

// A call is one authorized request to an API method, for the account that
// owns the request's access token. The method's serve function runs with
// the Server's lock held, so it may read and change the account, including
// its Gmail labels, and the data its file keeps for the account (see
// newPerAccount); a later request sees the change. It must not block, and
// must not keep any of this after it returns.
type call struct {
	r       *http.Request // its body already read: see body
	body    []byte        // the request body, at most maxAPIBody bytes
	account *Account      // the signed-in account; changes are kept
	state   *accountState
	srv     *Server
}

// decode decodes the request body as JSON into v, rejecting unknown fields
// and trailing data the way Google's APIs reject a malformed body.
func (c *call) decode(v any) error {
	d := json.NewDecoder(bytes.NewReader(c.body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("fakegoogle: trailing data after the JSON body")
	}
	return nil
}

// json answers status with v encoded as JSON. It encodes v at once, while
// the lock is held, so v may share the account's data.
func (c *call) json(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		return c.error(http.StatusInternalServerError, "internalError", "")
	}
	return reply{status: status, body: b}
}

// error answers with a Google API error (see writeAPIError).
func (c *call) error(status int, reason, message string) reply {
	return reply{status: status, reason: reason, message: message, isError: true}
}

// A reply is the answer of an API method, written once the Server's lock is
// released.
type reply struct {
	status          int
	body            []byte // JSON
	isError         bool
	reason, message string
	header          http.Header // extra headers, such as Cache-Control
}

// write sends the reply.
func (rp reply) write(w http.ResponseWriter) {
	for k, vs := range rp.header {
		w.Header()[k] = vs
	}
	if rp.isError {
		writeAPIError(w, rp.status, rp.reason, rp.message)
		return
	}
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "private")
	}
	writeJSONBytes(w, rp.status, rp.body)
}

// accountState is an account as a Server keeps it: the Account, whose
// labels Gmail's methods can change, and the data each API file keeps for
// it. It is guarded by Server.mu.
type accountState struct {
	Account
	data []any // by perAccount index; filled on first use
}

// accountInits are the functions that give every account the data of each
// perAccount, by index.
var accountInits []func(Account) any

// A perAccount is data of type T that an API file keeps for every account,
// such as the files of a Drive or the events of a calendar. Declare one as a
// package variable with newPerAccount; every Server gives each account its
// own, and its methods reach it with of.
type perAccount[T any] struct{ index int }

// newPerAccount registers data that every account gets, made by init from
// the account when a Server first needs it (the account's Email tells the
// demo accounts apart). Call it only to initialise a package variable.
func newPerAccount[T any](init func(Account) T) perAccount[T] {
	accountInits = append(accountInits, func(a Account) any {
		v := init(a)
		return &v
	})
	return perAccount[T]{index: len(accountInits) - 1}
}

// of returns the call's account's data, which the method may change.
func (p perAccount[T]) of(c *call) *T {
	st := c.state
	if len(st.data) <= p.index {
		st.data = append(st.data, make([]any, p.index+1-len(st.data))...)
	}
	if st.data[p.index] == nil {
		st.data[p.index] = accountInits[p.index](cloneAccounts([]Account{st.Account})[0])
	}
	return st.data[p.index].(*T)
}

// maxAPIBody bounds the request body of an API method.
const maxAPIBody = 1 << 20

// An APIHandler serves one method of a Google API for account, a copy of
// the owner of the request's access token. Methods that change an
// account's data are written as an api of this package instead.
type APIHandler func(w http.ResponseWriter, r *http.Request, account Account)

// HandleAPI serves pattern (a net/http ServeMux pattern with a path, such
// as "GET /drive/v3/files") as a method of a Google API that any one of
// scopes allows. Before h runs, the request is authorized as Google does:
// a missing, unknown, expired or revoked token gets 401, a token without
// one of scopes 403 insufficientPermissions, in Google's error format. It
// lets a test, or the demo, emulate any Google API the app calls. Called
// again with the same pattern, including one the emulator serves itself
// (such as "POST /gmail/v1/users/{userId}/labels"), it replaces the handler
// and its scopes, so that a test can answer differently.
func (s *Server) HandleAPI(pattern string, scopes []string, h APIHandler) {
	s.addAPI(api{pattern: pattern, scopes: scopes, handle: h})
}

// addAPI serves a, replacing the method with the same pattern if any.
func (s *Server) addAPI(a api) {
	a.scopes = slices.Clone(a.scopes)
	s.mu.Lock()
	defer s.mu.Unlock()
	if route, ok := s.apiRoutes[a.pattern]; ok {
		a.gmail = a.gmail || route.gmail // Gmail's faults still apply
		*route = a
		return
	}
	route := &a
	s.apiRoutes[a.pattern] = route
	s.mux.HandleFunc(a.pattern, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		a := *route
		s.mu.Unlock()
		s.serveAPI(w, r, a)
	})
	// A method the path does not answer gets Google's JSON 405, not the
	// ServeMux's plain text.
	method, path, ok := strings.Cut(a.pattern, " ")
	if !ok || strings.Contains(method, "/") {
		return
	}
	if s.apiMethods[path] == nil {
		s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			allow := strings.Join(s.apiMethods[path], ", ")
			s.mu.Unlock()
			methodNotAllowed(w, allow)
		})
	}
	s.apiMethods[path] = append(s.apiMethods[path], method)
}

// serveAPI authorizes a request to an API method and runs it.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, a api) {
	if a.gmail {
		s.mu.Lock()
		s.stats.GmailRequests++
		s.mu.Unlock()
		if s.injectFault(w, r, faultGmail) {
			return
		}
	}
	if !s.takeTime(r) {
		return
	}
	index, ok := s.authorizeAPI(w, r, a.scopes)
	if !ok {
		return
	}
	if a.handle != nil {
		s.mu.Lock()
		account := cloneAccounts([]Account{s.accounts[index].Account})[0]
		s.mu.Unlock()
		a.handle(w, r, account)
		return
	}
	// The body is read before the lock is taken: a slow client must not
	// hold up everyone else.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeAPIError(w, http.StatusRequestEntityTooLarge, "badRequest", "Request payload size exceeds the limit.")
			return
		}
		writeAPIError(w, http.StatusBadRequest, "badRequest", "The request body could not be read.")
		return
	}
	s.mu.Lock()
	st := s.accounts[index]
	rp := a.serve(&call{r: r, body: body, account: &st.Account, state: st, srv: s})
	s.mu.Unlock()
	rp.write(w)
}
