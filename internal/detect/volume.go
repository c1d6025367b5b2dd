package detect

import (
	"fmt"
	"math"
	"time"

	"github.com/vigil-zt/vigil/internal/detect/baseline"
	"github.com/vigil-zt/vigil/internal/event"
)

// volumeSpike is activity.volume_spike: an identity's data-access events in
// the current hour (S3 reads, secrets, DynamoDB, Drive downloads) exceed
// its own baseline — the median of its busy hours over two weeks, with
// the spread around it — by a factor (default 5×) and a minimum count
// (default 50).
type volumeSpike struct{}

func (volumeSpike) rule() string { return RuleVolumeSpike }

func (volumeSpike) observe(x *ctx) {
	ev, st := x.ev, x.who
	if st == nil || ev.Category != event.CategoryDataAccess || st.Profile.Hourly == nil {
		return
	}
	t := ev.Time.Unix()
	hour := t / 3600
	if st.SpikeHour == hour && st.SpikeHigh || !x.learned(st) {
		return
	}
	cfg := x.cfg()
	count := st.Profile.Hourly.Current(t) + 1 // this event is not yet counted
	if count < cfg.VolumeMin {
		return
	}
	past := st.Profile.Hourly.Past(t)
	if past.Hours < 3 {
		return // too little history to call anything a spike
	}
	threshold := math.Max(cfg.VolumeFactor*math.Max(past.Median, 1), past.Median+6*past.MAD)
	threshold = math.Max(threshold, float64(cfg.VolumeMin))
	sev := event.SeverityMedium
	if float64(count) >= 3*threshold || ev.Resource.Type == "secret" {
		sev = event.SeverityHigh
	}
	// One alert when the hour crosses the threshold, and one more if it
	// goes on to three times it.
	switch {
	case float64(count) < threshold:
		return
	case st.SpikeHour == hour && sev != event.SeverityHigh:
		return
	}
	st.SpikeHour, st.SpikeHigh = hour, sev == event.SeverityHigh
	start := time.Unix(hour*3600, 0).UTC()
	x.alert(RuleVolumeSpike, sev, 0.7, st,
		fmt.Sprintf("%s read data %d times in the hour from %s, against a typical busy hour of %.0f (%.1f× its baseline).",
			st.ID, count, start.Format("15:04 MST"), past.Median, float64(count)/math.Max(past.Median, 1)),
		[]event.EventRef{event.Ref(ev)},
		event.Comparison{What: "data-access events per hour",
			Baseline: fmt.Sprintf("median %.0f, MAD %.1f, max %d over %d busy hours in 14 days (alert from %.0f)", past.Median, past.MAD, past.Max, past.Hours, threshold),
			Observed: fmt.Sprintf("%d in the hour from %s", count, start.Format(time.RFC3339))},
		event.Comparison{What: "resource", Baseline: fmt.Sprintf("%d resources known", st.Profile.Resources.Len()), Observed: baseline.ResourceOf(ev)})
}
