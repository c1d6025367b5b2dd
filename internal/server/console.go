package server

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/respond"
	"github.com/vigil-zt/vigil/internal/store"
	"github.com/vigil-zt/vigil/web"
)

// The console is server-rendered HTML under /ui/, behind the API's tokens:
// a person signs in with a token once, and gets a session cookie
// (HttpOnly, SameSite=Strict, Secure on TLS) that names a session kept in
// memory with its own CSRF token. Every form that changes something
// carries that token and is checked in constant time; the Origin header,
// when the browser sends one, must be this server. Sessions end after 30
// minutes idle, 12 hours in all, at sign-out, or when their API token is
// revoked. They do not survive a restart: people sign in again.
const (
	sessionCookie = "vigil_session"
	sessionIdle   = 30 * time.Minute
	sessionMax    = 12 * time.Hour
	maxSessions   = 10_000
)

type uiSession struct {
	tokenID       string
	csrf          string
	created, seen time.Time
}

type uiSessions struct {
	mu sync.Mutex
	m  map[[32]byte]*uiSession
}

func sessionKey(cookie string) [32]byte { return sha256.Sum256([]byte(cookie)) }

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSession starts a session for a token and returns the cookie value.
func (u *uiSessions) newSession(tokenID string, now time.Time) string {
	cookie := randomString(32)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[[32]byte]*uiSession{}
	}
	if len(u.m) >= maxSessions {
		u.expire(now)
	}
	if len(u.m) >= maxSessions { // all live: drop the oldest
		var oldest [32]byte
		var at time.Time
		for k, s := range u.m {
			if at.IsZero() || s.seen.Before(at) {
				oldest, at = k, s.seen
			}
		}
		delete(u.m, oldest)
	}
	u.m[sessionKey(cookie)] = &uiSession{tokenID: tokenID, csrf: randomString(32), created: now, seen: now}
	return cookie
}

func (u *uiSessions) expire(now time.Time) {
	for k, s := range u.m {
		if now.Sub(s.seen) > sessionIdle || now.Sub(s.created) > sessionMax {
			delete(u.m, k)
		}
	}
}

// get returns the live session of a cookie and marks it used.
func (u *uiSessions) get(cookie string, now time.Time) (uiSession, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	k := sessionKey(cookie)
	s, ok := u.m[k]
	if !ok {
		return uiSession{}, false
	}
	if now.Sub(s.seen) > sessionIdle || now.Sub(s.created) > sessionMax {
		delete(u.m, k)
		return uiSession{}, false
	}
	s.seen = now
	return *s, true
}

func (u *uiSessions) end(cookie string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m, sessionKey(cookie))
}

// view is what every console template gets.
type view struct {
	Title   string
	Nav     string
	Token   store.Token
	CSRF    string
	Version string
	// CanAct: the token may act (responder or admin); CanAudit: admin.
	CanAct, CanAudit bool
	Flash            string
	Data             any
}

type pageHandler func(w http.ResponseWriter, r *http.Request, v *view) error

// console holds the parsed templates.
type console struct {
	pages map[string]*template.Template
	stat  http.Handler
}

func newConsole() (*console, error) {
	c := &console{pages: map[string]*template.Template{}}
	base, err := template.New("layout.html").Funcs(consoleFuncs).ParseFS(web.FS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(web.FS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(web.FS, n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", n, err)
		}
		c.pages[name] = t
	}
	static, err := fs.Sub(web.FS, "static")
	if err != nil {
		return nil, err
	}
	c.stat = http.StripPrefix("/ui/static/", http.FileServerFS(static))
	return c, nil
}

// securityHeaders are set on every console response.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: with no-referrer browsers send "Origin: null"
	// on form posts, which sameOrigin must refuse.
	h.Set("Referrer-Policy", "same-origin")
}

func (s *Server) consoleRoutes() {
	c, err := newConsole()
	if err != nil {
		// The templates are embedded: a parse error is a build defect that
		// every test run catches.
		panic(err)
	}
	s.ui = c
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui/", http.StatusFound) })
	s.mux.HandleFunc("GET /ui/static/", func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		if strings.HasSuffix(r.URL.Path, "/") { // files only, no listings
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		c.stat.ServeHTTP(w, r)
	})
	s.mux.HandleFunc("GET /ui/login", s.loginPage)
	s.mux.HandleFunc("POST /ui/login", s.login)
	s.mux.HandleFunc("POST /ui/logout", s.logout)
	s.page("GET /ui/{$}", RoleViewer, s.overviewPage)
	s.page("GET /ui/incidents", RoleViewer, s.incidentsPage)
	s.page("GET /ui/incidents/{id}", RoleViewer, s.incidentPage)
	s.page("POST /ui/incidents/{id}/kill-sessions", RoleResponder, s.uiKillSessions)
	s.page("POST /ui/incidents/{id}/suspend", RoleResponder, s.uiSuspend)
	s.page("POST /ui/incidents/{id}/cut-off", RoleResponder, s.uiCutOff)
	s.page("POST /ui/incidents/{id}/status", RoleResponder, s.uiStatus)
	s.page("POST /ui/incidents/{id}/actions/{action}/send", RoleResponder, s.uiSend)
	s.page("GET /ui/identities", RoleViewer, s.identitiesPage)
	s.page("GET /ui/identities/{id}", RoleViewer, s.identityPage)
	s.page("GET /ui/actions", RoleViewer, s.actionsPage)
	s.page("GET /ui/audit", RoleAdmin, s.auditPage)
}

// page registers a console page: the session is checked, its token
// re-read (a revoked token ends the session), the role checked, and on
// POST the CSRF token and Origin.
func (s *Server) page(pattern, role string, h pageHandler) {
	s.mux.HandleFunc(pattern, func(rw http.ResponseWriter, r *http.Request) {
		w, done := s.measure(pattern, rw)
		defer done()
		securityHeaders(w.Header())
		w.Header().Set("Cache-Control", "no-store")
		v := &view{Version: s.d.Version}
		tok, sess, err := s.uiAuth(r)
		if err != nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.pageFail(w, r, v, err)
			return
		}
		v.Token, v.CSRF = tok, sess.csrf
		v.CanAct, v.CanAudit = allows(tok.Role, RoleResponder), allows(tok.Role, RoleAdmin)
		if !allows(tok.Role, role) {
			s.pageFail(w, r, v, &httpError{status: http.StatusForbidden, msg: "your token's role (" + tok.Role + ") may not do that; it needs " + role})
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
			if err := checkForm(r, sess.csrf); err != nil {
				s.pageFail(w, r, v, err)
				return
			}
		}
		if err := h(w, r, v); err != nil {
			s.pageFail(w, r, v, err)
		}
	})
}

var errNoSession = &httpError{status: http.StatusUnauthorized, msg: "not signed in (or the session ended): sign in again"}

func (s *Server) uiAuth(r *http.Request) (store.Token, uiSession, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return store.Token{}, uiSession{}, errNoSession
	}
	sess, ok := s.uiSess.get(c.Value, s.d.Now())
	if !ok {
		return store.Token{}, uiSession{}, errNoSession
	}
	tok, err := s.d.Tokens.Token(r.Context(), sess.tokenID)
	if err != nil || tok.Revoked {
		s.uiSess.end(c.Value)
		return store.Token{}, uiSession{}, errNoSession
	}
	return tok, sess, nil
}

// checkForm checks a mutating request's Origin and CSRF token.
func checkForm(r *http.Request, csrf string) error {
	if err := sameOrigin(r); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return badRequest("unreadable form")
	}
	got := r.PostForm.Get("csrf")
	if csrf == "" || subtle.ConstantTimeCompare([]byte(got), []byte(csrf)) != 1 {
		return &httpError{status: http.StatusForbidden, msg: "the form's CSRF token is missing or stale: reload the page and try again"}
	}
	return nil
}

// sameOrigin refuses a request whose Origin (sent by browsers on POST) is
// another site.
func sameOrigin(r *http.Request) error {
	o := r.Header.Get("Origin")
	if o == "" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Host != r.Host {
		return &httpError{status: http.StatusForbidden, msg: "cross-origin request refused"}
	}
	return nil
}

func (s *Server) render(w http.ResponseWriter, status int, name string, v *view) error {
	t, ok := s.ui.pages[name]
	if !ok {
		return fmt.Errorf("console: no template %s", name)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", v); err != nil {
		return fmt.Errorf("console: render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write([]byte(b.String()))
	return err
}

// pageFail shows an error page; like the API, unexpected errors are
// logged with an id and their text is not shown.
func (s *Server) pageFail(w http.ResponseWriter, r *http.Request, v *view, err error) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
	case errors.As(err, &mbe):
		he = &httpError{status: http.StatusRequestEntityTooLarge, msg: "form too large"}
	case errors.Is(err, store.ErrNotFound):
		he = &httpError{status: http.StatusNotFound, msg: "not found"}
	default:
		eid := randomString(6)
		s.d.Log.Error("console request failed", "error_id", eid, "method", r.Method, "path", r.URL.Path, "err", err)
		he = &httpError{status: http.StatusInternalServerError, msg: "internal error (error id " + eid + ")"}
	}
	v.Title, v.Data = http.StatusText(he.status), map[string]any{"Status": he.status, "Message": he.msg}
	if rerr := s.render(w, he.status, "error", v); rerr != nil {
		http.Error(w, he.msg, he.status)
	}
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	w.Header().Set("Cache-Control", "no-store")
	v := &view{Title: "Sign in", Version: s.d.Version, Data: map[string]any{"Next": safeNext(r.URL.Query().Get("next"))}}
	if err := s.render(w, http.StatusOK, "login", v); err != nil {
		s.pageFail(w, r, v, err)
	}
}

// safeNext keeps a post-login redirect on this console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || !strings.HasPrefix(u.EscapedPath(), "/ui/") {
		return "/ui/"
	}
	return u.RequestURI()
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	w.Header().Set("Cache-Control", "no-store")
	v := &view{Title: "Sign in", Version: s.d.Version}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := sameOrigin(r); err != nil {
		s.pageFail(w, r, v, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.pageFail(w, r, v, badRequest("unreadable form"))
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	tok, err := s.checkToken(r.Context(), r.PostForm.Get("token"))
	if err == nil && tok.Role == RoleReceiver || err == nil && tok.Role == RoleIngest {
		err = &httpError{status: http.StatusForbidden, msg: "this token's role (" + tok.Role + ") cannot use the console: it needs viewer, responder or admin"}
	}
	if err != nil {
		var he *httpError
		if !errors.As(err, &he) {
			s.pageFail(w, r, v, err)
			return
		}
		msg := "That token is not valid (or was revoked)."
		if he.status == http.StatusForbidden {
			msg = he.msg
		}
		// Refusals are logged (never the token) so that guessing shows.
		s.d.Log.Warn("console sign-in refused", "remote", r.RemoteAddr, "status", he.status)
		v.Data = map[string]any{"Next": next, "Error": msg}
		if err := s.render(w, http.StatusUnauthorized, "login", v); err != nil {
			s.pageFail(w, r, v, err)
		}
		return
	}
	cookie := s.uiSess.newSession(tok.ID, s.d.Now())
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: cookie, Path: "/ui/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteStrictMode, MaxAge: int(sessionMax / time.Second)})
	if err := s.audit(r.Context(), tok, "console.sign_in", tok.Name, map[string]string{"role": tok.Role}); err != nil {
		s.d.Log.Error("auditing a console sign-in", "err", err)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// secure reports whether the session cookie is Secure: on TLS, or when
// the service is published at an https:// address (TLS ends at a proxy).
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(s.d.PublicURL), "https://")
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	if c, err := r.Cookie(sessionCookie); err == nil {
		if sess, ok := s.uiSess.get(c.Value, s.d.Now()); ok {
			r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
			if err := checkForm(r, sess.csrf); err != nil {
				s.pageFail(w, r, &view{Version: s.d.Version}, err)
				return
			}
		}
		s.uiSess.end(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/ui/", HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// --- pages ---------------------------------------------------------------

type overviewData struct {
	O Overview
	// UpToLatest: the chart ends at the latest alert, not now.
	UpToLatest bool
	Open       int
	Chart      template.HTML
	ChartRows  []chartRow
	Recent     []store.IncidentRow
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request, v *view) error {
	o, err := s.d.Live.Overview(r.Context())
	if err != nil {
		return err
	}
	d := overviewData{O: o}
	for _, n := range o.OpenIncidents {
		d.Open += n
	}
	// The last seven days; when they had no alert (logs replayed from the
	// past), the seven days up to the latest alert, said so in the title.
	to := o.AsOf
	if latest, err := s.d.Data.Alerts(r.Context(), store.AlertQuery{Limit: 1}); err != nil {
		return err
	} else if len(latest) == 1 && latest[0].Time.Before(to.Add(-7*24*time.Hour)) {
		to, d.UpToLatest = latest[0].Time.Truncate(6*time.Hour).Add(6*time.Hour), true
	}
	const buckets = 28 // of 6 hours
	from := to.Add(-7 * 24 * time.Hour)
	series, err := s.d.Data.AlertSeries(r.Context(), from, to, to.Sub(from)/buckets)
	if err != nil {
		return err
	}
	d.Chart, d.ChartRows = riskOverTime(series, from, to, buckets)
	if d.Recent, err = s.d.Data.Incidents(r.Context(), store.IncidentQuery{Status: store.StatusOpen, Limit: 8}); err != nil {
		return err
	}
	v.Title, v.Nav, v.Data = "Overview", "overview", d
	return s.render(w, http.StatusOK, "overview", v)
}

func (s *Server) incidentsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	f := store.IncidentQuery{Status: q.Get("status"), Severity: q.Get("severity"), Rule: q.Get("rule"),
		Identity: strings.ToLower(strings.TrimSpace(q.Get("identity"))), Limit: 200}
	var err error
	if !q.Has("status") {
		f.Status = store.StatusOpen
	}
	if f.Status == "any" {
		f.Status = ""
	}
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		return badRequest("unknown status %q", f.Status)
	}
	if f.Severity != "" && event.Severity(f.Severity).Rank() == 0 {
		return badRequest("unknown severity %q", f.Severity)
	}
	if len(f.Identity) > 256 || len(f.Rule) > 256 {
		return badRequest("filters are at most 256 characters")
	}
	if f.Before, f.BeforeID, err = beforeOf(r); err != nil {
		return err
	}
	list, err := s.d.Data.Incidents(r.Context(), f)
	if err != nil {
		return err
	}
	var older string
	if len(list) == f.Limit {
		last := list[len(list)-1]
		older = pageLink("/ui/incidents", r.URL.Query(), last.Updated, last.ID)
	}
	rules, err := s.d.Data.AlertRules(r.Context())
	if err != nil {
		return err
	}
	if f.Rule != "" && !slices.Contains(rules, f.Rule) {
		rules = append(rules, f.Rule) // keep the filter shown
	}
	status := f.Status
	if status == "" {
		status = "any"
	}
	v.Title, v.Nav = "Incidents", "incidents"
	v.Data = map[string]any{"Incidents": list, "Older": older, "Paged": !f.Before.IsZero(), "Status": status, "Severity": f.Severity, "Rule": f.Rule, "Identity": f.Identity,
		"Rules": rules, "Statuses": append([]string{"any"}, statuses...), "Severities": []string{"critical", "high", "medium", "low"}}
	return s.render(w, http.StatusOK, "incidents", v)
}

// timelineRow is an event of the identity's timeline; Step marks an event
// an alert of the incident rests on.
type timelineRow struct {
	event.EventRef
	Step  bool
	Rules []string
}

type incidentData struct {
	Inc      store.IncidentRow
	Actions  []respond.Action
	Timeline []timelineRow
	Identity IdentityView
	Known    bool
	Pending  bool
	CanKill  bool
	CanSusp  bool
	// Machine: the identity is a machine's: its credentials are cut off
	// (CutOff lists how), not its sessions killed.
	Machine bool
	CutOff  []string
	// Truncated: the window holds more events than the timeline shows.
	Truncated bool
}

func (s *Server) incidentPage(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	inc, err := s.d.Data.Incident(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	acts, err := s.d.Data.Actions(ctx, store.ActionQuery{Incident: inc.ID})
	if err != nil {
		return err
	}
	d := incidentData{Inc: inc, Actions: acts}
	for _, a := range acts {
		if a.State == respond.StatePending || a.State == respond.StateSending {
			d.Pending = true
		}
	}
	// The identity's events from two hours before the incident to two
	// hours after, with the attack steps marked.
	steps := map[string][]string{}
	for _, a := range inc.Alerts {
		for _, e := range a.Evidence.Events {
			k := refKey(e)
			if !slices.Contains(steps[k], a.Rule) {
				steps[k] = append(steps[k], a.Rule)
			}
		}
	}
	const maxTimeline = 300
	evs, err := s.d.Live.Timeline(ctx, inc.Identity, inc.Opened.Add(-2*time.Hour), inc.Updated.Add(2*time.Hour), maxTimeline)
	if err != nil {
		return err
	}
	d.Truncated = len(evs) == maxTimeline
	seen := map[string]bool{}
	for _, e := range evs {
		k := refKey(e)
		seen[k] = true
		d.Timeline = append(d.Timeline, timelineRow{EventRef: e, Step: len(steps[k]) > 0, Rules: steps[k]})
	}
	// Evidence from outside the window (a session established long
	// before) is shown too, in its place.
	for _, a := range inc.Alerts {
		for _, e := range a.Evidence.Events {
			if k := refKey(e); !seen[k] {
				seen[k] = true
				d.Timeline = append(d.Timeline, timelineRow{EventRef: e, Step: true, Rules: steps[k]})
			}
		}
	}
	slices.SortStableFunc(d.Timeline, func(a, b timelineRow) int { return a.Time.Compare(b.Time) })
	if id, err := s.d.Identities.Baseline(ctx, inc.Identity); err == nil {
		d.Identity, d.Known = id, true
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	conns := s.d.Respond.Connectors()
	for _, kinds := range conns {
		if slices.Contains(kinds, respond.KindClearSessions) || slices.Contains(kinds, respond.KindSignOut) {
			d.CanKill = true
		}
		if slices.Contains(kinds, respond.KindSuspendUser) {
			d.CanSusp = true
		}
	}
	d.Machine = d.Identity.Kind == event.KindService
	for _, a := range inc.Alerts {
		d.Machine = d.Machine || a.IdentityKind == event.KindService
	}
	for _, q := range s.cutOffRequests(inc) {
		d.CutOff = append(d.CutOff, q.Connector+" "+q.Kind+" "+q.Target)
	}
	v.Title, v.Nav, v.Data = "Incident "+inc.ID, "incidents", d
	v.Flash = flashes[r.URL.Query().Get("done")]
	return s.render(w, http.StatusOK, "incident", v)
}

// pageLink is the link to the page after the row at (t, id), with the
// same filters.
func pageLink(path string, q url.Values, t time.Time, id string) string {
	q = maps.Clone(q)
	q.Set("before", t.UTC().Format(time.RFC3339Nano))
	q.Set("before_id", id)
	return path + "?" + q.Encode()
}

func refKey(e event.EventRef) string {
	return string(e.Source) + "\x00" + e.VendorID + "\x00" + e.VendorType + "\x00" + e.Time.UTC().Format(time.RFC3339Nano)
}

// flashes are the messages a redirect after a form may show (by key: no
// text from the request is reflected).
var flashes = map[string]string{
	"kill-sessions":  "Ending the identity's sessions: the actions are queued below and update as the vendors answer.",
	"suspend":        "Suspending the identity: the actions are queued below.",
	"sent":           "The recommended action is sent, as yours: it is queued below.",
	"cut-off":        "Cutting off the machine identity's credentials: the actions are queued below.",
	"dismissed":      "Incident dismissed.",
	"false_positive": "Marked false positive: the alerts' weight was taken out of the identity's risk, their networks are now its habits, and a flagged session is trusted again.",
	"open":           "Incident reopened.",
	"closed":         "Incident closed.",
}

func (s *Server) uiKillSessions(w http.ResponseWriter, r *http.Request, v *view) error {
	inc, err := s.d.Data.Incident(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := s.killAll(r.Context(), v.Token, inc.Identity, inc.ID, nil); err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/incidents/"+url.PathEscape(inc.ID)+"?done=kill-sessions", http.StatusSeeOther)
	return nil
}

func (s *Server) uiSuspend(w http.ResponseWriter, r *http.Request, v *view) error {
	inc, err := s.d.Data.Incident(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := s.suspendAll(r.Context(), v.Token, inc.Identity, inc.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/incidents/"+url.PathEscape(inc.ID)+"?done=suspend", http.StatusSeeOther)
	return nil
}

// cutOffRequests are the actions that cut off a machine identity's
// credentials as the incident's alerts name them: each connector that
// deactivates keys or revokes role sessions, on every target its kind
// applies to (an IAM user's AKIA key, a role), once each.
func (s *Server) cutOffRequests(inc store.IncidentRow) []respond.Request {
	conns := s.d.Respond.Connectors()
	names := slices.Sorted(maps.Keys(conns))
	var out []respond.Request
	seen := map[string]bool{}
	for _, name := range names {
		for _, kind := range []string{respond.KindDeactivateKey, respond.KindRevokeRoleTokens} {
			if !slices.Contains(conns[name], kind) {
				continue
			}
			for i := range inc.Alerts {
				target, params := respond.DefaultTarget(name, kind, &inc.Alerts[i])
				if target == "" || seen[name+"|"+kind+"|"+target] {
					continue
				}
				seen[name+"|"+kind+"|"+target] = true
				out = append(out, respond.Request{Connector: name, Kind: kind, Identity: inc.Identity, Target: target, Params: params, Incident: inc.ID})
			}
		}
	}
	return out
}

func (s *Server) uiCutOff(w http.ResponseWriter, r *http.Request, v *view) error {
	inc, err := s.d.Data.Incident(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	reqs := s.cutOffRequests(inc)
	if len(reqs) == 0 {
		return badRequest("no configured connector can cut off the credentials this incident names")
	}
	var out []respond.Action
	for _, q := range reqs {
		q.DecidedBy = "token:" + v.Token.Name
		a, err := s.d.Respond.Manual(r.Context(), q)
		if err != nil {
			return err
		}
		out = append(out, a)
	}
	if err := s.auditActions(r.Context(), v.Token, "respond.cut_off_credentials", inc.Identity, inc.ID, out); err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/incidents/"+url.PathEscape(inc.ID)+"?done=cut-off", http.StatusSeeOther)
	return nil
}

// uiSend sends an action a playbook only recommended (or dry-ran): a
// person approves it, and it is queued as theirs, with the same target and
// parameters.
func (s *Server) uiSend(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	acts, err := s.d.Data.Actions(r.Context(), store.ActionQuery{Incident: id})
	if err != nil {
		return err
	}
	i := slices.IndexFunc(acts, func(a respond.Action) bool { return a.ID == r.PathValue("action") })
	if i < 0 {
		return &httpError{status: http.StatusNotFound, msg: "no such action in this incident"}
	}
	rec := acts[i]
	if rec.State != respond.StateSkipped {
		return badRequest("only a recommended (or dry-run) action can be sent from here; this one is %s", rec.State)
	}
	a, err := s.d.Respond.Manual(r.Context(), respond.Request{Connector: rec.Connector, Kind: rec.Kind, Identity: rec.Identity,
		Target: rec.Target, Params: rec.Params, DecidedBy: "token:" + v.Token.Name, Incident: id})
	if err != nil {
		return err
	}
	if err := s.audit(r.Context(), v.Token, "respond."+rec.Kind, rec.Identity, map[string]string{"connector": rec.Connector, "action": a.ID,
		"incident": id, "approves": rec.ID}); err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/incidents/"+url.PathEscape(id)+"?done=sent", http.StatusSeeOther)
	return nil
}

func (s *Server) uiStatus(w http.ResponseWriter, r *http.Request, v *view) error {
	id, status := r.PathValue("id"), r.PostForm.Get("status")
	if !slices.Contains(statuses, status) {
		return badRequest("status must be one of %s", strings.Join(statuses, ", "))
	}
	note := r.PostForm.Get("note")
	if len(note) > 2000 {
		return badRequest("the note is at most 2000 characters")
	}
	if err := s.setStatus(r.Context(), v.Token, id, status, note); err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/incidents/"+url.PathEscape(id)+"?done="+url.QueryEscape(status), http.StatusSeeOther)
	return nil
}

func (s *Server) identitiesPage(w http.ResponseWriter, r *http.Request, v *view) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 256 {
		return badRequest("the search is at most 256 characters")
	}
	d := map[string]any{"Q": q}
	if q != "" {
		found, err := s.d.Live.Search(r.Context(), q, 200)
		if err != nil {
			return err
		}
		d["Found"] = found
	} else {
		o, err := s.d.Live.Overview(r.Context())
		if err != nil {
			return err
		}
		d["Found"], d["AtRisk"], d["Total"] = o.AtRisk, true, o.AtRiskTotal
	}
	v.Title, v.Nav, v.Data = "Identities", "identities", d
	return s.render(w, http.StatusOK, "identities", v)
}

func (s *Server) identityPage(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	id := strings.ToLower(r.PathValue("id"))
	iv, err := s.d.Identities.Identity(ctx, id)
	if err != nil {
		return err
	}
	const maxAlerts = 500
	alerts, err := s.d.Data.Alerts(ctx, store.AlertQuery{Identity: id, Limit: maxAlerts})
	if err != nil {
		return err
	}
	// Oldest first; alerts of one event by the risk they left, which
	// only rises within an instant.
	slices.SortStableFunc(alerts, func(a, b event.Alert) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Risk, b.Risk)
	})
	v.Title, v.Nav = iv.ID, "identities"
	v.Data = map[string]any{"I": iv, "Chart": riskHistory(alerts, iv.Risk, iv.AsOf, iv.RiskHalfLife), "Alerts": alerts, "Latest": len(alerts) == maxAlerts}
	return s.render(w, http.StatusOK, "identity", v)
}

func (s *Server) actionsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	state := r.URL.Query().Get("state")
	states := []string{respond.StatePending, respond.StateSending, respond.StateDone, respond.StateFailed, respond.StateSkipped, respond.StateBlocked}
	if state != "" && !slices.Contains(states, state) {
		return badRequest("unknown state %q", state)
	}
	before, beforeID, err := beforeOf(r)
	if err != nil {
		return err
	}
	aq := store.ActionQuery{State: state, Before: before, BeforeID: beforeID, Limit: 300}
	list, err := s.d.Data.Actions(r.Context(), aq)
	if err != nil {
		return err
	}
	var older string
	if len(list) == aq.Limit {
		last := list[len(list)-1]
		older = pageLink("/ui/actions", r.URL.Query(), last.Created, last.ID)
	}
	counts, err := s.d.Data.CountActionsByState(r.Context())
	if err != nil {
		return err
	}
	v.Title, v.Nav = "Actions", "actions"
	v.Data = map[string]any{"Actions": list, "Older": older, "Paged": !before.IsZero(), "State": state, "States": states, "Counts": counts}
	return s.render(w, http.StatusOK, "actions", v)
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, v *view) error {
	var all []auditView
	err := s.d.Audit.AuditEntries(r.Context(), func(e store.AuditEntry) error {
		all = append(all, auditView{Seq: e.Seq, Time: e.Time, Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail, Hash: fmt.Sprintf("%x", e.Hash)})
		return nil
	})
	if err != nil {
		return err
	}
	n, verr := s.d.Audit.VerifyAudit(r.Context())
	if len(all) > 300 {
		all = all[len(all)-300:]
	}
	slices.Reverse(all)
	d := map[string]any{"Entries": all, "Verified": n, "Intact": verr == nil}
	if verr != nil {
		d["Problem"] = verr.Error()
	}
	v.Title, v.Nav, v.Data = "Audit log", "audit", d
	return s.render(w, http.StatusOK, "audit", v)
}

// --- actions shared by the API and the console ----------------------------

// killAll ends an identity's sessions everywhere Vigil can: every
// connector (of conns, when given) that clears sessions or signs out, and
// Shared Signals receivers.
func (s *Server) killAll(ctx context.Context, tok store.Token, identity, incident string, conns []string) ([]respond.Action, error) {
	out, err := s.manualEach(ctx, tok, identity, incident, conns, respond.KindClearSessions, respond.KindSignOut, respond.KindSignal)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, badRequest("no configured connector can end sessions")
	}
	return out, s.auditActions(ctx, tok, "respond.kill_sessions", identity, incident, out)
}

// suspendAll suspends an identity wherever a connector can.
func (s *Server) suspendAll(ctx context.Context, tok store.Token, identity, incident string) ([]respond.Action, error) {
	out, err := s.manualEach(ctx, tok, identity, incident, nil, respond.KindSuspendUser)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, badRequest("no configured connector can suspend users")
	}
	return out, s.auditActions(ctx, tok, "respond.suspend_user", identity, incident, out)
}

// manualEach queues, for each connector (in name order), the first of
// kinds it performs.
func (s *Server) manualEach(ctx context.Context, tok store.Token, identity, incident string, only []string, kinds ...string) ([]respond.Action, error) {
	conns := s.d.Respond.Connectors()
	names := make([]string, 0, len(conns))
	for n := range conns {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []respond.Action
	for _, name := range names {
		if len(only) > 0 && !slices.Contains(only, name) {
			continue
		}
		for _, kind := range kinds {
			if !slices.Contains(conns[name], kind) {
				continue
			}
			a, err := s.d.Respond.Manual(ctx, respond.Request{Connector: name, Kind: kind, Identity: strings.ToLower(identity),
				DecidedBy: "token:" + tok.Name, Incident: incident})
			if err != nil {
				return nil, err
			}
			out = append(out, a)
			break
		}
	}
	return out, nil
}

func (s *Server) auditActions(ctx context.Context, tok store.Token, action, identity, incident string, acts []respond.Action) error {
	ids := make([]string, len(acts))
	for i, a := range acts {
		ids[i] = a.ID
	}
	return s.audit(ctx, tok, action, identity, map[string]any{"actions": ids, "incident": incident})
}
