package detect

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-zt/vigil/internal/event"
)

func TestFalsePositiveFeedback(t *testing.T) {
	sess := "102newlaptop"
	token := func(at time.Time) event.Event {
		e := ev(at, event.SourceOkta, "system.api_token.create", event.CategoryCredential, event.ActivityTokenCreate, dana, home2, newPC)
		e.Session.ID = sess
		return e
	}
	// Dana's session moves to a new PC on another home network: a hijack
	// alert. Before any verdict, a token created in that session is
	// judged as made in a stolen session.
	alerts, e := run(t, DefaultConfig(), history(dana), one(login(after(0), dana, sess, home, mac), sso(after(time.Minute), dana, sess, "Slack", home2, newPC)))
	if diff := cmp.Diff([]string{"session.hijack/high"}, fired(alerts, "")); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	before := e.IdentityRisk(dana, after(time.Minute))
	if at, n := e.AtRisk(after(time.Minute), 25, 10); n != 1 || at[0].ID != dana || at[0].Level == event.SeverityLow {
		t.Fatalf("at risk: %+v (%d)", at, n)
	}
	control := e.Process(ptr(token(after(2 * time.Minute))))
	if diff := cmp.Diff([]string{"credential.api_token_created/high"}, fired(control, "")); diff != "" {
		t.Fatalf("token in the flagged session (-want +got):\n%s", diff)
	}

	// The same story, this time judged a false positive before the token.
	alerts, e = run(t, DefaultConfig(), history(dana), one(login(after(0), dana, sess, home, mac), sso(after(time.Minute), dana, sess, "Slack", home2, newPC)))
	got := e.FalsePositive(alerts, after(90*time.Second))
	if got[dana] >= before || got[dana] > 1 {
		t.Errorf("risk after the verdict %.1f (before %.1f): the alert's weight should be gone", got[dana], before)
	}
	if _, n := e.AtRisk(after(90*time.Second), 25, 10); n != 0 {
		t.Errorf("%d identities still at risk", n)
	}
	after2 := e.Process(ptr(token(after(2 * time.Minute))))
	if diff := cmp.Diff([]string{"credential.api_token_created/low"}, fired(after2, "")); diff != "" {
		t.Errorf("token in the cleared session (-want +got):\n%s", diff)
	}
	// The cleared session is not flagged again for the same move.
	if again := e.Process(ptr(sso(after(3*time.Minute), dana, sess, "Slack", home2, newPC))); len(again) != 0 {
		t.Errorf("alerts again: %v", fired(again, ""))
	}
	v, _ := e.View(dana, after(3*time.Minute))
	for _, s := range v.Sessions {
		if s.ID == sess && (!s.Hijacked || !s.Cleared) {
			t.Errorf("session %+v: want hijacked and cleared", s)
		}
	}
	if s := e.Search("DANA", after(0), 5); len(s) != 1 || s[0].ID != dana {
		t.Errorf("search: %+v", s)
	}
	if s := e.Search("nobody", after(0), 5); len(s) != 0 {
		t.Errorf("search for nobody: %+v", s)
	}
}

func ptr(e event.Event) *event.Event { return &e }

func TestIAMUserWithAKeyIsAMachine(t *testing.T) {
	call := func(who, key string, d device) event.Event {
		e := ev(after(0), event.SourceCloudTrail, "ListBuckets", event.CategoryAPIActivity, event.ActivityRead, who, home, d)
		e.Actor.Type, e.Session.AccessKeyID = "IAMUser", key
		return e
	}
	cli := device{ua: "aws-cli/2.15.0 Python/3.11", browser: "aws-cli"}
	_, e := run(t, DefaultConfig(), one(call("svc-backup", "AKIAUC3NQX7DIUFI7WAD", cli), call("legacy-dana", "AKIAUC3NQX7DANAKEY01", mac),
		call("temp-user", "ASIAUC3NQX7PLNJJDPR4", cli)))
	for id, want := range map[string]event.Kind{"svc-backup": event.KindService, "legacy-dana": event.KindHuman, "temp-user": event.KindHuman} {
		if v, _ := e.View(id, after(time.Minute)); v.Kind != want {
			t.Errorf("%s is %q, want %q", id, v.Kind, want)
		}
	}
}

func TestFalsePositiveTravelBecomesHabit(t *testing.T) {
	trip := func(day time.Duration) []event.Event {
		return one(login(after(day+5*time.Hour), dana, "a"+itoa(int(day)), home, mac), login(after(day+7*time.Hour), dana, "b"+itoa(int(day)), sydney, evil))
	}
	// Without a verdict, the same trip a day later alerts again.
	alerts, e := run(t, DefaultConfig(), history(dana), trip(0))
	if diff := cmp.Diff([]string{"session.impossible_travel/high"}, fired(alerts, RuleImpossibleTravel)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	again := trip(24 * time.Hour)
	var got []event.Alert
	for i := range again {
		got = append(got, e.Process(&again[i])...)
	}
	if len(fired(got, RuleImpossibleTravel)) == 0 {
		t.Fatalf("control: the second trip did not alert, so the test below proves nothing")
	}
	// With the first judged a false positive, the second is quiet.
	alerts, e = run(t, DefaultConfig(), history(dana), trip(0))
	e.FalsePositive(alerts, after(8*time.Hour))
	got = nil
	again = trip(24 * time.Hour)
	for i := range again {
		got = append(got, e.Process(&again[i])...)
	}
	if f := fired(got, RuleImpossibleTravel); len(f) != 0 {
		t.Errorf("after the verdict the same trip alerts: %v", f)
	}
}
