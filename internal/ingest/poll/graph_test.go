package poll_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/ingest/poll"
	"github.com/vigil-zt/vigil/internal/vendortest"
	"github.com/vigil-zt/vigil/internal/vendortest/graphlog"
)

type graphRig struct {
	srv  *graphlog.Server
	snk  *sink
	cur  *sqlCursors
	met  *metrics
	path string
}

func newGraphRig(t *testing.T, opts ...graphlog.Option) *graphRig {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cursors.db")
	return &graphRig{
		srv:  graphlog.NewInMemory(t, opts...),
		snk:  newSink(),
		cur:  openCursors(t, path),
		met:  newMetrics(),
		path: path,
	}
}

func (r *graphRig) credentials(t *testing.T, secret string) *poll.ClientCredentials {
	t.Helper()
	if secret == "" {
		secret = graphlog.DefaultClientSecret
	}
	cc, err := poll.NewClientCredentials(poll.CredentialsConfig{
		Authority: r.srv.URL(), Tenant: graphlog.DefaultTenant, ClientID: graphlog.DefaultClientID,
		ClientSecret: poll.Secret(secret), HTTP: r.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

func (r *graphRig) poller(t *testing.T, cfg poll.GraphConfig) *poll.Graph {
	t.Helper()
	cfg.GraphURL = r.srv.URL()
	if cfg.Tokens == nil {
		cfg.Tokens = r.credentials(t, "")
	}
	if cfg.Log == "" {
		cfg.Log = poll.SignIns
	}
	cfg.Tenant = graphlog.DefaultTenant
	p, err := poll.NewGraph(cfg, poll.Options{
		Sink: r.snk, Cursors: r.cur, Metrics: r.met, HTTP: r.srv.Client(), RequestTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// seedSignIns adds n sign-ins spread evenly over span, ending end; it
// returns their ids oldest first.
func seedSignIns(t *testing.T, srv *graphlog.Server, prefix string, n int, end time.Time, span time.Duration) []string {
	t.Helper()
	ids := make([]string, n)
	recs := make([]json.RawMessage, n)
	for i := range n {
		ids[i] = fmt.Sprintf("%s%05d", prefix, i)
		at := end.Add(-span + span*time.Duration(i)/time.Duration(n))
		recs[i] = graphlog.SignIn(ids[i], at, "ada@example.com")
	}
	if err := srv.Add(graphlog.SignIns, recs...); err != nil {
		t.Fatal(err)
	}
	return ids
}

func ids(t *testing.T, raws [][]byte) []string {
	t.Helper()
	out := make([]string, len(raws))
	for i, r := range raws {
		var e struct{ ID string }
		if err := json.Unmarshal(r, &e); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		out[i] = e.ID
	}
	return out
}

// sameSet compares ids ignoring order, and reports repeats.
func sameSet(t *testing.T, want, got []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("%s delivered twice", id)
		}
		seen[id] = true
	}
	w, g := slices.Clone(want), slices.Clone(got)
	slices.Sort(w)
	slices.Sort(g)
	g = slices.Compact(g)
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

func graphReads(srv *graphlog.Server) []vendortest.Request {
	var out []vendortest.Request
	for _, r := range srv.Requests() {
		if r.Kind == vendortest.KindRead {
			out = append(out, r)
		}
	}
	return out
}

func TestGraphSignInsPagesAndCatchesLateRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newGraphRig(t)
		want := seedSignIns(t, r.srv, "a", 2500, time.Now().Add(-time.Minute), 30*time.Minute)
		stop, _ := start(t, r.poller(t, poll.GraphConfig{PageSize: 1000}).Run)
		time.Sleep(time.Second)
		synctest.Wait()
		got := ids(t, r.snk.all())
		sameSet(t, want, got)
		reads := graphReads(r.srv)
		if len(reads) != 3 || r.srv.TokensIssued() != 1 {
			t.Fatalf("%d reads and %d tokens for 2500 sign-ins, want 3 and 1", len(reads), r.srv.TokensIssued())
		}
		q, _ := url.ParseQuery(reads[0].Query)
		if f := q.Get("$filter"); !strings.HasPrefix(f, "createdDateTime ge ") || strings.Contains(f, " le ") ||
			q.Get("$top") != "1000" || q.Has("$orderby") {
			t.Errorf("first query %v", q)
		}
		for _, req := range reads[1:] {
			if q, _ := url.ParseQuery(req.Query); !q.Has("$skiptoken") {
				t.Errorf("request %q does not follow @odata.nextLink", req.Query)
			}
		}
		// Each page is handed over oldest first.
		for i := 0; i+1 < 1000; i++ {
			if got[i] > got[i+1] {
				t.Fatalf("page not in time order at %d: %s then %s", i, got[i], got[i+1])
			}
		}

		// Caught up: a new sign-in, one published late but within the
		// overlap, and one later than the overlap (missed, as documented).
		newest := time.Now().Add(-time.Minute)
		r.srv.Add(graphlog.SignIns,
			graphlog.SignIn("new", time.Now(), "bob@example.com"),
			graphlog.SignIn("late", newest.Add(-3*time.Minute), "bob@example.com"),
			graphlog.SignIn("too-late", newest.Add(-10*time.Minute), "bob@example.com"))
		time.Sleep(time.Minute)
		synctest.Wait()
		sameSet(t, append(want, "new", "late"), ids(t, r.snk.all()))

		// Quiet sweeps re-read the overlap and deliver nothing.
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		sameSet(t, append(want, "new", "late"), ids(t, r.snk.all()))
		if r.met.fetched <= r.met.delivered {
			t.Errorf("fetched %d, delivered %d: the overlap was not re-read", r.met.fetched, r.met.delivered)
		}
		for _, s := range r.snk.sources {
			if s != event.SourceEntra {
				t.Fatalf("source %q", s)
			}
		}
	})
}

func TestGraphDirectoryAuditsOldestFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newGraphRig(t)
		var want []string
		var recs []json.RawMessage
		for i := range 250 {
			id := fmt.Sprintf("d%03d", i)
			want = append(want, id)
			recs = append(recs, graphlog.DirectoryAudit(id, time.Now().Add(-30*time.Minute+time.Duration(i)*time.Second), "Update user", "admin@example.com"))
		}
		if err := r.srv.Add(graphlog.DirectoryAudits, recs...); err != nil {
			t.Fatal(err)
		}
		r.snk.withStore(t)
		stop, _ := start(t, r.poller(t, poll.GraphConfig{Log: poll.DirectoryAudits, PageSize: 100}).Run)
		time.Sleep(time.Second)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, ids(t, r.snk.all())); diff != "" {
			t.Fatalf("records (-want +got):\n%s", diff)
		}
		q, _ := url.ParseQuery(graphReads(r.srv)[0].Query)
		if q.Get("$orderby") != "activityDateTime asc" || !strings.HasPrefix(q.Get("$filter"), "activityDateTime ge ") {
			t.Errorf("query %v", q)
		}
		if r.snk.stored != 250 || r.snk.quar != 0 {
			t.Errorf("store kept %d, quarantined %d: want every audit decoded", r.snk.stored, r.snk.quar)
		}
	})
}

func TestGraphRestart(t *testing.T) {
	t.Run("ids in the cursor: nothing again", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newGraphRig(t)
			first := seedSignIns(t, r.srv, "a", 300, time.Now().Add(-time.Minute), 10*time.Minute)
			stop, _ := start(t, r.poller(t, poll.GraphConfig{}).Run)
			time.Sleep(time.Second)
			synctest.Wait()
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			sameSet(t, first, ids(t, r.snk.all()))

			time.Sleep(2 * time.Minute)
			second := seedSignIns(t, r.srv, "b", 50, time.Now(), time.Minute)
			r.cur.db.Close()
			r.cur = openCursors(t, r.path)
			r.snk = newSink()
			stop, _ = start(t, r.poller(t, poll.GraphConfig{Since: time.Now().Add(-48 * time.Hour)}).Run)
			time.Sleep(time.Second)
			synctest.Wait()
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			sameSet(t, second, ids(t, r.snk.all()))
		})
	})
	t.Run("more ids than the cursor holds: dedupe absorbs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newGraphRig(t)
			r.snk.withStore(t)
			first := seedSignIns(t, r.srv, "a", 300, time.Now().Add(-time.Minute), 10*time.Minute)
			cfg := poll.GraphConfig{CursorIDs: 10}
			stop, _ := start(t, r.poller(t, cfg).Run)
			time.Sleep(time.Second)
			synctest.Wait()
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			var gc struct {
				Time time.Time
				IDs  []string
			}
			if err := json.Unmarshal([]byte(r.cur.get(t, "graph:"+graphlog.DefaultTenant+":signIns")), &gc); err != nil {
				t.Fatal(err)
			}
			if len(gc.IDs) != 10 || gc.IDs[0] != first[len(first)-1] {
				t.Fatalf("cursor ids %v, want the 10 newest", gc.IDs)
			}

			stop, _ = start(t, r.poller(t, cfg).Run)
			time.Sleep(time.Second)
			synctest.Wait()
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			// Sign-ins are 2 s apart; the filter is inclusive, so the 5
			// minute overlap before the newest holds 151 of them. The 10
			// newest are skipped, the other 141 come again.
			if r.snk.stored != 300 || r.snk.dups != 141 {
				t.Fatalf("store kept %d with %d duplicates, want 300 and 141", r.snk.stored, r.snk.dups)
			}
		})
	})
}

func TestGraphCatchesUpInWindows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newGraphRig(t)
		want := seedSignIns(t, r.srv, "a", 500, time.Now(), 5*time.Hour)
		stop, _ := start(t, r.poller(t, poll.GraphConfig{Since: time.Now().Add(-6 * time.Hour)}).Run)
		time.Sleep(time.Second)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		sameSet(t, want, ids(t, r.snk.all()))
		reads := graphReads(r.srv)
		if len(reads) < 6 {
			t.Fatalf("%d reads for six hours in one-hour windows", len(reads))
		}
		q, _ := url.ParseQuery(reads[0].Query)
		if f := q.Get("$filter"); !strings.Contains(f, " and createdDateTime le ") {
			t.Errorf("first sweep's filter %q has no upper bound", f)
		}
		q, _ = url.ParseQuery(reads[len(reads)-1].Query)
		if f := q.Get("$filter"); strings.Contains(f, " le ") {
			t.Errorf("caught-up sweep's filter %q has an upper bound", f)
		}
	})
}

func TestGraphThrottling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newGraphRig(t)
		want := seedSignIns(t, r.srv, "a", 10, time.Now(), time.Minute)
		r.srv.FailNext(1, http.StatusTooManyRequests, 20*time.Second)
		r.srv.FailNext(1, http.StatusServiceUnavailable, 5*time.Second)
		stop, _ := start(t, r.poller(t, poll.GraphConfig{}).Run)
		time.Sleep(time.Minute)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		sameSet(t, want, ids(t, r.snk.all()))
		reads := graphReads(r.srv)
		for i, min := range []time.Duration{20 * time.Second, 5 * time.Second} {
			if gap := reads[i+1].Time.Sub(reads[i].Time); gap < min || gap > min+time.Second {
				t.Errorf("wait %d was %v, want Retry-After %v (plus under a second)", i, gap, min)
			}
		}
	})
}

func TestGraphTokens(t *testing.T) {
	t.Run("cached until shortly before expiry", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newGraphRig(t)
			stop, _ := start(t, r.poller(t, poll.GraphConfig{}).Run)
			time.Sleep(2*time.Hour - time.Minute)
			synctest.Wait()
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			// 3599 s tokens renewed five minutes early: at 0, ~55 and ~110 min.
			if n := r.srv.TokensIssued(); n != 3 {
				t.Errorf("%d tokens in two hours of sweeps, want 3", n)
			}
			for _, req := range r.srv.Requests() {
				if req.Status != http.StatusOK {
					t.Fatalf("%s answered %d", req.Path, req.Status)
				}
			}
		})
	})
	t.Run("refreshed once on 401", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newGraphRig(t)
			stop, _ := start(t, r.poller(t, poll.GraphConfig{}).Run)
			time.Sleep(time.Second)
			synctest.Wait()
			r.srv.ExpireTokens()
			want := seedSignIns(t, r.srv, "a", 10, time.Now(), time.Minute)
			time.Sleep(time.Minute)
			synctest.Wait()
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			sameSet(t, want, ids(t, r.snk.all()))
			if n := r.srv.TokensIssued(); n != 2 {
				t.Errorf("%d tokens, want 2", n)
			}
			if r.met.errs(poll.ErrorAuth) != 0 {
				t.Errorf("an expired token was reported as an auth error")
			}
		})
	})
	t.Run("fresh token refused too", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newGraphRig(t)
			r.srv.FailNext(2, http.StatusUnauthorized, 0)
			stop, done := start(t, r.poller(t, poll.GraphConfig{}).Run)
			<-done
			err := stop()
			if !errors.Is(err, poll.ErrAuth) || !strings.Contains(err.Error(), "InvalidAuthenticationToken") {
				t.Fatalf("Run = %v, want ErrAuth", err)
			}
			if n, reads := r.srv.TokensIssued(), len(graphReads(r.srv)); n != 2 || reads != 2 {
				t.Errorf("%d tokens and %d reads, want 2 and 2", n, reads)
			}
		})
	})
}

func TestGraphAuthFailureStops(t *testing.T) {
	for _, tc := range []struct {
		name     string
		secret   string
		inject   int
		wantText []string
	}{
		{"wrong client secret", "not-the-secret", 0, []string{"status 401 invalid_client", "AADSTS7000215: Invalid client secret provided."}},
		{"no permission", "", http.StatusForbidden, []string{"status 403 Authorization_RequestDenied", "AuditLog.Read.All"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newGraphRig(t)
				if tc.inject != 0 {
					r.srv.FailNext(1, tc.inject, 0)
				}
				stop, done := start(t, r.poller(t, poll.GraphConfig{Tokens: r.credentials(t, tc.secret)}).Run)
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
				for _, no := range []string{"not-the-secret", graphlog.DefaultClientSecret, "Trace ID", "eyJ"} {
					if strings.Contains(err.Error(), no) {
						t.Errorf("error %q contains %q", err, no)
					}
				}
				if n := len(r.srv.Requests()); n > 2 {
					t.Errorf("%d requests: an auth failure must not be retried", n)
				}
			})
		})
	}
}

func TestGraphNextLinkMustStayOnGraph(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newGraphRig(t)
		met := newMetrics()
		p, err := poll.NewGraph(poll.GraphConfig{Tenant: "t", Log: poll.SignIns, GraphURL: "https://graph.microsoft.com", Tokens: staticTokens("tok")},
			poll.Options{Sink: r.snk, Cursors: r.cur, Metrics: met, HTTP: &http.Client{Transport: roundTripper(func(req *http.Request) (*http.Response, error) {
				if req.URL.Host != "graph.microsoft.com" {
					t.Errorf("request to %s", req.URL.Host)
				}
				body := `{"value":[],"@odata.nextLink":"https://evil.example/v1.0/auditLogs/signIns?$skiptoken=x"}`
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: readCloser(body), Request: req}, nil
			})}})
		if err != nil {
			t.Fatal(err)
		}
		stop, _ := start(t, p.Run)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if met.errs(poll.ErrorResponse) == 0 {
			t.Error("a foreign nextLink was not reported")
		}
	})
}

func TestNewGraphConfig(t *testing.T) {
	opt := poll.Options{Sink: newSink(), Cursors: staticCursors{}}
	for _, tc := range []struct {
		name string
		cfg  poll.GraphConfig
	}{
		{"no tokens", poll.GraphConfig{Tenant: "t", Log: poll.SignIns}},
		{"no tenant", poll.GraphConfig{Log: poll.SignIns, Tokens: staticTokens("x")}},
		{"unknown log", poll.GraphConfig{Tenant: "t", Log: "riskDetections", Tokens: staticTokens("x")}},
		{"page size", poll.GraphConfig{Tenant: "t", Log: poll.SignIns, Tokens: staticTokens("x"), PageSize: 5000}},
		{"http graph", poll.GraphConfig{Tenant: "t", Log: poll.SignIns, Tokens: staticTokens("x"), GraphURL: "http://graph.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := poll.NewGraph(tc.cfg, opt); !errors.Is(err, poll.ErrConfig) {
				t.Errorf("NewGraph = %v, want ErrConfig", err)
			}
		})
	}
	for _, cfg := range []poll.CredentialsConfig{
		{ClientID: "c", ClientSecret: "s"},
		{Tenant: "t", ClientSecret: "s"},
		{Tenant: "t", ClientID: "c"},
		{Tenant: "t/../x", ClientID: "c", ClientSecret: "s"},
	} {
		if _, err := poll.NewClientCredentials(cfg); !errors.Is(err, poll.ErrConfig) {
			t.Errorf("NewClientCredentials(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
	if s := fmt.Sprintf("%v %+v %#v", poll.Secret("hunter2"), poll.CredentialsConfig{ClientSecret: "hunter2"}, poll.Secret("hunter2")); strings.Contains(s, "hunter2") {
		t.Errorf("a secret printed: %s", s)
	}
}

func TestGraphBeta(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newGraphRig(t)
		want := seedSignIns(t, r.srv, "a", 20, time.Now(), time.Minute)
		p := r.poller(t, poll.GraphConfig{Beta: true})
		if p.Name() != "graph:"+graphlog.DefaultTenant+":signIns:beta" {
			t.Errorf("name %q", p.Name())
		}
		stop, _ := start(t, p.Run)
		time.Sleep(time.Second)
		synctest.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		sameSet(t, want, ids(t, r.snk.all()))
		if path := graphReads(r.srv)[0].Path; path != "/beta/auditLogs/signIns" {
			t.Errorf("read %s", path)
		}
	})
}
