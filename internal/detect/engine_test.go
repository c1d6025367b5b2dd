package detect

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/event"
)

// attack is a takeover that trips several detectors within an hour.
func attack() []event.Event {
	sess := "102victim"
	var out []event.Event
	out = append(out, login(after(0), dana, sess, home, mac))
	for i := 0; i < 5; i++ {
		out = append(out, deny(after(10*time.Minute+time.Duration(i)*time.Minute), dana, hosting))
	}
	out = append(out, sso(after(30*time.Minute), dana, sess, "Salesforce", hosting, evil))
	tok := ev(after(40*time.Minute), event.SourceOkta, "system.api_token.create", event.CategoryCredential, event.ActivityTokenCreate, dana, hosting, evil)
	tok.Session.ID = sess
	return append(out, tok)
}

func TestRiskAndIncidents(t *testing.T) {
	alerts, e := run(t, DefaultConfig(), history(dana), attack())
	if len(alerts) < 3 {
		t.Fatalf("alerts: %v", fired(alerts, ""))
	}
	prev := 0.0
	inc := alerts[0].Incident
	for _, a := range alerts {
		if a.Risk <= prev || a.Risk > 100 {
			t.Errorf("risk after %s is %v, after the previous alert %v: it must rise and stay ≤ 100", a.Rule, a.Risk, prev)
		}
		prev = a.Risk
		if a.Incident != inc || a.Incident == "" {
			t.Errorf("alert %s in incident %q, want all in %q", a.Rule, a.Incident, inc)
		}
		if a.ID == "" || !strings.HasPrefix(a.ID, "al-") {
			t.Errorf("alert id %q", a.ID)
		}
	}
	incs := e.Incidents()
	if len(incs) != 1 || len(incs[0].Alerts) != len(alerts) || incs[0].Identity != dana ||
		incs[0].Severity.Rank() < event.SeverityHigh.Rank() || len(incs[0].Rules) < 3 {
		t.Fatalf("incidents: %+v", incs)
	}
	// Risk decays: a day later it has halved.
	end := alerts[len(alerts)-1].Time
	now, later := e.IdentityRisk(dana, end), e.IdentityRisk(dana, end.Add(24*time.Hour))
	if later < now/2-0.5 || later > now/2+0.5 {
		t.Errorf("risk %v a day after %v, want half", later, now)
	}
	// An alert long after the incident went quiet opens another.
	late := deny(end.Add(7*time.Hour), dana, hosting)
	var more []event.Alert
	for i := 0; i < 5; i++ {
		late.Time = end.Add(7*time.Hour + time.Duration(i)*time.Minute)
		late.VendorID = "late" + itoa(i)
		more = append(more, e.Process(&late)...)
	}
	if len(more) != 1 || more[0].Incident == inc || len(e.Incidents()) != 2 {
		t.Errorf("late alerts %v in %q; incidents %d", fired(more, ""), more[0].Incident, len(e.Incidents()))
	}
}

func TestDeterministic(t *testing.T) {
	out := func() []byte {
		seq = 0 // the test's vendor ids
		alerts, _ := run(t, DefaultConfig(), history(dana), attack())
		b, err := json.Marshal(alerts)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := out(), out()
	if !bytes.Equal(a, b) {
		t.Fatal("same input, different alerts")
	}
}

func TestSnapshotRestore(t *testing.T) {
	// One engine that never stops, and one that stops after learning and
	// is restored from a snapshot: they must see the attack the same way.
	continuous, _ := run(t, DefaultConfig(), history(dana), attack())

	first := New(DefaultConfig())
	hist := history(dana)
	for i := range hist {
		first.Process(&hist[i])
	}
	var snap bytes.Buffer
	if err := first.Snapshot(&snap, after(0)); err != nil {
		t.Fatal(err)
	}
	second := New(DefaultConfig())
	if err := second.Restore(bytes.NewReader(snap.Bytes())); err != nil {
		t.Fatal(err)
	}
	var restored []event.Alert
	atk := attack()
	for i := range atk {
		restored = append(restored, second.Process(&atk[i])...)
	}
	if diff := cmp.Diff(fired(continuous, ""), fired(restored, "")); diff != "" {
		t.Errorf("alerts after restore differ (-continuous +restored):\n%s", diff)
	}
	if err := second.Restore(strings.NewReader("garbage")); err == nil {
		t.Error("restored garbage")
	}
}

func TestDisabledRules(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Disabled = []string{RuleMFAFatigue, RuleAPITokenCreated}
	alerts, _ := run(t, cfg, history(dana), attack())
	for _, a := range alerts {
		if a.Rule == RuleMFAFatigue || a.Rule == RuleAPITokenCreated {
			t.Errorf("disabled rule %s fired", a.Rule)
		}
	}
	if len(fired(alerts, RuleSessionHijack)) != 1 {
		t.Errorf("enabled rule did not fire: %v", fired(alerts, ""))
	}
}
