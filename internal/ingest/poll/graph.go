package poll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/httpx"
)

// GraphLog names a Microsoft Graph audit log.
type GraphLog string

// The logs a Graph poller reads.
const (
	// SignIns is auditLogs/signIns (its $filter and default order are on
	// createdDateTime, newest first; it supports no $orderby).
	SignIns GraphLog = "signIns"
	// DirectoryAudits is auditLogs/directoryAudits (on activityDateTime,
	// read oldest first with $orderby).
	DirectoryAudits GraphLog = "directoryAudits"
)

func (l GraphLog) timeField() string {
	if l == DirectoryAudits {
		return "activityDateTime"
	}
	return "createdDateTime"
}

// GraphConfig configures a Microsoft Graph audit log poller.
type GraphConfig struct {
	// Name identifies the poller in cursors, logs and metrics; "" means
	// "graph:" Tenant ":" Log (":beta" for the beta endpoint). It must be
	// unique per tenant and log.
	Name string
	// Tenant names the tenant in the default Name; required unless Name is
	// set.
	Tenant string
	// Log is the log to read.
	Log GraphLog
	// Beta reads /beta instead of /v1.0 (more fields, no stability
	// promise).
	Beta bool
	// GraphURL is the Graph service root; "" means
	// https://graph.microsoft.com.
	GraphURL string
	// Tokens supplies access tokens, usually a ClientCredentials shared by
	// the tenant's pollers. Required.
	Tokens Tokens
	// Since is where to start when no cursor is stored; zero means
	// Lookback before now. A stored cursor always wins.
	Since time.Time
	// Lookback is how far back a first run starts when Since is zero; 0
	// means 1 h.
	Lookback time.Duration
	// Interval is the wait between sweeps once caught up; 0 means 1 min.
	Interval time.Duration
	// Overlap is how far before its newest event time each sweep reads
	// again, to catch records Graph publishes late; 0 means 5 min,
	// negative means none. A record published later than Overlap after
	// newer ones were read is missed.
	Overlap time.Duration
	// Window is the longest time span one sweep asks for when catching up
	// (Microsoft advises bounding queries by time so that they do not time
	// out); 0 means 1 h.
	Window time.Duration
	// PageSize is $top, 1 to 1000; 0 means 999.
	PageSize int
	// CursorIDs bounds the ids saved in the cursor (the newest delivered
	// within Overlap); 0 means 2000. Records of the overlap window whose
	// ids did not fit are delivered again after a restart.
	CursorIDs int
	// MaxSeen bounds the ids held in memory to skip repeats; 0 means
	// 200,000. Past it, repeats reach the Sink (and dedupe).
	MaxSeen int
}

// Graph polls a Microsoft Graph audit log. Graph has no cursor of its own
// and publishes records minutes after their time, and signIns come newest
// first, so a Graph poller works in sweeps: it asks for every record with
// a time at or after its high-water mark minus Overlap
// ($filter=createdDateTime ge …, bounded by Window while catching up),
// follows @odata.nextLink to the end, hands each page's records it has not
// delivered before to the Sink, and then moves the high-water mark to the
// newest record time seen (or to the window's end). The ids delivered
// within Overlap are remembered, in memory and (the newest CursorIDs) in
// the cursor, so the overlap re-read delivers nothing twice, across
// restarts too, unless more ids than that fall in the overlap.
//
// The cursor is saved at the end of each sweep. A crash during a sweep
// delivers that sweep's records again: at least once, bounded by Window,
// absorbed by dedupe.
type Graph struct {
	cfg      GraphConfig
	c        client
	base     *url.URL
	endpoint *url.URL
	origin   string
	op       string
	auth     authorizer

	loaded bool
	mark   time.Time            // high-water mark
	seen   map[string]time.Time // ids delivered at or after mark - overlap
	newest time.Time
	full   bool // seen reached MaxSeen (logged once)
	p      fastjson.Parser
}

// maxSkew is how far in the future a record's time may be and still move
// the high-water mark: a wrong clock must not make the poller skip ahead.
const maxSkew = 5 * time.Minute

// NewGraph returns a Graph poller; it does nothing until Run.
func NewGraph(cfg GraphConfig, opt Options) (*Graph, error) {
	if err := opt.defaults(); err != nil {
		return nil, fmt.Errorf("%w: graph: %v", ErrConfig, err)
	}
	if cfg.GraphURL == "" {
		cfg.GraphURL = "https://graph.microsoft.com"
	}
	base, err := checkBase("graph URL", cfg.GraphURL)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Log != SignIns && cfg.Log != DirectoryAudits:
		return nil, fmt.Errorf("%w: graph: log %q is not %s or %s", ErrConfig, cfg.Log, SignIns, DirectoryAudits)
	case cfg.Tokens == nil:
		return nil, fmt.Errorf("%w: graph: a token source is required", ErrConfig)
	case cfg.Name == "" && cfg.Tenant == "":
		return nil, fmt.Errorf("%w: graph: a tenant (or a name) is required", ErrConfig)
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 999
	}
	if cfg.PageSize < 1 || cfg.PageSize > 1000 {
		return nil, fmt.Errorf("%w: graph: page size %d is not between 1 and 1000", ErrConfig, cfg.PageSize)
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = time.Hour
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	switch {
	case cfg.Overlap == 0:
		cfg.Overlap = 5 * time.Minute
	case cfg.Overlap < 0:
		cfg.Overlap = 0
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Hour
	}
	if cfg.CursorIDs <= 0 {
		cfg.CursorIDs = 2000
	}
	if cfg.MaxSeen <= 0 {
		cfg.MaxSeen = 200_000
	}
	version := "v1.0"
	if cfg.Beta {
		version = "beta"
	}
	if cfg.Name == "" {
		cfg.Name = "graph:" + cfg.Tenant + ":" + string(cfg.Log)
		if cfg.Beta {
			cfg.Name += ":beta"
		}
	}
	g := &Graph{cfg: cfg, base: base, auth: bearerAuth{cfg.Tokens}, seen: map[string]time.Time{}}
	g.endpoint = under(base, version, "auditLogs", string(cfg.Log))
	g.origin = g.endpoint.String()
	g.op = "GET " + g.endpoint.Path
	g.c = client{name: cfg.Name, opt: opt}
	return g, nil
}

// Name is the poller's name: its cursor's key and its label in logs and
// metrics.
func (g *Graph) Name() string { return g.cfg.Name }

// Run polls until ctx ends (returning nil) or a failure retrying cannot
// fix (an error wrapping ErrAuth, ErrRejected or ErrCursor).
func (g *Graph) Run(ctx context.Context) error {
	g.c.opt.Log.Info("polling graph audit log", "poller", g.cfg.Name, "url", g.origin)
	return g.c.loop(ctx, g.sweep)
}

// graphCursor is the stored cursor: the high-water mark and the newest ids
// delivered within the overlap before it.
type graphCursor struct {
	Time time.Time `json:"time"`
	IDs  []string  `json:"ids,omitempty"`
}

func (g *Graph) load(ctx context.Context) error {
	v, err := g.c.opt.Cursors.Cursor(ctx, g.cfg.Name)
	if err != nil {
		return cursorError{err}
	}
	if v == "" {
		g.mark = g.cfg.Since
		if g.mark.IsZero() {
			g.mark = g.c.opt.Now().Add(-g.cfg.Lookback)
		}
		g.c.opt.Log.Info("no stored cursor, starting from since", "poller", g.cfg.Name, "since", g.mark)
	} else {
		var gc graphCursor
		if err := json.Unmarshal([]byte(v), &gc); err != nil || gc.Time.IsZero() {
			return fmt.Errorf("%w %q: not a graph cursor", ErrCursor, g.cfg.Name)
		}
		g.mark = gc.Time
		// The ids' own times were not kept: treat them as at the mark,
		// which keeps them at least as long as needed.
		for _, id := range gc.IDs {
			g.seen[id] = gc.Time
		}
		g.newest = gc.Time
		g.c.opt.Log.Info("resuming from stored cursor", "poller", g.cfg.Name, "mark", g.mark, "ids", len(gc.IDs))
	}
	g.loaded = true
	return nil
}

func (g *Graph) save(ctx context.Context) error {
	type idAt struct {
		id string
		t  time.Time
	}
	all := make([]idAt, 0, len(g.seen))
	for id, t := range g.seen {
		all = append(all, idAt{id, t})
	}
	slices.SortFunc(all, func(a, b idAt) int {
		if c := b.t.Compare(a.t); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	gc := graphCursor{Time: g.mark.UTC()}
	for _, x := range all[:min(len(all), g.cfg.CursorIDs)] {
		gc.IDs = append(gc.IDs, x.id)
	}
	b, err := json.Marshal(gc)
	if err != nil {
		return cursorError{err}
	}
	if err := g.c.opt.Cursors.SetCursor(ctx, g.cfg.Name, string(b)); err != nil {
		return cursorError{err}
	}
	return nil
}

// sweep reads everything from the high-water mark minus Overlap (up to one
// Window) and moves the mark. It returns 0 when another sweep should
// follow at once (still catching up), else Interval.
func (g *Graph) sweep(ctx context.Context) (time.Duration, error) {
	if !g.loaded {
		if err := g.load(ctx); err != nil {
			return 0, err
		}
	}
	now := g.c.opt.Now()
	lower := g.lower()
	var upper time.Time
	if now.Sub(g.mark) > g.cfg.Window {
		upper = g.mark.Truncate(time.Second).Add(g.cfg.Window)
	}
	next := g.sweepURL(lower, upper)
	top := g.mark
	pages, fetched, delivered := 0, 0, 0
	for next != "" {
		resp, err := g.c.get(ctx, g.op, next, g.auth)
		if err != nil {
			return 0, err
		}
		if resp.status != http.StatusOK {
			return 0, g.statusError(resp)
		}
		page, err := parseGraphPage(resp.body)
		if err != nil {
			return 0, fmt.Errorf("%s: %w: %v", g.op, errResponse, err)
		}
		recs := g.fresh(page.Value)
		if len(recs) > 0 {
			raws := make([][]byte, len(recs))
			for i, r := range recs {
				raws[i] = r.raw
			}
			if err := g.c.opt.Sink.Records(ctx, event.SourceEntra, g.origin, raws); err != nil {
				return 0, sinkError{err}
			}
		}
		for _, r := range recs {
			at := r.t
			if at.IsZero() {
				at = g.mark // keep it as long as the overlap does
			}
			if r.id != "" && !g.remember(r.id, at) {
				g.c.opt.Log.Warn("too many ids to remember: repeats will reach the sink", "poller", g.cfg.Name, "max", g.cfg.MaxSeen)
			}
			if r.t.IsZero() {
				continue
			}
			if r.t.After(top) && !r.t.After(now.Add(maxSkew)) {
				top = r.t
			}
			if r.t.After(g.newest) && !r.t.After(now.Add(maxSkew)) {
				g.newest = r.t
			}
		}
		pages++
		fetched += len(page.Value)
		delivered += len(recs)
		g.c.opt.Metrics.Page(g.cfg.Name, len(page.Value), len(recs))
		next = ""
		if page.NextLink != "" {
			u, err := g.resolve(page.NextLink)
			if err != nil {
				return 0, fmt.Errorf("%s: %w: nextLink: %v", g.op, errResponse, err)
			}
			next = u
		}
	}
	if upper.IsZero() {
		g.mark = top
	} else {
		g.mark = upper
	}
	// Forget only what the next sweep's filter excludes.
	lower = g.lower()
	for id, t := range g.seen {
		if t.Before(lower) {
			delete(g.seen, id)
		}
	}
	g.full = false
	if err := g.save(ctx); err != nil {
		return 0, err
	}
	if !g.newest.IsZero() {
		g.c.opt.Metrics.Lag(g.cfg.Name, g.c.opt.Now().Sub(g.newest))
	}
	g.c.opt.Log.Debug("sweep", "poller", g.cfg.Name, "pages", pages, "fetched", fetched, "delivered", delivered, "mark", g.mark)
	if !upper.IsZero() {
		return 0, nil
	}
	return g.cfg.Interval, nil
}

// lower is the start of the next sweep: the high-water mark minus the
// overlap, in whole seconds (what the filter literal carries).
func (g *Graph) lower() time.Time {
	return g.mark.Add(-g.cfg.Overlap).Truncate(time.Second)
}

// remember records a delivered id; false when the set is full (reported
// once per sweep).
func (g *Graph) remember(id string, t time.Time) bool {
	if _, ok := g.seen[id]; ok || len(g.seen) < g.cfg.MaxSeen {
		g.seen[id] = t
		return true
	}
	if g.full {
		return true
	}
	g.full = true
	return false
}

// sweepURL is the first page's URL: the time filter, $top, and for
// directoryAudits ascending order. Values are escaped with %20 for spaces,
// which every OData server reads.
func (g *Graph) sweepURL(lower, upper time.Time) string {
	f := g.cfg.Log.timeField()
	filter := f + " ge " + lower.UTC().Format("2006-01-02T15:04:05Z")
	if !upper.IsZero() {
		filter += " and " + f + " le " + upper.UTC().Format("2006-01-02T15:04:05Z")
	}
	q := "$filter=" + queryEscape(filter) + "&$top=" + strconv.Itoa(g.cfg.PageSize)
	if g.cfg.Log == DirectoryAudits {
		q += "&$orderby=" + queryEscape(f+" asc")
	}
	u := *g.endpoint
	u.RawQuery = q
	return u.String()
}

func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// resolve checks that a nextLink stays on the configured Graph host.
func (g *Graph) resolve(link string) (string, error) {
	ref, err := url.Parse(link)
	if err != nil {
		return "", errors.New("not a URL")
	}
	u := g.base.ResolveReference(ref)
	if !sameOrigin(g.base, u) {
		return "", fmt.Errorf("points to %s, not the Graph URL", u.Host)
	}
	if !strings.EqualFold(u.Path, g.endpoint.Path) {
		return "", errors.New("not the log's endpoint")
	}
	return u.String(), nil
}

// graphRecord is one record of a page with what the poller reads of it.
type graphRecord struct {
	raw []byte
	id  string
	t   time.Time // zero when absent or unreadable
}

// fresh returns the page's records not delivered before, oldest first
// (records without a readable time first, in page order).
func (g *Graph) fresh(value []json.RawMessage) []graphRecord {
	out := make([]graphRecord, 0, len(value))
	field := g.cfg.Log.timeField()
	for _, raw := range value {
		r := graphRecord{raw: raw}
		if v, err := g.p.ParseBytes(raw); err == nil && v.Type() == fastjson.TypeObject {
			r.id = string(v.GetStringBytes("id"))
			if t, err := time.Parse(time.RFC3339Nano, string(v.GetStringBytes(field))); err == nil {
				r.t = t
			}
		}
		if r.id != "" {
			if _, ok := g.seen[r.id]; ok {
				continue
			}
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b graphRecord) int { return a.t.Compare(b.t) })
	// A page may repeat an id (Graph's paging is not a snapshot): keep one.
	ids := make(map[string]bool, len(out))
	return slices.DeleteFunc(out, func(r graphRecord) bool {
		if r.id == "" {
			return false
		}
		dup := ids[r.id]
		ids[r.id] = true
		return dup
	})
}

// graphPage is one page of a Graph collection.
type graphPage struct {
	Value    []json.RawMessage
	NextLink string
}

// parseGraphPage reads {"value": [...], "@odata.nextLink": "..."}. The
// value array is required; its elements are kept as sent.
func parseGraphPage(body []byte) (graphPage, error) {
	var p struct {
		Value    *[]json.RawMessage `json:"value"`
		NextLink *string            `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return graphPage{}, fmt.Errorf("page is not a Graph collection: %v", err)
	}
	if p.Value == nil {
		return graphPage{}, errors.New("page has no value array")
	}
	out := graphPage{Value: *p.Value}
	if p.NextLink != nil {
		out.NextLink = *p.NextLink
	}
	return out, nil
}

// statusError reads Graph's error object.
func (g *Graph) statusError(resp *response) error {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(resp.body, &body)
	se := &StatusError{Op: g.op, Status: resp.status, Code: vendorText(body.Error.Code), Message: vendorText(body.Error.Message)}
	switch resp.status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		se.Wait = httpx.RetryAfter(resp.header, resp.date)
	case http.StatusUnauthorized:
		se.Hint = "a fresh token was refused too: check the app registration"
	case http.StatusForbidden:
		se.Hint = "grant the app the AuditLog.Read.All application permission with admin consent; sign-in logs need an Entra ID P1 or P2 license"
	}
	return se
}
