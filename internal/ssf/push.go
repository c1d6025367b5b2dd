package ssf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// pushBatch is how many queued SETs one store read fetches.
const pushBatch = 50

// idleRecheck is how often Run looks at the queue with nothing to wake it:
// SETs queued by another process sharing the store are found this late.
const idleRecheck = 30 * time.Second

// pushConcurrency bounds streams pushed to at once.
const pushConcurrency = 4

// Run pushes queued SETs to push streams (RFC 8935) until ctx is done. Each
// stream's SETs go out one at a time in the order they were queued; a SET
// that fails with anything but 400 blocks those behind it until its retry
// succeeds or its attempts run out, so a receiver never sees events about
// one subject out of order. Run returns nil when ctx is cancelled.
func (t *Transmitter) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-t.wake:
		}
		next := t.pushRound(ctx)
		wait := idleRecheck
		if !next.IsZero() {
			wait = min(max(next.Sub(t.cfg.Now()), 0), idleRecheck)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// pushRound delivers what is due on every enabled push stream and returns
// the earliest time a blocked SET becomes due (zero: nothing waits).
func (t *Transmitter) pushRound(ctx context.Context) time.Time {
	streams, err := t.cfg.Store.Streams(ctx)
	if err != nil {
		if ctx.Err() == nil {
			t.log.Error("ssf: push: list streams", "err", err)
		}
		return t.cfg.Now().Add(t.cfg.RetryBase)
	}
	var (
		mu   sync.Mutex
		next time.Time
		wg   sync.WaitGroup
		sem  = make(chan struct{}, pushConcurrency)
	)
	for _, s := range streams {
		if s.Delivery.Method != DeliveryPush || s.Status != StatusEnabled {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			due := t.pushStream(ctx, s)
			mu.Lock()
			if !due.IsZero() && (next.IsZero() || due.Before(next)) {
				next = due
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return next
}

// pushStream delivers a stream's due SETs in order and returns when the
// first one still waiting becomes due.
func (t *Transmitter) pushStream(ctx context.Context, s Stream) time.Time {
	for ctx.Err() == nil {
		batch, err := t.cfg.Store.Pending(ctx, s.ID, pushBatch)
		if err != nil {
			if ctx.Err() == nil {
				t.log.Error("ssf: push: read queue", "stream", s.ID, "err", err)
			}
			return t.cfg.Now().Add(t.cfg.RetryBase)
		}
		for _, q := range batch {
			now := t.cfg.Now()
			if q.NextAttempt.After(now) {
				return q.NextAttempt
			}
			res := t.push(ctx, s, q)
			if ctx.Err() != nil {
				return time.Time{} // shutting down: this attempt does not count
			}
			if due, blocked := t.record(ctx, s, q, res); blocked {
				return due
			}
		}
		if len(batch) < pushBatch {
			return time.Time{}
		}
	}
	return time.Time{}
}

// pushResult is the outcome of one push.
type pushResult struct {
	delivered  bool
	permanent  bool          // the receiver rejected the SET: do not retry
	detail     string        // why it failed, safe to store and log
	retryAfter time.Duration // the receiver's Retry-After, if any
}

// record writes the outcome of a push to the store. blocked means the SET
// stays at the head of the stream's queue until due.
func (t *Transmitter) record(ctx context.Context, s Stream, q QueuedSET, res pushResult) (due time.Time, blocked bool) {
	if res.delivered {
		if _, err := t.cfg.Store.Ack(ctx, s.ID, []string{q.JTI}); err != nil {
			t.log.Error("ssf: push: delete delivered SET", "stream", s.ID, "jti", q.JTI, "err", err)
			return t.cfg.Now().Add(t.cfg.RetryBase), true
		}
		t.log.Debug("ssf: pushed SET", "stream", s.ID, "jti", q.JTI, "type", q.EventType)
		return time.Time{}, false
	}
	q.Attempts++
	q.LastError = res.detail
	if res.permanent || q.Attempts >= t.cfg.MaxAttempts {
		q.State = QueueFailed
		if !res.permanent {
			q.LastError = fmt.Sprintf("gave up after %d attempts: %s", q.Attempts, res.detail)
		}
		t.log.Warn("ssf: push failed permanently", "stream", s.ID, "jti", q.JTI, "attempts", q.Attempts, "reason", q.LastError)
		if err := t.cfg.Store.UpdateQueued(ctx, q); err != nil {
			t.log.Error("ssf: push: record failure", "stream", s.ID, "jti", q.JTI, "err", err)
			return t.cfg.Now().Add(t.cfg.RetryBase), true
		}
		return time.Time{}, false
	}
	q.NextAttempt = t.cfg.Now().Add(t.backoff(q.Attempts, res.retryAfter))
	t.log.Info("ssf: push will be retried", "stream", s.ID, "jti", q.JTI, "attempts", q.Attempts, "next", q.NextAttempt, "reason", res.detail)
	if err := t.cfg.Store.UpdateQueued(ctx, q); err != nil {
		t.log.Error("ssf: push: record retry", "stream", s.ID, "jti", q.JTI, "err", err)
	}
	return q.NextAttempt, true
}

// backoff is RetryBase·2^(attempts-1), or the receiver's Retry-After if
// longer, never more than RetryMax.
func (t *Transmitter) backoff(attempts int, retryAfter time.Duration) time.Duration {
	d := t.cfg.RetryBase
	for i := 1; i < attempts && d < t.cfg.RetryMax; i++ {
		d *= 2
	}
	d = max(d, retryAfter)
	return min(d, t.cfg.RetryMax)
}

// push sends one SET (RFC 8935 §2).
func (t *Transmitter) push(ctx context.Context, s Stream, q QueuedSET) pushResult {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Delivery.EndpointURL, strings.NewReader(q.Token))
	if err != nil {
		return pushResult{permanent: true, detail: "endpoint URL is not usable"}
	}
	req.Header.Set("Content-Type", "application/secevent+jwt")
	req.Header.Set("Accept", "application/json")
	if s.Delivery.AuthorizationHeader != "" {
		req.Header.Set("Authorization", s.Delivery.AuthorizationHeader)
	}
	resp, err := t.cfg.HTTPClient.Do(req)
	if err != nil {
		return pushResult{detail: "request failed: " + transportError(err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		// RFC 8935 says 202; any success status means the receiver has it.
		return pushResult{delivered: true}
	case resp.StatusCode == http.StatusBadRequest:
		var e struct {
			Err         string `json:"err"`
			Description string `json:"description"`
		}
		detail := "receiver rejected the SET (400)"
		if json.Unmarshal(body, &e) == nil && e.Err != "" {
			detail = "receiver rejected the SET: " + clean(e.Err, 64)
			if e.Description != "" {
				detail += ": " + clean(e.Description, 200)
			}
		}
		return pushResult{permanent: true, detail: detail}
	}
	return pushResult{
		detail:     fmt.Sprintf("receiver answered %d", resp.StatusCode),
		retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), t.cfg.Now()),
	}
}

// transportError describes a failed request without the URL, which may
// carry a receiver's secret in its query.
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timeout"
		}
		err = ue.Err
	}
	return clean(err.Error(), 200)
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// clean makes receiver-supplied text safe to store and log: printable, short.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
