// Package webhook is the response connector that tells people: it posts a
// notify action to a URL, either as Vigil's JSON document (the action, its
// incident summary and a one-line summary) or Slack-compatible
// ({"text": "..."}, for Slack, Mattermost, Rocket.Chat and Teams
// workflows that accept incoming-webhook JSON).
//
// With a shared secret each request carries
//
//	X-Vigil-Timestamp: <unix seconds>
//	X-Vigil-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// The timestamp is inside the signed bytes so a receiver can refuse old
// requests (Verify does, with a tolerance) and cannot be fooled by a
// replayed body with a fresh timestamp; the Idempotency-Key (the action
// id) lets it drop retries it already handled.
//
// Action parameters read: "message" (what to tell, free text) and
// "incident_summary" (one line about the incident). A non-2xx answer is
// permanent except 408, 425, 429 and 5xx, which are retried (429 after its
// Retry-After).
//
// Least privilege: a webhook URL is itself a credential (Slack's embeds
// its token), so configure one that can post to a single channel, keep it
// with the other secrets, and prefer a signed generic receiver where the
// receiving side supports it. Errors never include the URL.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-zt/vigil/internal/httpx"
	"github.com/vigil-zt/vigil/internal/respond"
)

var _ respond.Connector = (*Connector)(nil)

// Formats of the body.
const (
	FormatJSON  = "json"
	FormatSlack = "slack"
)

// Headers of a signed request.
const (
	SignatureHeader = "X-Vigil-Signature"
	TimestampHeader = "X-Vigil-Timestamp"
)

// Parameters of a notify action the connector reads.
const (
	ParamMessage         = "message"
	ParamIncidentSummary = "incident_summary"
)

// Config configures a Connector. Secrets are values the caller read from
// where it keeps them; this package never reads files or the environment.
type Config struct {
	// URL receives the POSTs. Required; plain http only for loopback
	// addresses.
	URL string
	// Format is FormatJSON (default) or FormatSlack.
	Format string
	// Secret, when set, signs every request (see the package comment).
	Secret string
	// Headers are sent with every request (an Authorization a receiver
	// wants, say). They may not replace the headers the connector sets.
	Headers map[string]string
	// Timeout bounds one call, 10s by default.
	Timeout time.Duration
	// Version is Vigil's version, sent as User-Agent "vigil/<version>".
	Version string
	// Now is the clock for timestamps; time.Now by default.
	Now func() time.Time
}

// Connector posts notifications to one URL. It is safe for concurrent
// use.
type Connector struct {
	cfg    Config
	client *http.Client
	agent  string
}

var reserved = map[string]bool{
	"Content-Type": true, "Content-Length": true, "Host": true, "User-Agent": true,
	"Idempotency-Key": true, SignatureHeader: true, TimestampHeader: true,
}

// New checks cfg and returns a Connector sending through client (a
// default client when nil). It makes no call. Its errors never quote the
// URL or the secret.
func New(cfg Config, client *http.Client) (*Connector, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || cfg.URL == "" || u.Host == "" || u.User != nil {
		return nil, errors.New("webhook: url must be an absolute url without credentials")
	}
	// Not httpx.ParseBase: a webhook URL may carry a query (often its
	// credential), and errors here quote neither the URL nor its scheme.
	switch err := httpx.CheckScheme(u); {
	case errors.Is(err, httpx.ErrPlainHTTP):
		return nil, fmt.Errorf("webhook: %w", err)
	case err != nil:
		return nil, errors.New("webhook: url scheme must be https")
	}
	switch cfg.Format {
	case "":
		cfg.Format = FormatJSON
	case FormatJSON, FormatSlack:
	default:
		return nil, fmt.Errorf("webhook: format %q: want json or slack", cfg.Format)
	}
	hdr := make(map[string]string, len(cfg.Headers))
	for k, v := range cfg.Headers {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if reserved[ck] || !validHeaderName(k) || strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("webhook: header %q cannot be set", k)
		}
		hdr[ck] = v
	}
	cfg.Headers = hdr
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Connector{cfg: cfg, client: httpx.NoRedirects(client), agent: "vigil/" + cfg.Version}, nil
}

var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

func validHeaderName(k string) bool { return headerName.MatchString(k) }

// Kinds lists what the connector does.
func (c *Connector) Kinds() []string { return []string{respond.KindNotify} }

// Document is the JSON body of FormatJSON.
type Document struct {
	Type     string    `json:"type"` // "vigil.notify"
	ID       string    `json:"id"`   // the action id, as the Idempotency-Key
	SentAt   time.Time `json:"sent_at"`
	Summary  string    `json:"summary"`
	Action   Action    `json:"action"`
	Incident *Incident `json:"incident,omitempty"`
}

// Action is what the document says of the action.
type Action struct {
	ID        string            `json:"id"`
	Connector string            `json:"connector,omitempty"`
	Kind      string            `json:"kind"`
	Identity  string            `json:"identity,omitempty"`
	Target    string            `json:"target,omitempty"`
	Message   string            `json:"message,omitempty"`
	Params    map[string]string `json:"params,omitempty"`
	Alert     string            `json:"alert,omitempty"`
	DecidedBy string            `json:"decided_by,omitempty"`
	Mode      string            `json:"mode,omitempty"`
	Created   time.Time         `json:"created,omitzero"`
}

// Incident is the incident the action is about.
type Incident struct {
	ID      string `json:"id,omitempty"`
	Summary string `json:"summary,omitempty"`
}

// Do posts a, a notify action.
func (c *Connector) Do(ctx context.Context, a respond.Action) (string, error) {
	if a.Kind != respond.KindNotify {
		return "", fmt.Errorf("webhook: %q: %w", a.Kind, respond.ErrUnsupported)
	}
	now := c.cfg.Now()
	summary := Summary(a)
	var body []byte
	var err error
	if c.cfg.Format == FormatSlack {
		body, err = json.Marshal(map[string]string{"text": slackEscape(summary)})
	} else {
		body, err = json.Marshal(document(a, summary, now))
	}
	if err != nil {
		return "", fmt.Errorf("webhook: encoding: %w", err)
	}
	if err := c.post(ctx, a, body, now); err != nil {
		return "", err
	}
	return "notified: " + httpx.Truncate(summary, 120), nil
}

func document(a respond.Action, summary string, now time.Time) Document {
	params := map[string]string{}
	for k, v := range a.Params {
		if k != ParamMessage && k != ParamIncidentSummary {
			params[k] = v
		}
	}
	if len(params) == 0 {
		params = nil
	}
	d := Document{
		Type:    "vigil.notify",
		ID:      a.ID,
		SentAt:  now.UTC(),
		Summary: summary,
		Action: Action{
			ID: a.ID, Connector: a.Connector, Kind: a.Kind, Identity: a.Identity, Target: a.Target,
			Message: a.Params[ParamMessage], Params: params, Alert: a.Alert,
			DecidedBy: a.DecidedBy, Mode: a.Mode, Created: a.Created.UTC(),
		},
	}
	if a.Incident != "" || a.Params[ParamIncidentSummary] != "" {
		d.Incident = &Incident{ID: a.Incident, Summary: a.Params[ParamIncidentSummary]}
	}
	return d
}

// Summary is the one line a person reads: what to tell, about whom, which
// incident, who decided.
func Summary(a respond.Action) string {
	msg := oneLine(a.Params[ParamMessage])
	if msg == "" {
		msg = "notification"
	}
	var b strings.Builder
	b.WriteString("Vigil")
	if a.Mode != "" && a.Mode != respond.ModeEnforce {
		b.WriteString(" [" + a.Mode + "]")
	}
	b.WriteString(": " + msg)
	var about []string
	if a.Identity != "" {
		about = append(about, "identity "+oneLine(a.Identity))
	}
	if a.Incident != "" || a.Params[ParamIncidentSummary] != "" {
		inc := "incident"
		if a.Incident != "" {
			inc += " " + oneLine(a.Incident)
		}
		if s := oneLine(a.Params[ParamIncidentSummary]); s != "" {
			inc += " (" + s + ")"
		}
		about = append(about, inc)
	}
	if a.DecidedBy != "" {
		about = append(about, "decided by "+oneLine(a.DecidedBy))
	}
	if len(about) > 0 {
		b.WriteString(" — " + strings.Join(about, ", "))
	}
	return httpx.Truncate(b.String(), 2000)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// slackEscape escapes the three characters Slack's mrkdwn treats as
// control characters, so a message cannot mention @channel or forge links.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

var errorToken = regexp.MustCompile(`^[a-z_]{1,40}$`)

func (c *Connector) post(ctx context.Context, a respond.Action, body []byte, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("webhook: building the request failed")
	}
	for k, v := range c.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.agent)
	if a.ID != "" {
		req.Header.Set("Idempotency-Key", a.ID)
	}
	if c.cfg.Secret != "" {
		ts := strconv.FormatInt(now.Unix(), 10)
		req.Header.Set(TimestampHeader, ts)
		req.Header.Set(SignatureHeader, Sign([]byte(c.cfg.Secret), ts, body))
	}
	op := "notify"
	if a.Identity != "" {
		op = fmt.Sprintf("notify about %q", a.Identity)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return respond.Retryable(fmt.Errorf("webhook: %s: %w", op, httpx.TransportError(err)), 0)
	}
	defer resp.Body.Close()
	rb, _ := httpx.ReadBody(resp.Body)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	detail := strconv.Itoa(resp.StatusCode)
	if tok := strings.TrimSpace(string(rb)); errorToken.MatchString(tok) {
		detail += " " + tok // Slack's error tokens: invalid_payload, no_service, ...
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return fmt.Errorf("webhook: %s: receiver redirected (%s); configure the final url", op, detail)
	}
	err = fmt.Errorf("webhook: %s: receiver answered %s", op, detail)
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return respond.Retryable(err, httpx.RetryAfter(resp.Header, now))
	}
	if resp.StatusCode >= 500 {
		return respond.Retryable(err, httpx.RetryAfter(resp.Header, now))
	}
	return err
}

// Sign returns the X-Vigil-Signature value for body sent at timestamp ts
// (unix seconds, as in X-Vigil-Timestamp).
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("webhook: signature does not match")
	ErrStale        = errors.New("webhook: timestamp outside the tolerance")
)

// Verify checks a received request's signature and timestamp headers
// against body, refusing timestamps further than tolerance from now. A
// receiver should also drop Idempotency-Keys it has handled.
func Verify(secret []byte, signature, timestamp string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStale
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}
