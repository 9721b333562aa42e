package oauthgmail

// Benchmarks of listlabels against its floor, a null handler making the same
// one call to the same fake Gmail, with the fake answering at once or after
// a latency like Google's. scripts/bench.sh runs them and prints the
// comparisons.

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/gmail/v1"

	"example.com/gcf-oauth-gmail/internal/fakegoogle"
	"example.com/gcf-oauth-gmail/internal/pages"
	"example.com/gcf-oauth-gmail/internal/upstream"
)

// benchConcurrency is the number of requests in flight.
const benchConcurrency = 32

// benchLatencies are how long the fake Gmail takes to answer: at once, which
// shows the app's own cost, and as Google does, which is what people feel.
var benchLatencies = []time.Duration{0, 50 * time.Millisecond}

// BenchmarkNullHandler is the floor for BenchmarkListLabels: a handler that
// sends the request the labels page sends to Gmail (same URL, same token)
// over a pooled transport and copies the answer through.
func BenchmarkNullHandler(b *testing.B) {
	benchAgainstGmail(b, func(e *testEnv, session *http.Cookie) http.Handler {
		token := accessTokenOf(b, e, session)
		client := &http.Client{Transport: upstream.NewTransport()}
		b.Cleanup(client.CloseIdleConnections)
		query := url.Values{"alt": {"json"}, "fields": {labelsFields}, "prettyPrint": {"false"}}
		labelsURL := e.googleURL + fakegoogle.LabelsPath + "?" + query.Encode()
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, labelsURL, nil)
			if err != nil {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
		})
	})
}

// BenchmarkListLabels is listlabels serving a signed-in browser whose token
// needs no refresh.
func BenchmarkListLabels(b *testing.B) {
	benchAgainstGmail(b, func(e *testEnv, _ *http.Cookie) http.Handler { return e.handler("listlabels") })
}

// benchAgainstGmail runs the handler that handlerFor builds at every
// latency, served over loopback HTTP as a deployed function is served, with
// benchConcurrency requests from one signed-in browser in flight. Besides
// ns/op it reports the requests per second and the median and 99th
// percentile latency.
func benchAgainstGmail(b *testing.B, handlerFor func(e *testEnv, session *http.Cookie) http.Handler) {
	for _, latency := range benchLatencies {
		b.Run("gmail="+latency.String(), func(b *testing.B) {
			e := newTestEnv(b, func(c *envConfig) { c.google.APILatency = latency })
			browser := e.newBrowser()
			browser.signIn(demoEmail)
			session := &http.Cookie{Name: sessionCookie, Value: browser.cookieValue(sessionCookie)}
			runLoopback(b, handlerFor(e, session), session)
		})
	}
}

// runLoopback serves h on a loopback server and sends it GET requests with
// cookie, benchConcurrency at a time.
func runLoopback(b *testing.B, h http.Handler, cookie *http.Cookie) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * benchConcurrency}}
	defer client.CloseIdleConnections()
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((benchConcurrency + procs - 1) / procs)
	var mu sync.Mutex
	var took []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/listlabels", nil)
			req.Header.Set("Accept", "text/html")
			req.AddCookie(cookie)
			start := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n == 0 {
				b.Errorf("status %d with %d bytes, want 200 with a page", resp.StatusCode, n)
				return
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		took = append(took, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	slices.Sort(took)
	if len(took) > 0 {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// accessTokenOf opens a session cookie and returns its access token.
func accessTokenOf(tb testing.TB, e *testEnv, sess *http.Cookie) string {
	tb.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(sess)
	s, err := e.app.store.Session(req)
	if err != nil {
		tb.Fatal(err)
	}
	return s.Token.AccessToken
}

// BenchmarkOpenSession is the cost of reading the session cookie, which
// every call on the user's behalf pays.
func BenchmarkOpenSession(b *testing.B) {
	e := newTestEnv(b)
	browser := e.newBrowser()
	browser.signIn(demoEmail)
	req := httptest.NewRequest(http.MethodGet, "/listlabels", nil)
	// What a browser sends: the session cookie among others of the site.
	req.Header.Set("Cookie", "_ga=GA1.1.123456789.1700000000; "+sessionCookie+"="+browser.cookieValue(sessionCookie)+"; theme=dark")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.app.store.Session(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLabelsPage renders the labels page of each demo account, and of
// none, as listlabels does once Gmail has answered: the CPU the page itself
// costs (html/template runs a few escapers per label, its link among them).
func BenchmarkLabelsPage(b *testing.B) {
	accounts := append([]fakegoogle.Account{{Email: "nobody@example.com"}}, fakegoogle.DemoAccounts()...)
	for _, a := range accounts {
		var labels []*gmail.Label
		for _, l := range a.Labels {
			label := &gmail.Label{Name: l.Name, Type: l.Type, LabelListVisibility: l.LabelListVisibility}
			if l.Color != nil {
				label.Color = &gmail.LabelColor{BackgroundColor: l.Color.BackgroundColor, TextColor: l.Color.TextColor}
			}
			labels = append(labels, label)
		}
		b.Run(fmt.Sprintf("labels=%d", len(labels)), func(b *testing.B) {
			b.ReportAllocs()
			frame := pages.Frame{Account: a.Email, SwitchURL: "/oauth2init?account=choose"}
			for b.Loop() {
				frame.Write(httptest.NewRecorder(), http.StatusOK, "labels", newLabelsPage(labels, "", a.Email))
			}
		})
	}
}
