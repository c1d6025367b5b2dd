package baseline

import (
	"slices"
)

// Hourly counts data-access events per hour over the last two weeks.
type Hourly struct {
	// Hour is the Unix hour of the current (newest) slot.
	Hour int64
	// Counts is a ring: Counts[Hour % len] is the current hour.
	Counts [hourlyDays * 24]uint16
}

// Add counts n events at t. Hours skipped since the last event are zero.
func (h *Hourly) Add(t int64, n int) {
	hour := t / 3600
	switch {
	case h.Hour == 0:
		h.Hour = hour
	case hour > h.Hour:
		for x := h.Hour + 1; x <= hour && x <= h.Hour+int64(len(h.Counts)); x++ {
			h.Counts[x%int64(len(h.Counts))] = 0
		}
		h.Hour = hour
	case hour <= h.Hour-int64(len(h.Counts)):
		return // older than the history: forget
	}
	i := hour % int64(len(h.Counts))
	if c := int(h.Counts[i]) + n; c > 0xffff {
		h.Counts[i] = 0xffff
	} else {
		h.Counts[i] = uint16(c)
	}
}

// Stats is a robust summary of past hours with activity.
type Stats struct {
	Hours  int     // past hours with at least one event
	Median float64 // of those hours
	MAD    float64 // median absolute deviation, scaled to a standard deviation
	Max    int
}

// Past summarizes the hours before the one containing t, among hours with
// activity: the median and MAD of counts, robust to the odd busy hour.
func (h *Hourly) Past(t int64) Stats {
	cur := t / 3600
	var xs []float64
	maxc := 0
	for x := cur - int64(len(h.Counts)) + 1; x < cur; x++ {
		if x > h.Hour || x <= h.Hour-int64(len(h.Counts)) {
			continue
		}
		c := int(h.Counts[x%int64(len(h.Counts))])
		if c > 0 {
			xs = append(xs, float64(c))
			maxc = max(maxc, c)
		}
	}
	if len(xs) == 0 {
		return Stats{}
	}
	med := median(xs)
	dev := make([]float64, len(xs))
	for i, x := range xs {
		if x > med {
			dev[i] = x - med
		} else {
			dev[i] = med - x
		}
	}
	return Stats{Hours: len(xs), Median: med, MAD: 1.4826 * median(dev), Max: maxc}
}

// Current returns the count of the hour containing t.
func (h *Hourly) Current(t int64) int {
	if t/3600 != h.Hour {
		return 0
	}
	return int(h.Counts[h.Hour%int64(len(h.Counts))])
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
