package sim

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-zt/vigil/internal/event"
	"github.com/vigil-zt/vigil/internal/source"
)

func TestOktaRecordsDecode(t *testing.T) {
	var buf bytes.Buffer
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	if err := NewOrg(7, 50).WriteOkta(&buf, start, 3000); err != nil {
		t.Fatal(err)
	}
	set, err := source.NewSet("")
	if err != nil {
		t.Fatal(err)
	}
	sc := source.NewScanner(&buf, 0)
	var n int
	last := start
	types := map[string]int{}
	actors := map[string]bool{}
	for {
		c, err := sc.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range set.Decode(nil, c.Data) {
			if r.Err != nil {
				t.Fatalf("line %d: %v", c.Line, r.Err)
			}
			e := r.Events[0]
			if e.Source != event.SourceOkta || e.Actor.ID == "" || !e.Network.IP.IsValid() || e.Network.ASN == 0 || e.Device.Browser == "" {
				t.Fatalf("line %d: incomplete event %+v", c.Line, e)
			}
			if e.Time.Before(last) {
				t.Fatalf("line %d: time goes backwards", c.Line)
			}
			last = e.Time
			types[e.VendorType]++
			actors[e.Actor.ID] = true
			n++
		}
	}
	if n != 3000 {
		t.Fatalf("decoded %d events, want 3000", n)
	}
	for _, typ := range []string{"user.session.start", "user.authentication.sso", "user.authentication.auth_via_mfa", "policy.evaluate_sign_on"} {
		if types[typ] == 0 {
			t.Errorf("no %s events", typ)
		}
	}
	if len(actors) < 30 {
		t.Errorf("only %d distinct people active", len(actors))
	}
}

func TestDeterministic(t *testing.T) {
	gen := func() []byte {
		var b bytes.Buffer
		if err := NewOrg(3, 10).WriteOkta(&b, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), 100); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	if !bytes.Equal(gen(), gen()) {
		t.Fatal("same seed, different output")
	}
}

// outputs is one run's logs, in memory.
type outputs struct {
	okta, entra, ct, truth bytes.Buffer
	sum                    Summary
	org                    *Org
}

func run(t testing.TB, cfg Config) *outputs {
	t.Helper()
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := &outputs{org: o}
	out.sum, err = o.Run(context.Background(), Output{Okta: &out.okta, Entra: &out.entra, CloudTrail: &out.ct, Truth: &out.truth})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRunDeterministic(t *testing.T) {
	cfg := Config{Seed: 5, People: 70, ServiceAccounts: 9, Days: 6}
	a, b := run(t, cfg), run(t, cfg)
	for name, pair := range map[string][2]*bytes.Buffer{
		"okta": {&a.okta, &b.okta}, "entra": {&a.entra, &b.entra}, "cloudtrail": {&a.ct, &b.ct}, "truth": {&a.truth, &b.truth},
	} {
		if pair[0].Len() == 0 {
			t.Errorf("%s: empty", name)
		}
		if !bytes.Equal(pair[0].Bytes(), pair[1].Bytes()) {
			t.Errorf("%s: same seed, different bytes", name)
		}
	}
	// The same Org run again writes the same bytes.
	var again outputs
	if _, err := a.org.Run(context.Background(), Output{Okta: &again.okta, Entra: &again.entra, CloudTrail: &again.ct, Truth: &again.truth}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.okta.Bytes(), again.okta.Bytes()) || !bytes.Equal(a.ct.Bytes(), again.ct.Bytes()) || !bytes.Equal(a.truth.Bytes(), again.truth.Bytes()) {
		t.Error("a second Run wrote other bytes")
	}
	cfg.Seed = 6
	if c := run(t, cfg); bytes.Equal(a.okta.Bytes(), c.okta.Bytes()) {
		t.Error("another seed, same Okta log")
	}
}

// decoded is a run decoded by Vigil's own decoders.
type decoded struct {
	*outputs
	events  []event.Event // in file order, per source concatenated
	byID    map[string]*event.Event
	entries []Truth
}

var (
	shared     *decoded
	sharedErr  error
	sharedOnce sync.Once
)

// sharedRun is a three-week run with attacks, decoded, shared by the tests
// that look at its shape.
func sharedRun(t *testing.T) *decoded {
	t.Helper()
	sharedOnce.Do(func() {
		o, err := New(Config{Seed: 11, People: 120, ServiceAccounts: 14, Days: 21})
		if err != nil {
			sharedErr = err
			return
		}
		out := &outputs{org: o}
		out.sum, sharedErr = o.Run(context.Background(), Output{Okta: &out.okta, Entra: &out.entra, CloudTrail: &out.ct, Truth: &out.truth})
		if sharedErr != nil {
			return
		}
		d := &decoded{outputs: out, byID: map[string]*event.Event{}}
		set, _ := source.NewSet("")
		for _, b := range []*bytes.Buffer{&out.okta, &out.entra, &out.ct} {
			sc := source.NewScanner(bytes.NewReader(b.Bytes()), 0)
			var last time.Time
			for {
				c, err := sc.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					sharedErr = err
					return
				}
				for _, r := range set.Decode(nil, c.Data) {
					if r.Err != nil {
						sharedErr = fmt.Errorf("line %d: %v\n%s", c.Line, r.Err, c.Data)
						return
					}
					for _, e := range r.Events {
						if e.Time.Before(last) {
							sharedErr = errors.New("time goes backwards at " + e.Time.String())
							return
						}
						last = e.Time
						e.Raw = nil
						d.events = append(d.events, e)
					}
				}
			}
		}
		for i := range d.events {
			d.byID[d.events[i].VendorID] = &d.events[i]
		}
		d.entries, sharedErr = ReadTruth(bytes.NewReader(out.truth.Bytes()))
		shared = d
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func TestEveryRecordDecodes(t *testing.T) {
	d := sharedRun(t)
	counts := map[event.Source]int{}
	for _, e := range d.events {
		counts[e.Source]++
		if e.Actor.ID == "" || e.VendorID == "" || e.Category == "" {
			t.Fatalf("incomplete event: %+v", e)
		}
	}
	want := map[event.Source]int{event.SourceOkta: d.sum.BySource[SourceOkta], event.SourceEntra: d.sum.BySource[SourceEntra],
		event.SourceCloudTrail: d.sum.BySource[SourceCloudTrail]}
	for src, n := range want {
		if n == 0 || counts[src] != n {
			t.Errorf("%s: decoded %d events, summary says %d", src, counts[src], n)
		}
	}
	if len(d.byID) != len(d.events) {
		t.Errorf("%d events but %d distinct vendor ids", len(d.events), len(d.byID))
	}
}

// involves reports whether e is about identity: its actor, or the target
// of a reset done by someone else.
func involves(e *event.Event, identity string) bool {
	if e.Actor.ID == identity {
		return true
	}
	for _, tg := range e.Targets {
		if tg.ID == identity && e.Category == event.CategoryAccountChange || tg.ID == identity && e.Category == event.CategoryMFA {
			return true
		}
	}
	return false
}

func TestTruthMatchesLogs(t *testing.T) {
	d := sharedRun(t)
	type rc struct{ attacks, lookalikes int }
	per := map[string]*rc{}
	for _, r := range Rules {
		per[r] = &rc{}
	}
	for _, tr := range d.entries {
		t.Run(tr.ID, func(t *testing.T) {
			c := per[tr.Rule]
			if c == nil {
				t.Fatalf("unknown rule %q", tr.Rule)
			}
			switch tr.Kind {
			case KindAttack:
				c.attacks++
				if tr.Expect != ExpectAlert {
					t.Errorf("attack expects %q", tr.Expect)
				}
			case KindLookalike:
				c.lookalikes++
				if tr.Expect != ExpectNoAlert && tr.Expect != ExpectAtMostLow {
					t.Errorf("look-alike expects %q", tr.Expect)
				}
				if tr.Why == "" {
					t.Error("look-alike without a why")
				}
			default:
				t.Fatalf("kind %q", tr.Kind)
			}
			if tr.Identity == "" || tr.Summary == "" || tr.EventCount == 0 || len(tr.Events) == 0 || tr.End.Before(tr.Start) {
				t.Fatalf("incomplete entry: %+v", tr)
			}
			for _, te := range tr.Events {
				e := d.byID[te.ID]
				if e == nil {
					t.Fatalf("event %s (%s %s) not in the logs", te.ID, te.Source, te.Type)
				}
				if string(e.Source) != string(te.Source) || e.VendorType != te.Type && te.Source != SourceEntra {
					t.Errorf("event %s: %s %s, truth says %s %s", te.ID, e.Source, e.VendorType, te.Source, te.Type)
				}
				if !e.Time.Equal(te.Time) {
					t.Errorf("event %s at %s, truth says %s", te.ID, e.Time, te.Time)
				}
				if te.Time.Before(tr.Start) || te.Time.After(tr.End) {
					t.Errorf("event %s outside [start, end]", te.ID)
				}
				if !involves(e, tr.Identity) {
					t.Errorf("event %s (%s) is by %q, not %q", te.ID, e.VendorType, e.Actor.ID, tr.Identity)
				}
				want := tr.Session
				if es, ok := tr.Details["entra_session"].(string); ok && e.Source == event.SourceEntra {
					want = es
				}
				if tr.Rule == RuleSessionHijack && e.Session.Key() != want {
					t.Errorf("event %s in session %q, truth says %q", te.ID, e.Session.Key(), tr.Session)
				}
			}
			checkShape(t, d, &tr)
		})
	}
	for r, c := range per {
		if c.attacks == 0 || c.lookalikes == 0 {
			t.Errorf("%s: %d attacks, %d look-alikes; want at least one of each", r, c.attacks, c.lookalikes)
		}
	}
}

// checkShape checks that an entry's events really show what it claims.
func checkShape(t *testing.T, d *decoded, tr *Truth) {
	evs := make([]*event.Event, 0, len(tr.Events))
	for _, te := range tr.Events {
		evs = append(evs, d.byID[te.ID])
	}
	distinct := func(f func(*event.Event) string) int {
		m := map[string]bool{}
		for _, e := range evs {
			if v := f(e); v != "" {
				m[v] = true
			}
		}
		return len(m)
	}
	// The session's events before the entry, from the identity.
	sessionEvents := func() []*event.Event {
		var out []*event.Event
		for i := range d.events {
			e := &d.events[i]
			if e.Session.Key() == tr.Session && e.Actor.ID == tr.Identity && e.Time.Before(tr.Start) {
				out = append(out, e)
			}
		}
		return out
	}
	switch tr.Story {
	case "okta-session-replay", "m365-token-replay":
		if tr.Rule != RuleSessionHijack {
			return
		}
		before := sessionEvents()
		if len(before) == 0 {
			t.Fatal("the session was not used before the replay")
		}
		for _, e := range evs {
			if e.Network.ASN == before[0].Network.ASN || e.Device.Browser == before[0].Device.Browser ||
				e.Session.DTHash != "" && e.Session.DTHash == before[0].Session.DTHash ||
				e.Device.ID != "" && e.Device.ID == before[0].Device.ID {
				t.Errorf("replayed event %s looks like the victim's: %+v", e.VendorID, e.Network)
			}
		}
	case "vpn-toggle", "dhcp-change":
		before := sessionEvents()
		if len(before) == 0 {
			t.Fatal("no events in the session before")
		}
		for _, e := range evs {
			if e.Source == event.SourceOkta && (e.Session.DTHash != before[0].Session.DTHash || e.Device.UserAgent != before[0].Device.UserAgent) {
				t.Errorf("%s: device changed", e.VendorID)
			}
		}
		if !slices.ContainsFunc(evs, func(e *event.Event) bool { return e.Network.IP != before[0].Network.IP }) {
			t.Error("the network never changed")
		}
	case "impossible-travel", "corporate-egress", "privacy-vpn":
		if len(evs) != 2 {
			t.Fatalf("%d sign-ins, want 2", len(evs))
		}
		a, b := evs[0], evs[1]
		km := distanceKm(a.Network.Geo.Point.Lat, a.Network.Geo.Point.Lon, b.Network.Geo.Point.Lat, b.Network.Geo.Point.Lon)
		if v := km / b.Time.Sub(a.Time).Hours(); v < 1000 {
			t.Errorf("implied speed %.0f km/h: not too fast", v)
		}
		switch {
		case strings.HasSuffix(tr.ID, "privacy-vpn") && !b.Network.Proxy:
			t.Error("the second sign-in is not flagged as a proxy")
		case strings.HasSuffix(tr.ID, "corporate-egress") && (b.Network.ASN != 64500 || b.Network.Zone == ""):
			t.Errorf("the second sign-in is not from the corporate egress: %+v", b.Network)
		case strings.HasSuffix(tr.ID, "impossible-travel") && (b.Network.Proxy || b.Network.ASN == 64500):
			t.Error("the attacker's sign-in is a proxy or the corporate egress")
		}
	case "business-flight":
		for i := 1; i < len(evs); i++ {
			a, b := evs[i-1], evs[i]
			km := distanceKm(a.Network.Geo.Point.Lat, a.Network.Geo.Point.Lon, b.Network.Geo.Point.Lat, b.Network.Geo.Point.Lon)
			if h := b.Time.Sub(a.Time).Hours(); km > 100 && km/h > 800 {
				t.Errorf("%.0f km in %.1f h", km, h)
			}
		}
		if distinct(func(e *event.Event) string { return e.Network.Geo.City }) < 2 {
			t.Error("never left home")
		}
	case "mfa-fatigue", "mfa-fatigue-oie", "accidental-denies":
		fails, success := 0, 0
		var ctx []string
		for _, e := range evs {
			if e.Category == event.CategoryMFA && e.Outcome.Result == event.ResultFailure {
				fails++
			}
			if e.VendorType == "user.session.start" && e.Outcome.Result == event.ResultSuccess {
				success++
			}
			ctx = append(ctx, e.Network.IP.String()+e.Session.DTHash)
		}
		if tr.Expect == ExpectAlert && (fails < 5 || tr.End.Sub(tr.Start) > 10*time.Minute) || tr.Expect != ExpectAlert && fails >= 5 {
			t.Errorf("%d failures in %s", fails, tr.End.Sub(tr.Start))
		}
		if success != 1 || slices.ContainsFunc(ctx, func(s string) bool { return s != ctx[0] }) {
			t.Errorf("the success is not from the same context: %v", ctx)
		}
	case "s3-exfiltration", "secret-harvest", "busy-day":
		med, _ := tr.Details["baseline_daily_median"].(float64)
		obs, _ := tr.Details["observed_day_total"].(float64)
		if med == 0 || tr.Expect == ExpectAlert && obs < 20*med || tr.Expect != ExpectAlert && obs > 3*med {
			t.Errorf("baseline %v, observed %v", med, obs)
		}
	case "scale-out":
		fams := distinct(func(e *event.Event) string { return e.Device.Browser })
		if fams != 1 {
			t.Errorf("%d user-agent families", fams)
		}
		for _, e := range evs {
			if !e.Network.IP.IsPrivate() {
				t.Errorf("%s from %s, not inside the VPC", e.VendorID, e.Network.IP)
			}
		}
	case "backup-key-leak", "instance-credentials", "ci-key-leak":
		if tr.Rule != RuleNHIOrigin {
			return
		}
		for _, e := range evs {
			if e.Device.Browser != "aws-cli" || e.Network.IP.IsPrivate() {
				t.Errorf("%s: %s from %s", e.VendorID, e.Device.Browser, e.Network.IP)
			}
		}
	}
}

func TestCrossSourceIdentity(t *testing.T) {
	d := sharedRun(t)
	logins := map[string]bool{}
	for _, p := range d.org.People {
		logins[p.Login] = true
	}
	machines := map[string]bool{}
	for _, m := range d.org.Machines {
		machines[m.ID] = true
	}
	seen := map[event.Source]map[string]bool{}
	for _, e := range d.events {
		if seen[e.Source] == nil {
			seen[e.Source] = map[string]bool{}
		}
		seen[e.Source][e.Actor.ID] = true
		switch {
		case e.Source == event.SourceCloudTrail && (e.Actor.Type == "AWSService" || e.Actor.Type == "AWSAccount"):
		case e.Source == event.SourceOkta && e.Actor.ID == "system@okta.com":
		case logins[e.Actor.ID], machines[e.Actor.ID]:
		default:
			t.Fatalf("%s event by unknown identity %q", e.Source, e.Actor.ID)
		}
	}
	// People show up under the same identity in all three logs.
	both := 0
	for id := range seen[event.SourceCloudTrail] {
		if logins[id] {
			if !seen[event.SourceOkta][id] || !seen[event.SourceEntra][id] {
				t.Errorf("%s is in CloudTrail but not in Okta and Entra", id)
			}
			both++
		}
	}
	if both < 10 {
		t.Errorf("only %d people in CloudTrail", both)
	}
}

// attackerASN are the networks attackers act from.
var attackerASN = map[uint32]bool{14061: true, 20473: true, 16276: true, 9009: true, 7713: true, 29465: true}

// localHour returns the hour of t in a place.
func localHour(t time.Time, pl *Place) int {
	return t.Add(time.Duration(pl.Offset) * time.Minute).UTC().Hour()
}

func TestWorkingHoursAndSessions(t *testing.T) {
	d := sharedRun(t)
	home := map[string]*Place{}
	for i := range d.org.People {
		home[d.org.People[i].Login] = d.org.People[i].home
	}
	started := map[string]string{} // session → actor
	inHours, starts := 0, 0
	weekend, weekday := 0, 0
	for i := range d.events {
		e := &d.events[i]
		if e.Source != event.SourceOkta || home[e.Actor.ID] == nil {
			continue
		}
		switch e.VendorType {
		case "user.session.start":
			if e.Outcome.Result != event.ResultSuccess {
				continue
			}
			started[e.Session.ID] = e.Actor.ID
			starts++
			if h := localHour(e.Time, home[e.Actor.ID]); h >= 6 && h < 20 {
				inHours++
			}
			if wd := e.Time.Weekday(); wd == time.Saturday || wd == time.Sunday {
				weekend++
			} else {
				weekday++
			}
		case "user.authentication.sso":
			if started[e.Session.ID] != e.Actor.ID {
				t.Fatalf("SSO %s in session %s that %s never started", e.VendorID, e.Session.ID, e.Actor.ID)
			}
		}
	}
	if f := float64(inHours) / float64(starts); f < 0.9 {
		t.Errorf("%.1f%% of sign-ins in local working hours, want 90%%", 100*f)
	}
	if weekend*10 > weekday {
		t.Errorf("%d weekend sign-ins for %d on weekdays", weekend, weekday)
	}
	// Each person has one laptop most of the time.
	dts := map[string]map[string]bool{}
	for i := range d.events {
		e := &d.events[i]
		if e.Source == event.SourceOkta && home[e.Actor.ID] != nil && e.Session.DTHash != "" && !attackerASN[e.Network.ASN] {
			if dts[e.Actor.ID] == nil {
				dts[e.Actor.ID] = map[string]bool{}
			}
			dts[e.Actor.ID][e.Session.DTHash] = true
		}
	}
	one := 0
	for _, m := range dts {
		if len(m) == 1 {
			one++
		}
	}
	if one*10 < len(dts)*8 {
		t.Errorf("only %d of %d people always use one device", one, len(dts))
	}
}

func TestMachineSchedules(t *testing.T) {
	d := sharedRun(t)
	hours := map[string]map[int64]int{}
	agents := map[string]map[string]bool{}
	attack := map[string]bool{}
	for _, tr := range d.entries {
		for _, te := range tr.Events {
			attack[te.ID] = tr.Kind == KindAttack
		}
	}
	for i := range d.events {
		e := &d.events[i]
		if e.Source != event.SourceCloudTrail || e.Actor.Kind == event.KindHuman && strings.Contains(e.Actor.ID, "@") || attack[e.VendorID] {
			continue
		}
		id := e.Actor.ID
		if hours[id] == nil {
			hours[id], agents[id] = map[int64]int{}, map[string]bool{}
		}
		hours[id][e.Time.Unix()/3600]++
		agents[id][e.Device.Browser] = true
	}
	total := int64(d.org.cfg.Days * 24)
	for _, id := range []string{"role/orders-api-task", "role/report-renderer", "svc-backup", "svc-metrics-push"} {
		if n := int64(len(hours[id])); n < total*95/100 {
			t.Errorf("%s active in %d of %d hours", id, n, total)
		}
		if len(agents[id]) != 1 {
			t.Errorf("%s uses %d user-agent families", id, len(agents[id]))
		}
	}
	for h := range hours["svc-ci-deploy"] {
		tm := time.Unix(h*3600, 0).UTC()
		if tm.Hour() < 7 || tm.Hour() > 19 || tm.Weekday() == time.Saturday || tm.Weekday() == time.Sunday {
			t.Errorf("svc-ci-deploy ran at %s", tm)
		}
	}
}

func TestWriteDir(t *testing.T) {
	dir := t.TempDir()
	o, err := New(Config{Seed: 2, People: 60, ServiceAccounts: 8, Days: 3})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := WriteDir(context.Background(), dir, o, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.CloudTrailFiles == 0 || sum.Attacks == 0 {
		t.Fatalf("summary: %+v", sum)
	}
	set, _ := source.NewSet("")
	var files, records int
	err = filepath.WalkDir(filepath.Join(dir, "logs"), func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".gz") {
			if !strings.Contains(p, filepath.Join("AWSLogs", acctProd.ID, "CloudTrail")) && !strings.Contains(p, acctData.ID) {
				t.Errorf("odd path %s", p)
			}
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return err
			}
			if data, err = io.ReadAll(zr); err != nil {
				return err
			}
		}
		sc := source.NewScanner(bytes.NewReader(data), 0)
		for {
			c, err := sc.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			for _, r := range set.Decode(nil, c.Data) {
				if r.Err != nil {
					t.Fatalf("%s: %v", p, r.Err)
				}
				records++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if records != sum.Events || files != sum.CloudTrailFiles+2 {
		t.Errorf("%d records in %d files; summary says %d in %d+2", records, files, sum.Events, sum.CloudTrailFiles)
	}
	f, err := os.Open(filepath.Join(dir, PathTruth))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := ReadTruth(f)
	if err != nil || len(entries) != sum.Attacks+sum.Lookalikes {
		t.Errorf("truth: %d entries, %v", len(entries), err)
	}
	var dirf Directory
	raw, err := os.ReadFile(filepath.Join(dir, PathOrg))
	if err != nil || json.Unmarshal(raw, &dirf) != nil || len(dirf.People) != 60 || len(dirf.Machines) != 8 {
		t.Errorf("org.json: %v, %d people", err, len(dirf.People))
	}
	if _, err := WriteDir(context.Background(), dir, o, DirOptions{}); !errors.Is(err, ErrExists) {
		t.Errorf("second WriteDir: %v, want ErrExists", err)
	}
}

func TestMaxEvents(t *testing.T) {
	cfg := Config{Seed: 3, People: 60, ServiceAccounts: 8, Days: 7, MaxEvents: 5000}
	out := run(t, cfg)
	if out.sum.Events != 5000 || !out.sum.Truncated {
		t.Errorf("events %d, truncated %v", out.sum.Events, out.sum.Truncated)
	}
	entries, err := ReadTruth(&out.truth)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.End.After(out.sum.Last) {
			t.Errorf("%s ends after the last event written", e.ID)
		}
	}
	if d := DaysFor(Config{}, 1_000_000); d < 50 || d > 100 {
		t.Errorf("DaysFor(1M) = %d", d)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []Config{
		{People: -1}, {Days: 5000}, {People: 10}, {ServiceAccounts: 3}, {Days: 2}, {MaxEvents: -1},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", c, err)
		}
	}
	if _, err := New(Config{People: 10, ServiceAccounts: 1, Days: 1, NoAttacks: true}); err != nil {
		t.Errorf("small config without attacks: %v", err)
	}
}

func TestNetworksDisjoint(t *testing.T) {
	nets := allNetworks()
	for i, a := range nets {
		for _, b := range nets[i+1:] {
			if a.Prefix.Overlaps(b.Prefix) {
				t.Errorf("%s overlaps %s", a.Prefix, b.Prefix)
			}
		}
		if a.Place == nil {
			t.Errorf("%s has no place", a.Prefix)
		}
	}
}

// BenchmarkGenerate writes a million events of the default organization to
// io.Discard (go test -bench Generate -benchtime 1x ./internal/sim).
func BenchmarkGenerate(b *testing.B) {
	const n = 1_000_000
	cfg := Config{Seed: 1, MaxEvents: n}
	cfg.Days = DaysFor(cfg, n)
	var sum Summary
	for b.Loop() {
		o, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		sum, err = o.Run(context.Background(), Output{Okta: io.Discard, Entra: io.Discard, CloudTrail: io.Discard, Truth: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
	}
	secs := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(sum.Events)/secs, "events/s")
	b.ReportMetric(float64(sum.Bytes)/1e6/secs, "MB/s")
	b.ReportMetric(math.Round(float64(sum.Bytes)/float64(sum.Events)), "bytes/event")
}
