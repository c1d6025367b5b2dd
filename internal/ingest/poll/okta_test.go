package poll_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/ingest/poll"
	"github.com/vigil-zt/vigil/internal/vendortest"
	"github.com/vigil-zt/vigil/internal/vendortest/oktalog"
)

type oktaRig struct {
	srv  *oktalog.Server
	snk  *sink
	cur  *sqlCursors
	met  *metrics
	path string
}

func newOktaRig(t *testing.T, opts ...oktalog.Option) *oktaRig {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cursors.db")
	return &oktaRig{
		srv:  oktalog.NewInMemory(t, opts...),
		snk:  newSink(),
		cur:  openCursors(t, path),
		met:  newMetrics(),
		path: path,
	}
}

func (r *oktaRig) poller(t *testing.T, cfg poll.OktaConfig) *poll.Okta {
	t.Helper()
	cfg.OrgURL = r.srv.URL()
	if cfg.APIToken == "" && cfg.Tokens == nil {
		cfg.APIToken = oktalog.DefaultAPIToken
	}
	p, err := poll.NewOkta(cfg, poll.Options{
		Sink: r.snk, Cursors: r.cur, Metrics: r.met, HTTP: r.srv.Client(),
		RequestTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// seedOkta adds n events a second apart, ending a minute ago; it returns
// their uuids.
func seedOkta(t *testing.T, srv *oktalog.Server, prefix string, n int) []string {
	t.Helper()
	start := time.Now().Add(-time.Minute - time.Duration(n)*time.Second)
	ids := make([]string, n)
	evs := make([]json.RawMessage, n)
	for i := range n {
		ids[i] = fmt.Sprintf("%s%05d", prefix, i)
		evs[i] = oktalog.Event(ids[i], start.Add(time.Duration(i)*time.Second), "user.session.start", "ada@example.com")
	}
	if err := srv.Add(evs...); err != nil {
		t.Fatal(err)
	}
	return ids
}

func uuids(t *testing.T, raws [][]byte) []string {
	t.Helper()
	out := make([]string, len(raws))
	for i, r := range raws {
		var e struct{ UUID string }
		if err := json.Unmarshal(r, &e); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		out[i] = e.UUID
	}
	return out
}

func logReads(srv interface{ Requests() []vendortest.Request }) []vendortest.Request {
	var out []vendortest.Request
	for _, r := range srv.Requests() {
		if r.Kind == vendortest.KindRead {
			out = append(out, r)
		}
	}
	return out
}

func TestOktaPagesThenPollsTheNextLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newOktaRig(t)
		want := seedOkta(t, r.srv, "a", 2500)
		stop, _ := start(t, r.poller(t, poll.OktaConfig{}).Run)

		time.Sleep(time.Second)
		synctest.Wait()
		if diff := cmp.Diff(want, uuids(t, r.snk.all())); diff != "" {
			t.Fatalf("records (-want +got):\n%s", diff)
		}
		reqs := logReads(r.srv)
		if len(reqs) != 3 {
			t.Fatalf("%d requests for 2500 events in pages of 1000, want 3", len(reqs))
		}
		q, _ := url.ParseQuery(reqs[0].Query)
		if q.Get("sortOrder") != "ASCENDING" || q.Get("limit") != "1000" || q.Get("since") == "" || q.Get("after") != "" {
			t.Errorf("first request query %q: want since, sortOrder=ASCENDING, limit=1000", reqs[0].Query)
		}
		for _, req := range reqs[1:] {
			if q, _ := url.ParseQuery(req.Query); q.Get("after") == "" {
				t.Errorf("request %q does not follow the next link", req.Query)
			}
		}
		for origin := range r.snk.origins {
			if origin != oktalog.InMemoryURL+"/api/v1/logs" {
				t.Errorf("origin %q", origin)
			}
		}
		for _, src := range r.snk.sources {
			if src != event.SourceOkta {
				t.Fatalf("source %q", src)
			}
		}

		// Caught up: the next link is polled again after the interval and
		// finds what was appended meanwhile.
		more := make([]json.RawMessage, 5)
		for i := range more {
			more[i] = oktalog.Event(fmt.Sprintf("b%d", i), time.Now(), "user.session.start", "bob@example.com")
			want = append(want, fmt.Sprintf("b%d", i))
		}
		if err := r.srv.Add(more...); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if diff := cmp.Diff(want, uuids(t, r.snk.all())); diff != "" {
			t.Fatalf("after appending (-want +got):\n%s", diff)
		}
		// Quiet polls deliver nothing more.
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := r.snk.count(); n != len(want) {
			t.Fatalf("%d records after quiet polls, want %d", n, len(want))
		}
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		reqs = logReads(r.srv)
		last, _ := url.Parse(r.srv.URL() + "/api/v1/logs?" + reqs[len(reqs)-1].Query)
		if got := r.cur.get(t, "okta:vigil-test.okta.invalid"); got != last.RequestURI() {
			t.Errorf("stored cursor %q, want the last next link %q", got, last.RequestURI())
		}
		if r.met.lags == 0 || r.met.lag <= 0 || r.met.lag > 2*time.Minute {
			t.Errorf("lag %v reported %d times", r.met.lag, r.met.lags)
		}
	})
}

func TestOktaRestartResumesFromStoredCursor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newOktaRig(t)
		first := seedOkta(t, r.srv, "a", 1500)
		stop, _ := start(t, r.poller(t, poll.OktaConfig{}).Run)
		time.Sleep(time.Second)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if got := r.snk.count(); got != len(first) {
			t.Fatalf("first run delivered %d, want %d", got, len(first))
		}

		// While stopped, more events arrive; the cursor table is reopened
		// from its file.
		second := seedOkta(t, r.srv, "b", 700)
		r.cur.db.Close()
		r.cur = openCursors(t, r.path)
		r.snk = newSink()
		before := len(logReads(r.srv))
		stop, _ = start(t, r.poller(t, poll.OktaConfig{Since: time.Now().Add(-24 * time.Hour)}).Run)
		time.Sleep(time.Second)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(second, uuids(t, r.snk.all())); diff != "" {
			t.Fatalf("second run re-read or lost records (-want +got):\n%s", diff)
		}
		q, _ := url.ParseQuery(logReads(r.srv)[before].Query)
		if q.Get("after") == "" || q.Get("since") != "" {
			t.Errorf("restart asked %v, want the stored next link (after, no since)", q)
		}
	})
}

func TestOktaRefusedPageIsFetchedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newOktaRig(t)
		want := seedOkta(t, r.srv, "a", 2500)
		r.snk.fail(1)
		stop, _ := start(t, r.poller(t, poll.OktaConfig{}).Run)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, uuids(t, r.snk.all())); diff != "" {
			t.Fatalf("records (-want +got):\n%s", diff)
		}
		if r.met.errs(poll.ErrorSink) != 1 {
			t.Errorf("sink errors %d, want 1", r.met.errs(poll.ErrorSink))
		}
	})
}

// A crash after the sink took pages but before their cursor was saved
// delivers them again on restart; the store's dedupe absorbs them.
func TestOktaUnsavedCursorRedeliversAndDedupeAbsorbs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newOktaRig(t)
		r.snk.withStore(t)
		seedOkta(t, r.srv, "a", 1000) // one full page: its cursor is saved
		stop, _ := start(t, r.poller(t, poll.OktaConfig{Limit: 500}).Run)
		time.Sleep(time.Second)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		saved := r.cur.get(t, "okta:vigil-test.okta.invalid")

		seedOkta(t, r.srv, "b", 1200)
		r.cur.failNextSets(1000) // the cursor store is down: nothing is saved
		stop, _ = start(t, r.poller(t, poll.OktaConfig{Limit: 500}).Run)
		time.Sleep(time.Minute)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if got := r.cur.get(t, "okta:vigil-test.okta.invalid"); got != saved {
			t.Fatalf("cursor moved to %q while its store failed", got)
		}
		if r.snk.count() != 1500 || r.met.errs(poll.ErrorCursor) == 0 {
			t.Fatalf("delivered %d with a failing cursor store (cursor errors %d), want the first page past the saved cursor only",
				r.snk.count(), r.met.errs(poll.ErrorCursor))
		}

		// Restart with a working store: everything after the saved cursor
		// comes again, and the store keeps each event once.
		r.cur.failNextSets(0)
		stop, _ = start(t, r.poller(t, poll.OktaConfig{Limit: 500}).Run)
		time.Sleep(time.Second)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if r.snk.stored != 2200 || r.snk.dups != 500 || r.snk.quar != 0 {
			t.Fatalf("store kept %d, duplicates %d, quarantined %d; want 2200, 500, 0", r.snk.stored, r.snk.dups, r.snk.quar)
		}
	})
}

func TestOkta429WithRetryAfterIsWaitedOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newOktaRig(t)
		want := seedOkta(t, r.srv, "a", 10)
		r.srv.FailNext(1, http.StatusTooManyRequests, 30*time.Second)
		stop, _ := start(t, r.poller(t, poll.OktaConfig{}).Run)
		time.Sleep(29 * time.Second)
		synctest.Wait()
		if n := len(logReads(r.srv)); n != 1 || r.snk.count() != 0 {
			t.Fatalf("%d requests and %d records before Retry-After passed, want 1 and 0", n, r.snk.count())
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, uuids(t, r.snk.all())); diff != "" {
			t.Fatalf("records (-want +got):\n%s", diff)
		}
		if r.met.errs(poll.ErrorThrottle) != 1 || len(r.met.throttled) == 0 || r.met.throttled[0] < 30*time.Second {
			t.Errorf("throttle errors %d, waits %v", r.met.errs(poll.ErrorThrottle), r.met.throttled)
		}
	})
}

func TestOktaRateLimitHeaders(t *testing.T) {
	t.Run("slows down before the limit", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newOktaRig(t, oktalog.WithRateLimit(4))
			want := seedOkta(t, r.srv, "a", 1000)
			stop, _ := start(t, r.poller(t, poll.OktaConfig{Limit: 100}).Run)
			time.Sleep(5 * time.Minute)
			synctest.Wait()
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, uuids(t, r.snk.all())); diff != "" {
				t.Fatalf("records (-want +got):\n%s", diff)
			}
			for _, req := range r.srv.Requests() {
				if req.Status != http.StatusOK {
					t.Fatalf("request answered %d: the poller exhausted the rate limit", req.Status)
				}
			}
			if len(r.met.throttled) == 0 {
				t.Error("no throttling reported")
			}
		})
	})
	t.Run("429 without Retry-After waits for the reset", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newOktaRig(t, oktalog.WithRateLimit(2))
			want := seedOkta(t, r.srv, "a", 300)
			stop, _ := start(t, r.poller(t, poll.OktaConfig{Limit: 100, RateReserve: -1}).Run)
			time.Sleep(3 * time.Minute)
			synctest.Wait()
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, uuids(t, r.snk.all())); diff != "" {
				t.Fatalf("records (-want +got):\n%s", diff)
			}
			reqs := logReads(r.srv)
			var limited []vendortest.Request
			for i, req := range reqs {
				if req.Status == http.StatusTooManyRequests {
					limited = append(limited, req)
					if i+1 < len(reqs) && reqs[i+1].Time.Sub(req.Time) < 50*time.Second {
						t.Errorf("retried %v after a 429, before the window reset", reqs[i+1].Time.Sub(req.Time))
					}
				}
			}
			if len(limited) == 0 {
				t.Error("the fake's limit was never reached")
			}
		})
	})
}

func TestOkta5xxBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newOktaRig(t)
		want := seedOkta(t, r.srv, "a", 10)
		r.srv.FailNext(3, http.StatusServiceUnavailable, 0)
		stop, _ := start(t, r.poller(t, poll.OktaConfig{}).Run)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, uuids(t, r.snk.all())); diff != "" {
			t.Fatalf("records (-want +got):\n%s", diff)
		}
		reqs := logReads(r.srv)
		// Jittered exponential backoff from 1 s: the n-th wait is within
		// [2^n/2, 2^n] seconds.
		for i := range 3 {
			gap := reqs[i+1].Time.Sub(reqs[i].Time)
			lo, hi := time.Duration(1<<i)*time.Second/2, time.Duration(1<<i)*time.Second
			if gap < lo || gap > hi {
				t.Errorf("wait %d was %v, want within [%v, %v]", i, gap, lo, hi)
			}
		}
		if r.met.errs(poll.ErrorHTTP) != 3 {
			t.Errorf("http errors %d, want 3", r.met.errs(poll.ErrorHTTP))
		}
	})
}

func TestOktaSlowAnswersTimeOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newOktaRig(t)
		want := seedOkta(t, r.srv, "a", 10)
		r.srv.SetDelay(5 * time.Minute)
		stop, _ := start(t, r.poller(t, poll.OktaConfig{}).Run)
		time.Sleep(31 * time.Second)
		synctest.Wait()
		if r.snk.count() != 0 || r.met.errs(poll.ErrorHTTP) != 1 {
			t.Fatalf("records %d, http errors %d after one timeout", r.snk.count(), r.met.errs(poll.ErrorHTTP))
		}
		r.srv.SetDelay(0)
		time.Sleep(time.Minute)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, uuids(t, r.snk.all())); diff != "" {
			t.Fatalf("records (-want +got):\n%s", diff)
		}
	})
}

func TestOktaAuthFailureStops(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     []oktalog.Option
		cfg      poll.OktaConfig
		wantText []string
	}{
		{
			name:     "bad API token",
			cfg:      poll.OktaConfig{APIToken: "00not-the-token"},
			wantText: []string{"status 401", "E0000011", "check the API token"},
		},
		{
			name:     "bearer without okta.logs.read",
			opts:     []oktalog.Option{oktalog.WithBearerToken("at-1", "okta.users.read")},
			cfg:      poll.OktaConfig{Tokens: staticTokens("at-1")},
			wantText: []string{"status 403", "E0000006", "okta.logs.read"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newOktaRig(t, tc.opts...)
				seedOkta(t, r.srv, "a", 10)
				stop, done := start(t, r.poller(t, tc.cfg).Run)
				time.Sleep(time.Hour)
				synctest.Wait()
				select {
				case <-done:
				default:
					t.Fatal("Run still running after an auth failure")
				}
				err := stop()
				if !errors.Is(err, poll.ErrAuth) {
					t.Fatalf("Run = %v, want ErrAuth", err)
				}
				for _, w := range tc.wantText {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				for _, secret := range []string{"00not-the-token", "at-1"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q contains the token", err)
					}
				}
				if n := len(logReads(r.srv)); n != 1 {
					t.Errorf("%d requests, want 1: an auth failure must not be retried", n)
				}
			})
		})
	}
}

func TestOktaBearerTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newOktaRig(t, oktalog.WithBearerToken("at-1", "okta.logs.read"))
		want := seedOkta(t, r.srv, "a", 10)
		stop, _ := start(t, r.poller(t, poll.OktaConfig{Tokens: staticTokens("at-1")}).Run)
		time.Sleep(time.Second)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, uuids(t, r.snk.all())); diff != "" {
			t.Fatalf("records (-want +got):\n%s", diff)
		}
	})
}

// staticTokens is a Tokens that always has the same token.
type staticTokens string

func (s staticTokens) Token(context.Context) (string, error) { return string(s), nil }
func (staticTokens) Invalidate(string)                       {}

func TestOktaRefusesForeignNextLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		hosts := map[string]int{}
		rt := roundTripper(func(req *http.Request) (*http.Response, error) {
			mu.Lock()
			hosts[req.URL.Host]++
			mu.Unlock()
			h := http.Header{}
			h.Add("Link", `<https://evil.example/api/v1/logs?after=1_1>; rel="next"`)
			return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader(`[]`)), Request: req}, nil
		})
		snk, met := newSink(), newMetrics()
		p, err := poll.NewOkta(poll.OktaConfig{OrgURL: "https://example.okta.com", APIToken: "t"},
			poll.Options{Sink: snk, Cursors: openCursors(t, filepath.Join(t.TempDir(), "c.db")), Metrics: met, HTTP: &http.Client{Transport: rt}})
		if err != nil {
			t.Fatal(err)
		}
		stop, _ := start(t, p.Run)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if hosts["evil.example"] != 0 || hosts["example.okta.com"] == 0 {
			t.Errorf("requests by host: %v", hosts)
		}
		if met.errs(poll.ErrorResponse) == 0 {
			t.Error("a foreign next link was not reported")
		}
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestOktaUnusableCursorStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newOktaRig(t)
		if err := r.cur.SetCursor(context.Background(), "okta:vigil-test.okta.invalid", "https://evil.example/api/v1/logs?after=1_1"); err != nil {
			t.Fatal(err)
		}
		stop, done := start(t, r.poller(t, poll.OktaConfig{}).Run)
		<-done
		if err := stop(); !errors.Is(err, poll.ErrCursor) {
			t.Fatalf("Run = %v, want ErrCursor", err)
		}
		if n := len(r.srv.Requests()); n != 0 {
			t.Errorf("%d requests with an unusable cursor", n)
		}
	})
}

func TestNewOktaConfig(t *testing.T) {
	opt := func() poll.Options { return poll.Options{Sink: newSink(), Cursors: staticCursors{}} }
	for _, tc := range []struct {
		name string
		cfg  poll.OktaConfig
		opt  poll.Options
	}{
		{"no org", poll.OktaConfig{APIToken: "t"}, opt()},
		{"http to a remote host", poll.OktaConfig{OrgURL: "http://example.okta.com", APIToken: "t"}, opt()},
		{"credentials in URL", poll.OktaConfig{OrgURL: "https://u:p@example.okta.com", APIToken: "t"}, opt()},
		{"no token", poll.OktaConfig{OrgURL: "https://example.okta.com"}, opt()},
		{"both tokens", poll.OktaConfig{OrgURL: "https://example.okta.com", APIToken: "t", Tokens: staticTokens("x")}, opt()},
		{"limit", poll.OktaConfig{OrgURL: "https://example.okta.com", APIToken: "t", Limit: 1001}, opt()},
		{"no sink", poll.OktaConfig{OrgURL: "https://example.okta.com", APIToken: "t"}, poll.Options{Cursors: staticCursors{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := poll.NewOkta(tc.cfg, tc.opt); !errors.Is(err, poll.ErrConfig) {
				t.Errorf("NewOkta = %v, want ErrConfig", err)
			}
		})
	}
	p, err := poll.NewOkta(poll.OktaConfig{OrgURL: "http://127.0.0.1:8080/", APIToken: "t"}, opt())
	if err != nil || p.Name() != "okta:127.0.0.1:8080" {
		t.Errorf("loopback http: %v, name %q", err, p.Name())
	}
}

type staticCursors map[string]string

func (c staticCursors) Cursor(_ context.Context, name string) (string, error) { return c[name], nil }
func (c staticCursors) SetCursor(_ context.Context, name, v string) error     { return nil }
