// Package ssftest is the conformance suite for implementations of
// ssf.Store: every backend runs TestStore, so the transmitter can rely on
// the same ordering, uniqueness and deletion behaviour from each.
package ssftest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/ssf"
)

// TestStore runs the ssf.Store contract against stores made by open, one
// fresh, empty store per subtest.
func TestStore(t *testing.T, open func(t *testing.T) ssf.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	stream := func(id string) ssf.Stream {
		return ssf.Stream{
			ID: id, Receiver: "receiver-a", Audience: []string{"a", "b"},
			EventsRequested: []string{ssf.EventSessionRevoked, "urn:example:x"},
			EventsDelivered: []string{ssf.EventSessionRevoked},
			Delivery: ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: "https://r.example/e",
				AuthorizationHeader: "Bearer s3cret"},
			Description: "d", Status: ssf.StatusEnabled, StatusReason: "r", DefaultSubjects: ssf.SubjectsAll,
			Created: t0, Updated: t0.Add(time.Second), LastVerification: t0.Add(2 * time.Second),
		}
	}
	set := func(streamID, jti string) ssf.QueuedSET {
		return ssf.QueuedSET{Stream: streamID, JTI: jti, EventType: ssf.EventSessionRevoked,
			Token: "header.payload-" + jti + ".sig", Created: t0, State: ssf.QueuePending}
	}
	jtis := func(qs []ssf.QueuedSET) []string {
		var out []string
		for _, q := range qs {
			out = append(out, q.JTI)
		}
		return out
	}

	t.Run("streams", func(t *testing.T) {
		s := open(t)
		if _, err := s.Stream(ctx, "absent"); !errors.Is(err, ssf.ErrNotFound) {
			t.Errorf("Stream(absent) = %v, want ErrNotFound", err)
		}
		if err := s.DeleteStream(ctx, "absent"); !errors.Is(err, ssf.ErrNotFound) {
			t.Errorf("DeleteStream(absent) = %v, want ErrNotFound", err)
		}
		if all, err := s.Streams(ctx); err != nil || len(all) != 0 {
			t.Errorf("Streams of an empty store = %v, %v", all, err)
		}
		want := stream("s1")
		if err := s.SaveStream(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.Stream(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		if !sameStream(got, want) {
			t.Errorf("Stream round trip:\n got %+v\nwant %+v", got, want)
		}
		want.Status, want.Delivery = ssf.StatusPaused, ssf.Delivery{Method: ssf.DeliveryPoll, EndpointURL: "https://t/ssf/poll/s1"}
		if err := s.SaveStream(ctx, want); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Stream(ctx, "s1"); !sameStream(got, want) {
			t.Errorf("SaveStream did not replace: %+v", got)
		}
		if err := s.SaveStream(ctx, stream("s2")); err != nil {
			t.Fatal(err)
		}
		all, err := s.Streams(ctx)
		if err != nil || len(all) != 2 {
			t.Fatalf("Streams = %d, %v; want 2", len(all), err)
		}
		if err := s.DeleteStream(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stream(ctx, "s1"); !errors.Is(err, ssf.ErrNotFound) {
			t.Errorf("Stream after delete = %v, want ErrNotFound", err)
		}
	})

	t.Run("subjects", func(t *testing.T) {
		s := open(t)
		if err := s.SaveStream(ctx, stream("s1")); err != nil {
			t.Fatal(err)
		}
		a, b := []byte(`{"email":"a@x","format":"email"}`), []byte(`{"email":"b@x","format":"email"}`)
		for _, sub := range [][]byte{a, a, b} {
			if err := s.AddSubject(ctx, "s1", sub); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Subjects(ctx, "s1")
		if err != nil || len(got) != 2 {
			t.Fatalf("Subjects = %q, %v; want a and b once each", got, err)
		}
		if err := s.RemoveSubject(ctx, "s1", a); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveSubject(ctx, "s1", a); err != nil {
			t.Errorf("removing an absent subject: %v", err)
		}
		got, _ = s.Subjects(ctx, "s1")
		if len(got) != 1 || !bytes.Equal(got[0], b) {
			t.Errorf("Subjects after remove = %q, want only b", got)
		}
		if got, _ := s.Subjects(ctx, "other"); len(got) != 0 {
			t.Errorf("another stream has subjects %q", got)
		}
	})

	t.Run("queue", func(t *testing.T) {
		s := open(t)
		for _, id := range []string{"s1", "s2"} {
			if err := s.SaveStream(ctx, stream(id)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Enqueue(ctx, []ssf.QueuedSET{set("s1", "a"), set("s1", "b"), set("s2", "a")}); err != nil {
			t.Fatal(err)
		}
		if err := s.Enqueue(ctx, []ssf.QueuedSET{set("s1", "c"), set("s1", "d")}); err != nil {
			t.Fatal(err)
		}
		if err := s.Enqueue(ctx, []ssf.QueuedSET{set("s1", "e"), set("s1", "a")}); err == nil {
			t.Error("Enqueue accepted a duplicate (stream, jti)")
		}
		got, err := s.Pending(ctx, "s1", 10)
		if err != nil {
			t.Fatal(err)
		}
		if d := jtis(got); !slices.Equal(d, []string{"a", "b", "c", "d"}) {
			t.Fatalf("Pending = %v, want a b c d in enqueue order, without e (all or nothing)", d)
		}
		if !got[0].Created.Equal(t0) || got[0].Token != "header.payload-a.sig" || got[0].EventType != ssf.EventSessionRevoked || got[0].State != ssf.QueuePending {
			t.Errorf("Pending round trip: %+v", got[0])
		}
		if got, _ := s.Pending(ctx, "s1", 2); !slices.Equal(jtis(got), []string{"a", "b"}) {
			t.Errorf("Pending with limit 2 = %v", jtis(got))
		}

		next := t0.Add(time.Minute)
		upd := got[1]
		upd.Attempts, upd.NextAttempt, upd.LastError = 2, next, "receiver answered 503"
		if err := s.UpdateQueued(ctx, upd); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Pending(ctx, "s1", 10)
		if got[1].Attempts != 2 || !got[1].NextAttempt.Equal(next) || got[1].LastError != "receiver answered 503" {
			t.Errorf("UpdateQueued not kept: %+v", got[1])
		}
		if !slices.Equal(jtis(got), []string{"a", "b", "c", "d"}) {
			t.Errorf("a SET waiting for retry left its place: %v", jtis(got))
		}
		for _, jti := range []string{"c", "a"} {
			f := set("s1", jti)
			f.State, f.LastError = ssf.QueueFailed, "rejected "+jti
			if err := s.UpdateQueued(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.UpdateQueued(ctx, set("s1", "absent")); err != nil {
			t.Errorf("UpdateQueued of an absent SET: %v", err)
		}
		if got, _ := s.Pending(ctx, "s1", 10); !slices.Equal(jtis(got), []string{"b", "d"}) {
			t.Errorf("Pending after failing a and c = %v, want b d", jtis(got))
		}
		failed, err := s.Failed(ctx, "s1", 10)
		if err != nil || !slices.Equal(jtis(failed), []string{"c", "a"}) || failed[0].LastError != "rejected c" {
			t.Errorf("Failed = %+v, %v; want c then a (most recent first)", failed, err)
		}
		if n, err := s.Ack(ctx, "s1", []string{"b", "c", "zzz"}); err != nil || n != 2 {
			t.Errorf("Ack = %d, %v; want 2 (a pending and a failed one)", n, err)
		}
		if n, err := s.Ack(ctx, "s1", nil); err != nil || n != 0 {
			t.Errorf("Ack(nil) = %d, %v", n, err)
		}
		if got, _ := s.Pending(ctx, "s2", 10); !slices.Equal(jtis(got), []string{"a"}) {
			t.Errorf("stream s2 was touched: %v", jtis(got))
		}
		if err := s.AddSubject(ctx, "s1", []byte(`{"format":"opaque","id":"x"}`)); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteStream(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Pending(ctx, "s1", 10); len(got) != 0 {
			t.Errorf("DeleteStream kept pending SETs %v", jtis(got))
		}
		if got, _ := s.Failed(ctx, "s1", 10); len(got) != 0 {
			t.Errorf("DeleteStream kept failed SETs %v", jtis(got))
		}
		if got, _ := s.Subjects(ctx, "s1"); len(got) != 0 {
			t.Errorf("DeleteStream kept subjects")
		}
		if got, _ := s.Pending(ctx, "s2", 10); len(got) != 1 {
			t.Errorf("DeleteStream of s1 removed s2's SETs")
		}
	})

	t.Run("keys", func(t *testing.T) {
		s := open(t)
		if keys, err := s.Keys(ctx); err != nil || len(keys) != 0 {
			t.Fatalf("Keys of an empty store = %v, %v", keys, err)
		}
		k := ssf.Key{ID: "kid-1", Algorithm: ssf.ES256, Private: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), Created: t0}
		if err := s.SaveKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		k.Retired = t0.Add(time.Hour)
		if err := s.SaveKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveKey(ctx, ssf.Key{ID: "kid-2", Algorithm: ssf.RS256, Private: []byte("x"), Created: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		keys, err := s.Keys(ctx)
		if err != nil || len(keys) != 2 {
			t.Fatalf("Keys = %d, %v; want 2", len(keys), err)
		}
		i := slices.IndexFunc(keys, func(k ssf.Key) bool { return k.ID == "kid-1" })
		if i < 0 || !keys[i].Retired.Equal(k.Retired) || !keys[i].Created.Equal(t0) || !bytes.Equal(keys[i].Private, k.Private) || keys[i].Algorithm != ssf.ES256 {
			t.Errorf("key round trip: %+v", keys)
		}
		if err := s.DeleteKey(ctx, "kid-1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteKey(ctx, "kid-1"); err != nil {
			t.Errorf("deleting an absent key: %v", err)
		}
		if keys, _ := s.Keys(ctx); len(keys) != 1 || keys[0].ID != "kid-2" {
			t.Errorf("Keys after delete = %+v", keys)
		}
	})
}

func sameStream(a, b ssf.Stream) bool {
	return a.ID == b.ID && a.Receiver == b.Receiver && slices.Equal(a.Audience, b.Audience) &&
		slices.Equal(a.EventsRequested, b.EventsRequested) && slices.Equal(a.EventsDelivered, b.EventsDelivered) &&
		a.Delivery == b.Delivery && a.Description == b.Description && a.Status == b.Status &&
		a.StatusReason == b.StatusReason && a.DefaultSubjects == b.DefaultSubjects &&
		a.Created.Equal(b.Created) && a.Updated.Equal(b.Updated) && a.LastVerification.Equal(b.LastVerification)
}
