package poll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/httpx"
)

// OktaConfig configures an Okta System Log poller.
type OktaConfig struct {
	// Name identifies the poller in cursors, logs and metrics; "" means
	// "okta:" and the org's host.
	Name string
	// OrgURL is the org's base URL, such as https://example.okta.com.
	OrgURL string
	// APIToken is an SSWS API token, created by an administrator whose
	// role can read the System Log (a read-only administrator). Set it or
	// Tokens, not both.
	APIToken Secret
	// Tokens supplies OAuth 2.0 access tokens granted the okta.logs.read
	// scope (an API service app), sent as Bearer tokens.
	Tokens Tokens
	// Since is where to start when no cursor is stored; zero means
	// Lookback before now. A stored cursor always wins.
	Since time.Time
	// Lookback is how far back a first run starts when Since is zero; 0
	// means 1 h.
	Lookback time.Duration
	// Interval is the wait between polls once caught up; 0 means 10 s.
	// A full page is followed at once.
	Interval time.Duration
	// Limit is the page size, 1 to 1000; 0 means 1000.
	Limit int
	// RateReserve is how many calls of Okta's rate-limit window to leave
	// to others: when X-Rate-Limit-Remaining falls to it, the poller waits
	// for X-Rate-Limit-Reset before its next request. 0 means a tenth of
	// X-Rate-Limit-Limit (at least 1); negative never waits early.
	RateReserve int
}

// Okta polls the Okta System Log (GET /api/v1/logs) in Okta's polling
// mode: sortOrder=ASCENDING without until, following the Link rel="next"
// header, which Okta returns even when no events are left and which is
// polled again after Interval. The cursor is that next link (its path and
// query), saved after the Sink accepts each page, so a restart resumes at
// the first page not delivered.
type Okta struct {
	cfg    OktaConfig
	c      client
	base   *url.URL // org
	logs   *url.URL // org + /api/v1/logs
	origin string
	auth   authorizer

	next   string // absolute URL of the next request; "" until loaded
	saved  string // cursor value last saved
	dirty  bool   // next moved past saved
	newest time.Time
	p      fastjson.Parser
}

const oktaLogsOp = "GET /api/v1/logs"

// NewOkta returns an Okta poller; it does nothing until Run.
func NewOkta(cfg OktaConfig, opt Options) (*Okta, error) {
	if err := opt.defaults(); err != nil {
		return nil, fmt.Errorf("%w: okta: %v", ErrConfig, err)
	}
	base, err := checkBase("okta org URL", cfg.OrgURL)
	if err != nil {
		return nil, err
	}
	o := &Okta{cfg: cfg, base: base}
	switch {
	case cfg.APIToken != "" && cfg.Tokens != nil:
		return nil, fmt.Errorf("%w: okta: set an API token or OAuth tokens, not both", ErrConfig)
	case cfg.APIToken != "":
		o.auth = sswsAuth{cfg.APIToken}
	case cfg.Tokens != nil:
		o.auth = bearerAuth{cfg.Tokens}
	default:
		return nil, fmt.Errorf("%w: okta: an API token or OAuth tokens are required", ErrConfig)
	}
	if cfg.Limit == 0 {
		o.cfg.Limit = 1000
	}
	if o.cfg.Limit < 1 || o.cfg.Limit > 1000 {
		return nil, fmt.Errorf("%w: okta: limit %d is not between 1 and 1000", ErrConfig, cfg.Limit)
	}
	if cfg.Interval <= 0 {
		o.cfg.Interval = 10 * time.Second
	}
	if cfg.Lookback <= 0 {
		o.cfg.Lookback = time.Hour
	}
	if cfg.Name == "" {
		o.cfg.Name = "okta:" + base.Host
	}
	o.logs = under(base, "api", "v1", "logs")
	o.origin = o.logs.String()
	o.c = client{name: o.cfg.Name, opt: opt}
	return o, nil
}

// Name is the poller's name: its cursor's key and its label in logs and
// metrics.
func (o *Okta) Name() string { return o.cfg.Name }

// Run polls until ctx ends (returning nil) or a failure retrying cannot
// fix (an error wrapping ErrAuth, ErrRejected or ErrCursor).
func (o *Okta) Run(ctx context.Context) error {
	o.c.opt.Log.Info("polling okta system log", "poller", o.cfg.Name, "url", o.origin)
	return o.c.loop(ctx, o.step)
}

func (o *Okta) step(ctx context.Context) (time.Duration, error) {
	if o.next == "" {
		if err := o.load(ctx); err != nil {
			return 0, err
		}
	}
	if o.dirty {
		if err := o.save(ctx); err != nil {
			return 0, err
		}
	}
	resp, err := o.c.get(ctx, oktaLogsOp, o.next, o.auth)
	if err != nil {
		return 0, err
	}
	if resp.status != http.StatusOK {
		return 0, o.statusError(resp)
	}
	var page []json.RawMessage
	if err := json.Unmarshal(resp.body, &page); err != nil {
		return 0, fmt.Errorf("%s: %w: page is not a JSON array: %v", oktaLogsOp, errResponse, err)
	}
	link, ok := linkRel(resp.header.Values("Link"), "next")
	if !ok {
		return 0, fmt.Errorf(`%s: %w: no Link rel="next" header (polling needs it)`, oktaLogsOp, errResponse)
	}
	next, err := o.resolve(link)
	if err != nil {
		return 0, fmt.Errorf("%s: %w: next link: %v", oktaLogsOp, errResponse, err)
	}
	if len(page) > 0 {
		raws := make([][]byte, len(page))
		for i, r := range page {
			raws[i] = r
		}
		if err := o.c.opt.Sink.Records(ctx, event.SourceOkta, o.origin, raws); err != nil {
			return 0, sinkError{err}
		}
		o.noteNewest(raws)
	}
	full := len(page) >= limitOf(o.next, o.cfg.Limit)
	if next != o.next {
		o.next = next
		o.dirty = true
	}
	o.c.opt.Metrics.Page(o.cfg.Name, len(page), len(page))
	if !o.newest.IsZero() {
		o.c.opt.Metrics.Lag(o.cfg.Name, o.c.opt.Now().Sub(o.newest))
	}
	o.c.opt.Log.Debug("page", "poller", o.cfg.Name, "records", len(page))
	if o.dirty {
		if err := o.save(ctx); err != nil {
			return 0, err
		}
	}
	wait := o.cfg.Interval
	if full {
		wait = 0
	}
	if rw := o.rateWait(resp); rw > wait {
		o.c.opt.Metrics.Throttled(o.cfg.Name, rw)
		o.c.opt.Log.Info("rate limit nearly used up, waiting for its reset", "poller", o.cfg.Name, "wait", rw)
		wait = rw
	}
	return wait, nil
}

// load sets next from the stored cursor, or from Since.
func (o *Okta) load(ctx context.Context) error {
	v, err := o.c.opt.Cursors.Cursor(ctx, o.cfg.Name)
	if err != nil {
		return cursorError{err}
	}
	if v == "" {
		since := o.cfg.Since
		if since.IsZero() {
			since = o.c.opt.Now().Add(-o.cfg.Lookback)
		}
		q := url.Values{}
		q.Set("since", since.UTC().Format("2006-01-02T15:04:05.000Z"))
		q.Set("sortOrder", "ASCENDING")
		q.Set("limit", strconv.Itoa(o.cfg.Limit))
		u := *o.logs
		u.RawQuery = q.Encode()
		o.next = u.String()
		o.c.opt.Log.Info("no stored cursor, starting from since", "poller", o.cfg.Name, "since", since)
		return nil
	}
	ref, err := url.Parse(v)
	if err != nil || ref.IsAbs() || ref.Host != "" {
		return fmt.Errorf("%w %q: not the path and query of a System Log link", ErrCursor, o.cfg.Name)
	}
	next, err := o.resolve(v)
	if err != nil {
		return fmt.Errorf("%w %q: %v", ErrCursor, o.cfg.Name, err)
	}
	o.next, o.saved = next, v
	o.c.opt.Log.Info("resuming from stored cursor", "poller", o.cfg.Name)
	return nil
}

// save stores next as its path and query: the org URL stays configuration,
// so a stored cursor never sends the token elsewhere.
func (o *Okta) save(ctx context.Context) error {
	u, err := url.Parse(o.next)
	if err != nil {
		return fmt.Errorf("%w: %v", errResponse, err)
	}
	v := u.RequestURI()
	if v == o.saved {
		o.dirty = false
		return nil
	}
	if err := o.c.opt.Cursors.SetCursor(ctx, o.cfg.Name, v); err != nil {
		return cursorError{err}
	}
	o.saved, o.dirty = v, false
	return nil
}

// resolve makes a next link absolute and checks that it is the System Log
// endpoint of the configured org.
func (o *Okta) resolve(link string) (string, error) {
	ref, err := url.Parse(link)
	if err != nil {
		return "", errors.New("not a URL")
	}
	u := o.base.ResolveReference(ref)
	if !sameOrigin(o.base, u) {
		return "", fmt.Errorf("points to %s, not the org", u.Host)
	}
	if u.Path != o.logs.Path || u.Fragment != "" {
		return "", errors.New("not the System Log endpoint")
	}
	return u.String(), nil
}

func limitOf(rawURL string, def int) int {
	if u, err := url.Parse(rawURL); err == nil {
		if n, err := strconv.Atoi(u.Query().Get("limit")); err == nil && n > 0 {
			return n
		}
	}
	return def
}

func (o *Okta) noteNewest(raws [][]byte) {
	for _, r := range raws {
		v, err := o.p.ParseBytes(r)
		if err != nil {
			continue
		}
		if t, err := time.Parse(time.RFC3339Nano, string(v.GetStringBytes("published"))); err == nil && t.After(o.newest) {
			o.newest = t
		}
	}
}

// rateWait is how long to wait before the next request so as to leave
// RateReserve calls in Okta's rate-limit window: 0 while enough remain.
func (o *Okta) rateWait(resp *response) time.Duration {
	remaining, err := strconv.Atoi(resp.header.Get("X-Rate-Limit-Remaining"))
	if err != nil || o.cfg.RateReserve < 0 {
		return 0
	}
	reserve := o.cfg.RateReserve
	if reserve == 0 {
		limit, _ := strconv.Atoi(resp.header.Get("X-Rate-Limit-Limit"))
		reserve = max(1, limit/10)
	}
	if remaining > reserve {
		return 0
	}
	return o.resetWait(resp)
}

// resetWait is the time until X-Rate-Limit-Reset (epoch seconds), by the
// server's clock so that clock skew does not matter.
func (o *Okta) resetWait(resp *response) time.Duration {
	reset, err := strconv.ParseInt(resp.header.Get("X-Rate-Limit-Reset"), 10, 64)
	if err != nil {
		return 0
	}
	w := time.Unix(reset, 0).Sub(resp.date)
	if w <= 0 {
		return 0
	}
	return min(w, o.c.opt.MaxWait)
}

// statusError reads Okta's error object.
func (o *Okta) statusError(resp *response) error {
	var body struct {
		ErrorCode    string `json:"errorCode"`
		ErrorSummary string `json:"errorSummary"`
	}
	_ = json.Unmarshal(resp.body, &body)
	se := &StatusError{Op: oktaLogsOp, Status: resp.status, Code: vendorText(body.ErrorCode), Message: vendorText(body.ErrorSummary)}
	switch resp.status {
	case http.StatusTooManyRequests:
		se.Wait = httpx.RetryAfter(resp.header, resp.date)
		if se.Wait == 0 {
			se.Wait = o.resetWait(resp)
		}
	case http.StatusServiceUnavailable:
		se.Wait = httpx.RetryAfter(resp.header, resp.date)
	case http.StatusUnauthorized:
		se.Hint = "check the API token or the OAuth client"
	case http.StatusForbidden:
		se.Hint = "the token needs read access to the System Log: a read-only administrator's API token or the okta.logs.read scope"
	case http.StatusNotFound:
		se.Hint = "check the org URL"
	case http.StatusBadRequest:
		se.Hint = "check since (within the org's log retention)"
	}
	return se
}
