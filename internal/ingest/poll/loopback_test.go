package poll_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/ingest/poll"
	"github.com/vigil-zt/vigil/internal/vendortest/graphlog"
	"github.com/vigil-zt/vigil/internal/vendortest/oktalog"
)

// Both pollers against the fakes over real loopback HTTP, sharing a sink
// that decodes and stores as ingestion does, and one cursor table.
func TestPollersOverLoopback(t *testing.T) {
	okta := oktalog.New(t)
	graph := graphlog.New(t)
	now := time.Now()
	oktaIDs := seedOkta(t, okta, "o", 1200)
	graphIDs := seedSignIns(t, graph, "g", 50, now, 10*time.Minute)

	snk := newSink().withStore(t)
	cur := openCursors(t, filepath.Join(t.TempDir(), "cursors.db"))
	po, err := poll.NewOkta(poll.OktaConfig{OrgURL: okta.URL(), APIToken: oktalog.DefaultAPIToken, Interval: 20 * time.Millisecond},
		poll.Options{Sink: snk, Cursors: cur, HTTP: okta.Client()})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := poll.NewClientCredentials(poll.CredentialsConfig{Authority: graph.URL(), Tenant: graphlog.DefaultTenant,
		ClientID: graphlog.DefaultClientID, ClientSecret: graphlog.DefaultClientSecret, HTTP: graph.Client()})
	if err != nil {
		t.Fatal(err)
	}
	pg, err := poll.NewGraph(poll.GraphConfig{Tenant: graphlog.DefaultTenant, Log: poll.SignIns, GraphURL: graph.URL(), Tokens: cc, Interval: 20 * time.Millisecond},
		poll.Options{Sink: snk, Cursors: cur, HTTP: graph.Client()})
	if err != nil {
		t.Fatal(err)
	}
	stopOkta, _ := start(t, po.Run)
	stopGraph, _ := start(t, pg.Run)

	waitFor(t, func() bool { return snk.count() >= len(oktaIDs)+len(graphIDs) })
	okta.Add(oktalog.Event("o-new", time.Now(), "user.session.start", "bob@example.com"))
	graph.Add(graphlog.SignIns, graphlog.SignIn("g-new", time.Now(), "bob@example.com"))
	waitFor(t, func() bool { return snk.count() >= len(oktaIDs)+len(graphIDs)+2 })
	if err := stopOkta(); err != nil {
		t.Fatal(err)
	}
	if err := stopGraph(); err != nil {
		t.Fatal(err)
	}
	snk.mu.Lock()
	defer snk.mu.Unlock()
	if want := len(oktaIDs) + len(graphIDs) + 2; snk.stored != want || snk.dups != 0 || snk.quar != 0 {
		t.Errorf("stored %d, duplicates %d, quarantined %d; want %d, 0, 0", snk.stored, snk.dups, snk.quar, want)
	}
	for _, name := range []string{po.Name(), pg.Name()} {
		if v, _ := cur.Cursor(context.Background(), name); v == "" {
			t.Errorf("no cursor stored for %s", name)
		}
	}
}

// waitFor polls cond until it holds, failing after a generous deadline.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
