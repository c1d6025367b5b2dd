package poll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-zt/vigil/internal/httpx"
)

const userAgent = "vigil-poller/1"

// StatusError is an answer other than success. Its Error names the request
// and the vendor's error code and summary, never a credential.
type StatusError struct {
	Op      string // "GET /api/v1/logs"
	Status  int
	Code    string // the vendor's error code: E0000011, InvalidAuthenticationToken, invalid_client
	Message string // the vendor's summary, shortened
	Hint    string // what to check, for errors retrying cannot fix
	// Wait is how long the server asked the client to wait (Retry-After,
	// Okta's rate-limit reset); 0 when it did not say.
	Wait time.Duration
}

func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: status %d", e.Op, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Hint != "" {
		b.WriteString(" (" + e.Hint + ")")
	}
	return b.String()
}

// Unwrap returns ErrAuth for 401 and 403, ErrRejected for other 4xx
// (except 408 and 429) and for redirects (never followed), and nil for
// what is worth retrying.
func (e *StatusError) Unwrap() error {
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return ErrAuth
	case e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests || e.Status >= 500:
		return nil
	case e.Status >= 300:
		return ErrRejected
	}
	return nil
}

// errResponse marks answers that cannot be read: bad JSON, a missing or
// foreign next link, an oversized body.
var errResponse = errors.New("unexpected response")

// sinkError and cursorError mark failures of the poller's collaborators,
// for metrics.
type sinkError struct{ err error }

func (e sinkError) Error() string { return "sink: " + e.err.Error() }
func (e sinkError) Unwrap() error { return e.err }

type cursorError struct{ err error }

func (e cursorError) Error() string { return "cursor: " + e.err.Error() }
func (e cursorError) Unwrap() error { return e.err }

func errorKind(err error) ErrorKind {
	var se *StatusError
	var sk sinkError
	var ce cursorError
	switch {
	case errors.Is(err, ErrAuth):
		return ErrorAuth
	case errors.As(err, &se) && se.Status == http.StatusTooManyRequests:
		return ErrorThrottle
	case errors.Is(err, ErrRejected):
		return ErrorRejected
	case errors.As(err, &sk):
		return ErrorSink
	case errors.As(err, &ce), errors.Is(err, ErrCursor):
		return ErrorCursor
	case errors.Is(err, errResponse):
		return ErrorResponse
	}
	return ErrorHTTP
}

// permanent reports whether retrying err cannot help.
func permanent(err error) bool {
	return errors.Is(err, ErrAuth) || errors.Is(err, ErrRejected) || errors.Is(err, ErrCursor)
}

// authorizer sets a request's credentials.
type authorizer interface {
	// header returns the Authorization header value and the token in it
	// (for refused).
	header(ctx context.Context) (value, token string, err error)
	// refused is told the API answered 401 to token; it reports whether a
	// fresh credential is worth one more try.
	refused(token string) bool
}

type sswsAuth struct{ token Secret }

func (a sswsAuth) header(context.Context) (string, string, error) {
	return "SSWS " + a.token.Reveal(), "", nil
}
func (sswsAuth) refused(string) bool { return false }

type bearerAuth struct{ src Tokens }

func (a bearerAuth) header(ctx context.Context) (string, string, error) {
	t, err := a.src.Token(ctx)
	if err != nil {
		return "", "", err
	}
	return "Bearer " + t, t, nil
}

func (a bearerAuth) refused(token string) bool {
	a.src.Invalidate(token)
	return true
}

// response is a whole answer, body read.
type response struct {
	status int
	header http.Header
	body   []byte
	// date is the server's clock at the answer (its Date header), or ours
	// when it sent none: rate-limit resets are server times.
	date time.Time
}

// client is what the pollers share: requests, retries, waiting.
type client struct {
	name string
	opt  Options
}

// get fetches rawURL. A 401 is retried once when auth can get a fresh
// credential (an expired OAuth token); other statuses are the caller's.
func (c *client) get(ctx context.Context, op, rawURL string, auth authorizer) (*response, error) {
	for attempt := 0; ; attempt++ {
		hdr, tok, err := auth.header(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := c.do(ctx, op, rawURL, hdr)
		if err != nil {
			return nil, err
		}
		if resp.status == http.StatusUnauthorized && attempt == 0 && auth.refused(tok) {
			c.opt.Log.Info("token refused, fetching a new one", "poller", c.name)
			continue
		}
		return resp, nil
	}
}

func (c *client) do(ctx context.Context, op, rawURL, authz string) (*response, error) {
	rctx, cancel := context.WithTimeout(ctx, c.opt.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", op, errResponse, err)
	}
	req.Header.Set("Authorization", authz)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	res, err := c.opt.HTTP.Do(req)
	if err != nil {
		return nil, c.netError(ctx, rctx, op, err)
	}
	defer res.Body.Close()
	body, err := readLimited(res.Body, c.opt.MaxResponse)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, fmt.Errorf("%s: %w: body larger than %d bytes (lower the page size)", op, errResponse, c.opt.MaxResponse)
		}
		return nil, c.netError(ctx, rctx, op, err)
	}
	date := c.opt.Now()
	if d, err := http.ParseTime(res.Header.Get("Date")); err == nil {
		date = d
	}
	return &response{status: res.StatusCode, header: res.Header, body: body, date: date}, nil
}

// netError shortens a transport error: *url.Error repeats the whole URL.
func (c *client) netError(ctx, rctx context.Context, op string, err error) error {
	if ctx.Err() == nil && errors.Is(rctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: no answer within %s", op, c.opt.RequestTimeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s: %w", op, err)
}

var errTooLarge = errors.New("body too large")

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// vendorText shortens a vendor's error text for an error message: one
// line, printable, at most 200 bytes.
func vendorText(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// backoff is jittered exponential backoff: each wait is half the current
// step plus a random part of the other half, so that waits grow and
// pollers that failed together do not retry together.
type backoff struct {
	min, max time.Duration
	n        int
}

func (b *backoff) next() time.Duration {
	d := b.max
	if b.n < 30 {
		if s := b.min << b.n; s > 0 && s < b.max {
			d = s
		}
	}
	b.n++
	return d/2 + rand.N(d/2+1)
}

func (b *backoff) reset() { b.n = 0 }

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// loop runs step until ctx ends or step fails for good. step returns how
// long to wait before the next step.
func (c *client) loop(ctx context.Context, step func(context.Context) (time.Duration, error)) error {
	bo := backoff{min: c.opt.MinBackoff, max: c.opt.MaxBackoff}
	for {
		wait, err := step(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			c.opt.Metrics.Error(c.name, errorKind(err))
			if permanent(err) {
				c.opt.Log.Error("poller stopped", "poller", c.name, "err", err)
				return fmt.Errorf("poll %s: %w", c.name, err)
			}
			d := bo.next()
			if se := (*StatusError)(nil); errors.As(err, &se) && se.Wait > 0 {
				// The server said how long: obey it (capped), plus up to a
				// second so that pollers sharing a limit do not collide.
				d = min(se.Wait, c.opt.MaxWait) + rand.N(time.Second)
				c.opt.Metrics.Throttled(c.name, d)
			}
			c.opt.Log.Warn("poll failed, retrying", "poller", c.name, "err", err, "retry_in", d)
			if !sleep(ctx, d) {
				return nil
			}
			continue
		}
		bo.reset()
		if !sleep(ctx, wait) {
			return nil
		}
	}
}

// checkBase validates a configured base URL: absolute, http(s), no
// credentials, query or fragment; plain http only to a loopback address
// (a test or a local proxy), so that tokens never cross a network in the
// clear. It returns the URL without a trailing slash.
func checkBase(what, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	switch {
	case raw == "":
		return nil, fmt.Errorf("%w: %s is required", ErrConfig, what)
	case err != nil:
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, what, err)
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return nil, fmt.Errorf("%w: %s %q is not an absolute http(s) URL", ErrConfig, what, raw)
	case u.User != nil, u.RawQuery != "", u.Fragment != "":
		return nil, fmt.Errorf("%w: %s must not carry credentials, a query or a fragment", ErrConfig, what)
	case u.Scheme == "http" && !httpx.Loopback(u.Hostname()):
		return nil, fmt.Errorf("%w: %s must be https (plain http only to a loopback address)", ErrConfig, what)
	}
	return u, nil
}

// under returns base with elem appended to its path (url.JoinPath leaves
// the path relative when base has none).
func under(base *url.URL, elem ...string) *url.URL {
	u := *base
	u.Path = strings.TrimRight(base.Path, "/") + "/" + strings.Join(elem, "/")
	u.RawPath = ""
	return &u
}

// sameOrigin reports whether link (absolute) has base's scheme and host, so
// that following it sends the credential nowhere else.
func sameOrigin(base, link *url.URL) bool {
	return strings.EqualFold(base.Scheme, link.Scheme) && strings.EqualFold(base.Host, link.Host)
}
