package ssf

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestLongPoll runs in a synctest bubble, so the 30-second bound of a long
// poll passes in virtual time.
func TestLongPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		tr, err := New(Config{Issuer: "https://vigil.example", Store: openTestStore(t), Authorize: BearerTokens(testTokens),
			Algorithm: ES256, PollWait: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Open(ctx); err != nil {
			t.Fatal(err)
		}
		hd := tr.Handler()
		call := func(ctx context.Context, method, path, body string) *httptest.ResponseRecorder {
			req := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tokenA)
			rec := httptest.NewRecorder()
			hd.ServeHTTP(rec, req)
			return rec
		}
		rec := call(ctx, "POST", "/ssf/stream", `{"events_requested":["`+EventSessionRevoked+`"]}`)
		var s streamJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil || rec.Code != 201 {
			t.Fatalf("create: %d %s", rec.Code, rec.Body)
		}
		poll := "/ssf/poll/" + s.StreamID
		sets := func(rec *httptest.ResponseRecorder) int {
			t.Helper()
			var pr pollResponse
			if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &pr) != nil {
				t.Fatalf("poll: %d %s", rec.Code, rec.Body)
			}
			return len(pr.Sets)
		}

		start := time.Now()
		if n := sets(call(ctx, "POST", poll, `{}`)); n != 0 {
			t.Fatalf("empty stream returned %d SETs", n)
		}
		if waited := time.Since(start); waited != 30*time.Second {
			t.Errorf("a long poll with nothing to deliver waited %v, want the 30s bound", waited)
		}

		start = time.Now()
		done := make(chan *httptest.ResponseRecorder)
		go func() { done <- call(ctx, "POST", poll, `{"returnImmediately":false}`) }()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("the long poll returned before anything arrived")
		default:
		}
		if err := tr.Emit(ctx, Event{Type: EventSessionRevoked, Subject: OpaqueSubject("u1")}); err != nil {
			t.Fatal(err)
		}
		if n := sets(<-done); n != 1 {
			t.Errorf("the long poll returned %d SETs, want the one emitted", n)
		}
		if waited := time.Since(start); waited != 10*time.Second {
			t.Errorf("the long poll returned after %v, want at the emit (10s)", waited)
		}

		// A receiver that goes away ends its poll.
		rec = call(ctx, "POST", poll, `{"returnImmediately":true}`)
		var pr pollResponse
		_ = json.Unmarshal(rec.Body.Bytes(), &pr)
		var acks []string
		for jti := range pr.Sets {
			acks = append(acks, jti)
		}
		ack, _ := json.Marshal(map[string]any{"ack": acks, "maxEvents": 0})
		call(ctx, "POST", poll, string(ack))
		cctx, cancel := context.WithCancel(ctx)
		start = time.Now()
		gone := make(chan struct{})
		go func() {
			call(cctx, "POST", poll, `{}`)
			close(gone)
		}()
		time.Sleep(5 * time.Second)
		cancel()
		<-gone
		if waited := time.Since(start); waited != 5*time.Second {
			t.Errorf("a cancelled long poll returned after %v, want at the cancel (5s)", waited)
		}
	})
}
