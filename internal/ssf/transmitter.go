package ssf

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Authorizer authenticates a receiver's request to the management and poll
// endpoints (normally from its bearer token) and returns the receiver's
// name, which owns the streams it creates. Any error means 401; its text is
// never shown to the client.
type Authorizer func(r *http.Request) (receiver string, err error)

// Config configures a Transmitter. Issuer, Store and Authorize are required;
// zero values of the rest take the defaults documented on each field.
type Config struct {
	// Issuer is the transmitter's issuer identifier and the base of every
	// endpoint URL: https, no query or fragment ("https://vigil.example.com").
	// A path is allowed; the handler then serves under it, and the metadata
	// at /.well-known/ssf-configuration/<path> (SSF 1.0 §7.2).
	Issuer    string
	Store     Store
	Authorize Authorizer

	// Algorithm signs SETs: RS256 (default) or ES256. It applies to keys
	// generated from now on; existing keys keep theirs until rotated.
	Algorithm string
	// KeyGrace is how long a retired key stays published after Rotate
	// (default 7 days). Make it longer than SETs may wait in the queue.
	KeyGrace time.Duration
	// Audience gives the aud of a new stream of a receiver (default: the
	// receiver's name).
	Audience func(receiver string) []string
	// DefaultSubjects is advertised as default_subjects and governs new
	// streams: SubjectsAll (default) delivers events about every subject
	// except those removed; SubjectsNone only about subjects added.
	DefaultSubjects string

	// HTTPClient pushes SETs (default: 10 s timeout, redirects not
	// followed, so an Authorization header never leaves for another URL).
	HTTPClient *http.Client
	// Insecure permits an http issuer and http push endpoints. For tests
	// and labs only.
	Insecure bool
	// MaxAttempts bounds push attempts of one SET before it is marked
	// failed (default 30: about two hours with the default backoff).
	MaxAttempts int
	// RetryBase and RetryMax shape the push backoff: RetryBase doubled per
	// attempt, at most RetryMax (defaults 1 s and 5 min). A receiver's
	// Retry-After is honoured up to RetryMax.
	RetryBase, RetryMax time.Duration
	// PollWait bounds a long poll (default 30 s).
	PollWait time.Duration
	// MinVerificationInterval is advertised as min_verification_interval;
	// more frequent verification requests get 429 (default 5 s).
	MinVerificationInterval time.Duration
	// MaxStreamsPerReceiver bounds streams per receiver (default 10);
	// creating one more gets 409.
	MaxStreamsPerReceiver int

	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default: discard
}

// ErrNotOpen is returned by a Transmitter used before Open.
var ErrNotOpen = errors.New("ssf: transmitter not open")

// Transmitter is an SSF transmitter. Create it with New, call Open, mount
// Handler, and run Run for push delivery. Its methods are safe for
// concurrent use.
type Transmitter struct {
	cfg        Config
	log        *slog.Logger
	issuerPath string // the issuer's path without a trailing slash, maybe ""

	// mu guards keys and serializes every change to streams, subjects and
	// the queue, so a Store needs no cross-call transactions.
	mu   sync.Mutex
	keys *keyring

	wake chan struct{} // nudges Run after an enqueue

	waitMu  sync.Mutex
	waiters map[string]chan struct{} // per stream, closed when SETs arrive
}

// New checks cfg and returns a Transmitter. It does no I/O.
func New(cfg Config) (*Transmitter, error) {
	if cfg.Store == nil {
		return nil, errors.New("ssf: config needs a Store")
	}
	if cfg.Authorize == nil {
		return nil, errors.New("ssf: config needs an Authorizer")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("ssf: issuer %q must be an absolute URL without query, fragment or credentials", cfg.Issuer)
	}
	if u.Scheme != "https" && !(cfg.Insecure && u.Scheme == "http") {
		return nil, fmt.Errorf("ssf: issuer %q must use https", cfg.Issuer)
	}
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	if cfg.Algorithm == "" {
		cfg.Algorithm = RS256
	}
	if cfg.Algorithm != RS256 && cfg.Algorithm != ES256 {
		return nil, fmt.Errorf("ssf: algorithm %q is not RS256 or ES256", cfg.Algorithm)
	}
	switch cfg.DefaultSubjects {
	case "":
		cfg.DefaultSubjects = SubjectsAll
	case SubjectsAll, SubjectsNone:
	default:
		return nil, fmt.Errorf("ssf: default subjects %q is not ALL or NONE", cfg.DefaultSubjects)
	}
	setDefault(&cfg.KeyGrace, 7*24*time.Hour)
	setDefault(&cfg.RetryBase, time.Second)
	setDefault(&cfg.RetryMax, 5*time.Minute)
	setDefault(&cfg.PollWait, 30*time.Second)
	setDefault(&cfg.MinVerificationInterval, 5*time.Second)
	setDefault(&cfg.MaxAttempts, 30)
	setDefault(&cfg.MaxStreamsPerReceiver, 10)
	if cfg.Audience == nil {
		cfg.Audience = func(receiver string) []string { return []string{receiver} }
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Transmitter{
		cfg:        cfg,
		log:        log,
		issuerPath: strings.TrimSuffix(u.EscapedPath(), "/"),
		wake:       make(chan struct{}, 1),
		waiters:    map[string]chan struct{}{},
	}, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Open loads the signing keys, generating the first one if the store has
// none, and drops retired keys whose grace period has passed.
func (t *Transmitter) Open(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	ring, err := t.loadKeys(ctx)
	if err != nil {
		return err
	}
	t.keys = ring
	return nil
}

// Emit queues ev as one SET for every stream that is not disabled, delivers
// ev.Type, and whose subjects admit ev.Subject. A risk-level-change whose
// current and previous levels are equal (high to critical, say) changes
// nothing a receiver can see and is not sent. Delivery happens later: by Run
// for push streams, when the receiver polls for poll streams.
func (t *Transmitter) Emit(ctx context.Context, ev Event) error {
	if err := ev.validate(); err != nil {
		return err
	}
	if ev.Type == EventRiskLevelChange && ev.CurrentLevel == ev.PreviousLevel {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys == nil {
		return ErrNotOpen
	}
	streams, err := t.cfg.Store.Streams(ctx)
	if err != nil {
		return fmt.Errorf("emit: list streams: %w", err)
	}
	now := t.cfg.Now()
	txn := ev.Txn
	if txn == "" {
		txn = randomID()
	}
	evDoc := docOf(ev.Subject)
	var sets []QueuedSET
	for _, s := range streams {
		if s.Status == StatusDisabled || !slices.Contains(s.EventsDelivered, ev.Type) {
			continue
		}
		ok, err := t.subjectWanted(ctx, s, evDoc)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		q, err := t.sign(s, ev.Type, ev.Subject, ev.claims(now), txn, now)
		if err != nil {
			return err
		}
		sets = append(sets, q)
	}
	if len(sets) == 0 {
		return nil
	}
	if err := t.cfg.Store.Enqueue(ctx, sets); err != nil {
		return fmt.Errorf("emit: enqueue: %w", err)
	}
	for _, q := range sets {
		t.notify(q.Stream)
	}
	return nil
}

// subjectWanted applies a stream's subjects to an event's subject.
func (t *Transmitter) subjectWanted(ctx context.Context, s Stream, ev subjectDoc) (bool, error) {
	subs, err := t.cfg.Store.Subjects(ctx, s.ID)
	if err != nil {
		return false, fmt.Errorf("emit: subjects of stream %s: %w", s.ID, err)
	}
	matched := false
	for _, raw := range subs {
		var d subjectDoc
		if json.Unmarshal(raw, &d) != nil {
			continue
		}
		if subjectsMatch(d, ev) {
			matched = true
			break
		}
	}
	if s.DefaultSubjects == SubjectsNone {
		return matched, nil
	}
	return !matched, nil
}

// sign makes one SET for one stream. The caller holds t.mu.
func (t *Transmitter) sign(s Stream, evType string, subject any, claims map[string]any, txn string, now time.Time) (QueuedSET, error) {
	jti := randomID()
	set := map[string]any{
		"iss":    t.cfg.Issuer,
		"iat":    now.Unix(),
		"jti":    jti,
		"aud":    audClaim(s.Audience),
		"sub_id": subject,
		"events": map[string]any{evType: claims},
	}
	if txn != "" {
		set["txn"] = txn
	}
	payload, err := json.Marshal(set)
	if err != nil {
		return QueuedSET{}, fmt.Errorf("encode SET: %w", err)
	}
	jws, err := t.keys.active.signer.Sign(payload)
	if err != nil {
		return QueuedSET{}, fmt.Errorf("sign SET: %w", err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		return QueuedSET{}, fmt.Errorf("serialize SET: %w", err)
	}
	return QueuedSET{Stream: s.ID, JTI: jti, EventType: evType, Token: tok, Created: now, State: QueuePending}, nil
}

func audClaim(aud []string) any {
	if len(aud) == 1 {
		return aud[0]
	}
	return aud
}

// verify queues a verification SET on a stream (SSF 1.0 §8.1.4). The
// caller holds t.mu.
func (t *Transmitter) verify(ctx context.Context, s Stream, state string) error {
	now := t.cfg.Now()
	claims := map[string]any{}
	if state != "" {
		claims["state"] = state
	}
	q, err := t.sign(s, EventVerification, OpaqueSubject(s.ID), claims, "", now)
	if err != nil {
		return err
	}
	if err := t.cfg.Store.Enqueue(ctx, []QueuedSET{q}); err != nil {
		return fmt.Errorf("verify: enqueue: %w", err)
	}
	t.notify(s.ID)
	return nil
}

// Failed returns up to limit SETs of a stream that will not be delivered:
// rejected by the receiver, reported in a poll's setErrs, or out of retries.
func (t *Transmitter) Failed(ctx context.Context, stream string, limit int) ([]QueuedSET, error) {
	return t.cfg.Store.Failed(ctx, stream, limit)
}

// notify wakes Run and any long poll waiting on the stream.
func (t *Transmitter) notify(stream string) {
	select {
	case t.wake <- struct{}{}:
	default:
	}
	t.waitMu.Lock()
	if ch, ok := t.waiters[stream]; ok {
		close(ch)
		delete(t.waiters, stream)
	}
	t.waitMu.Unlock()
}

// waiter returns a channel closed at the stream's next enqueue.
func (t *Transmitter) waiter(stream string) <-chan struct{} {
	t.waitMu.Lock()
	defer t.waitMu.Unlock()
	ch, ok := t.waiters[stream]
	if !ok {
		ch = make(chan struct{})
		t.waiters[stream] = ch
	}
	return ch
}

// randomID returns 128 random bits in hex: stream IDs, jti and txn values.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
