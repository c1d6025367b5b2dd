package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/vigil-zt/vigil/internal/sim"
	"github.com/vigil-zt/vigil/internal/vendortest"
)

// chromium returns Debian's Chromium, or skips the test when it is missing
// — unless VIGIL_REQUIRE_BROWSER is set (make test sets it after
// installing Chromium), when a missing browser fails the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("VIGIL_REQUIRE_BROWSER") != "" {
		t.Fatal("Chromium is required (VIGIL_REQUIRE_BROWSER is set) but not installed: apt-get install chromium")
	}
	t.Skip("Chromium is not installed (make test installs it)")
	return ""
}

// browser starts a headless Chromium with the flags this closed network
// needs (no background connections) and returns its context.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second) // guards a hang; asserts no speed
	t.Cleanup(cancel3)
	// "Kill sessions" asks for confirmation: the person says yes.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return ctx
}

// artifacts is where screenshots go: $VIGIL_ARTIFACTS, else artifacts/
// at the top of the repository (ignored by git).
func artifacts(t *testing.T) string {
	dir := os.Getenv("VIGIL_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	dir = filepath.Join(dir, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG (lower is JPEG)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(artifacts(t), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// a11yScript checks a page for the basics: a language, one h1, a label
// for every form field, a name for every link and button, and text
// contrast of at least 4.5:1 (3:1 for large text) against the background
// it is drawn on. It returns the problems found.
const a11yScript = `(() => {
  const out = [];
  if (!document.documentElement.lang) out.push("html has no lang");
  const h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) out.push(h1 + " h1 elements");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    if (!named) out.push("unlabelled field " + (el.id || el.name));
  }
  for (const el of document.querySelectorAll("a, button")) {
    if (!(el.textContent.trim() || el.getAttribute("aria-label"))) out.push("unnamed " + el.tagName + " " + el.outerHTML.slice(0, 80));
  }
  const rgb = s => { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(",").map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const seen = new Set();
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || seen.has(el) || el.closest("svg")) continue;
    seen.add(el);
    const st = getComputedStyle(el);
    if (st.visibility === "hidden" || st.display === "none" || el.getClientRects().length === 0) continue;
    if (el.closest(".skip") || el.closest(".visually-hidden")) continue;
    const fg = rgb(st.color), b = bg(el);
    const l1 = lum(fg), l2 = lum(b);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) out.push("contrast " + ratio.toFixed(2) + " < " + need + " for '" + n.textContent.trim().slice(0, 40) + "' (" + st.color + " on " + JSON.stringify(b) + ")");
  }
  return out;
})()`

func checkA11y(t *testing.T, ctx context.Context, pageName string) {
	t.Helper()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](a11yScript))
	if err != nil {
		t.Fatalf("%s: accessibility check: %v", pageName, err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", pageName, p)
	}
}

// TestConsoleKillSessions is the console's acceptance test, in Debian's
// Chromium: an analyst signs in with a token (by keyboard), opens the
// incident of a simulated session hijack (no playbook acts on its own
// here), reaches "Kill sessions" with the keyboard and clicks it; the
// stand-in Okta must receive the revocation and the incident page must
// show the action done. Another hijack is marked a false positive, which
// the identity's page must show. Every page is screenshotted (artifacts/)
// and checked for labels, names and contrast.
func TestConsoleKillSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser against a service")
	}
	chromium(t)
	dir := t.TempDir()
	logs, directory, truth := simulatedOrg(t, dir, 5, 6)
	okta, ids := oktaWithPeople(t, directory, 2)
	var oktaVictim, otherVictim string
	for _, tr := range truth {
		if tr.Rule != sim.RuleSessionHijack || tr.Kind != sim.KindAttack {
			continue
		}
		if slices.Contains(tr.Sources, sim.SourceOkta) && oktaVictim == "" {
			oktaVictim = tr.Identity
		} else if tr.Identity != oktaVictim && otherVictim == "" {
			otherVictim = tr.Identity
		}
	}
	if oktaVictim == "" || otherVictim == "" {
		t.Fatalf("the simulation needs two hijack victims, one through Okta: %q %q", oktaVictim, otherVictim)
	}

	db := filepath.Join(dir, "vigil.db")
	ingestTok := newToken(t, db, "pipeline", "ingest")
	admin := newToken(t, db, "dana-analyst", "admin")
	svc := startService(t, db, "connectors:\n"+oktaConnector(t, okta.URL()))
	start := time.Now()
	posted := streamLogs(t, svc, ingestTok, logs)
	t.Logf("posted %d records in %s", posted, time.Since(start).Round(time.Millisecond))
	ctx := browser(t)

	// Sign in by keyboard: the token field has focus, Enter submits.
	if err := do(ctx, chromedp.Navigate(svc.url+"/ui/incidents"), chromedp.WaitVisible(chromedp.ID("token"))); err != nil {
		t.Fatal(err)
	}
	checkA11y(t, ctx, "login")
	screenshot(t, ctx, "1-login")
	// The check itself can fail: a grey-on-white sentence and a field
	// without a label are both reported.
	planted, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
	  const p = document.createElement("p"); p.textContent = "faint text"; p.style.color = "#bbbbbb";
	  const i = document.createElement("input"); i.id = "planted";
	  document.querySelector("main").append(p, i);
	  return `+a11yScript+`; })()`))
	if err != nil || len(planted) != 2 || !strings.Contains(strings.Join(planted, "\n"), "contrast") || !strings.Contains(strings.Join(planted, "\n"), "unlabelled field planted") {
		t.Fatalf("the accessibility check missed planted problems: %q %v", planted, err)
	}
	if err := do(ctx, chromedp.SendKeys(chromedp.ID("token"), admin+kb.Enter), chromedp.WaitVisible(chromedp.CSS("table.list"))); err != nil {
		pageFatal(t, ctx, "sign-in", err)
	}
	title, _ := chromedp.Run(ctx, chromedp.Title())
	if !strings.HasPrefix(title, "Incidents") {
		t.Fatalf("after sign-in the page is %q, want the incidents page asked for", title)
	}
	checkA11y(t, ctx, "incidents")
	screenshot(t, ctx, "3-incidents")

	if err := do(ctx, chromedp.Navigate(svc.url+"/ui/"), chromedp.WaitVisible(chromedp.ID("open-incidents")),
		chromedp.WaitVisible(chromedp.CSS("svg.chart"))); err != nil {
		t.Fatalf("overview: %v", err)
	}
	open, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("open-incidents")))
	if open == "0" || open == "" {
		t.Errorf("overview shows %q open incidents", open)
	}
	checkA11y(t, ctx, "overview")
	screenshot(t, ctx, "2-overview")

	// The hijack incident of the Okta victim, from the filtered list.
	openIncident(t, ctx, svc.url, oktaVictim)
	steps, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("tr.step").length`))
	if steps < 2 {
		t.Errorf("the incident's timeline marks %d attack steps, want the session's establishment and its replay", steps)
	}
	checkA11y(t, ctx, "incident")
	screenshot(t, ctx, "4-incident")
	if n := okta.Count(vendortest.KindClearSessions, ids[oktaVictim]); n != 0 {
		t.Fatalf("%d revocations before anyone clicked", n)
	}

	// Keyboard: "Kill sessions" is reachable with Tab.
	var reached bool
	for i := 0; i < 80 && !reached; i++ {
		if err := do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
		if err != nil {
			t.Fatal(err)
		}
		reached = id == "kill-sessions"
	}
	if !reached {
		t.Errorf("Tab never reached the Kill sessions button")
	}
	if err := do(ctx, chromedp.Click(chromedp.ID("kill-sessions"))); err != nil {
		t.Fatalf("click: %v", err)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := okta.WaitDeliveries(wctx, vendortest.KindClearSessions, ids[oktaVictim], 1); err != nil {
		t.Fatalf("the stand-in Okta got no revocation for %s: %v\n%s", oktaVictim, err, svc.stderr.String())
	}
	if u, _ := okta.User(ids[oktaVictim]); u.Sessions != 0 {
		t.Errorf("%s still holds %d sessions", oktaVictim, u.Sessions)
	}
	// The page refreshes itself while the action is in flight, then shows
	// it done. (Reads fail while it reloads; they are tried again.)
	var actions string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		actions, _ = chromedp.Run(rctx, chromedp.Text(chromedp.CSS("#actions")))
		cancel()
		if strings.Contains(actions, "done") {
			break
		}
	}
	if !strings.Contains(actions, "clear_sessions") || !strings.Contains(actions, "done") || !strings.Contains(actions, "token:dana-analyst") {
		t.Errorf("the incident page shows these actions:\n%s", actions)
	}
	screenshot(t, ctx, "5-incident-after-kill")

	// A false positive feeds back: the other victim's risk falls and the
	// session is trusted again.
	before := identityRisk(t, svc, admin, otherVictim)
	openIncident(t, ctx, svc.url, otherVictim)
	if err := do(ctx, chromedp.SendKeys(chromedp.ID("fp-note"), "travelling with a new laptop"),
		chromedp.Click(chromedp.ID("false-positive")), chromedp.WaitVisible(chromedp.CSS(".flash"))); err != nil {
		t.Fatalf("false positive: %v", err)
	}
	status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("incident-status")))
	if status != "false_positive" {
		t.Errorf("status after marking: %q", status)
	}
	if after := identityRisk(t, svc, admin, otherVictim); after >= before {
		t.Errorf("%s's risk %.1f after the false positive, %.1f before: the verdict did not reach the baseline", otherVictim, after, before)
	}
	if err := do(ctx, chromedp.Navigate(svc.url+"/ui/identities/"+otherVictim), chromedp.WaitVisible(chromedp.ID("sess-h"))); err != nil {
		t.Fatal(err)
	}
	sessions, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(sessions, "hijack cleared (false positive)") {
		t.Errorf("the identity page does not show the cleared session")
	}
	checkA11y(t, ctx, "identity")
	screenshot(t, ctx, "6-identity")

	for _, p := range []struct{ path, wait, name string }{
		{"/ui/identities?q=" + strings.Split(oktaVictim, "@")[0], "table.list", "7-identities"},
		{"/ui/actions", "table.list", "8-actions"},
		{"/ui/audit", "#audit-verified", "9-audit"},
	} {
		if err := do(ctx, chromedp.Navigate(svc.url+p.path), chromedp.WaitVisible(chromedp.CSS(p.wait))); err != nil {
			t.Fatalf("%s: %v", p.path, err)
		}
		checkA11y(t, ctx, p.name)
		screenshot(t, ctx, p.name)
	}
	verified, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("audit-verified")))
	if !strings.Contains(verified, "intact") {
		t.Errorf("audit page: %q", verified)
	}
}

// openIncident opens the session-hijack incident of identity from the
// filtered incident list.
func openIncident(t *testing.T, ctx context.Context, base, identity string) {
	t.Helper()
	link := chromedp.CSS(`table.list td a[href^="/ui/incidents/"]`)
	err := do(ctx, chromedp.Navigate(base+"/ui/incidents?status=any&rule=session.hijack&identity="+identity),
		chromedp.WaitVisible(chromedp.CSS("table.list")))
	if err != nil {
		t.Fatalf("the incidents of %s: %v", identity, err)
	}
	if err := do(ctx, chromedp.Click(link), chromedp.WaitVisible(chromedp.ID("timeline-h"))); err != nil {
		pageFatal(t, ctx, "opening the incident of "+identity, err)
	}
}

// do runs browser steps with a time limit of their own, so that a page
// that never shows what a step waits for fails that step with the page
// still there to describe.
func do(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) error {
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return chromedp.Do(sctx, steps...)
}

// pageFatal fails the test with what the browser shows.
func pageFatal(t *testing.T, ctx context.Context, step string, err error) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(sctx, chromedp.Location())
	text, _ := chromedp.Run(sctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100)); err == nil {
		os.WriteFile(filepath.Join(artifacts(t), "failed-"+strings.ReplaceAll(step, " ", "-")+".png"), png, 0o644)
	}
	t.Fatalf("%s: %v\nthe browser is at %s, showing:\n%.2000s", step, err, loc, text)
}

func identityRisk(t *testing.T, svc *service, token, id string) float64 {
	t.Helper()
	code, body := svc.call(t, "GET", "/v1/identities/"+id, token, nil)
	if code != 200 {
		t.Fatalf("identity %s: %d %s", id, code, body)
	}
	var v struct{ Risk float64 }
	json.Unmarshal(body, &v)
	return v.Risk
}
