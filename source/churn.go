package source

import (
	"cmp"
	"slices"
	"time"
)

// Churn follows each client IP's connection count across snapshots (Snapshot.Clients, which
// every source fills) and says how fast it changes, and which IPs are in a connection storm:
// connections growing faster than Threshold per second over Sustain consecutive refreshes. A
// storm ends once that IP's growth falls below half the threshold (the growth has stopped,
// allowing for jitter), or it leaves.
//
// Time is whatever the caller passes to Observe (the UI's injected clock). Memory is bounded:
// one count per IP per sample in the last Window, and an IP is forgotten once it has had no
// connection for a whole window.
type Churn struct {
	// Threshold is the storm rate in connections per second (default 10).
	Threshold float64
	// Sustain is how many consecutive refreshes must grow faster than Threshold (default 3).
	Sustain int
	// Window is what the per-minute change is measured over, scaled to a minute (default
	// 30 s: long enough to smooth a refresh's jitter, short enough to show a storm while it
	// lasts).
	Window time.Duration

	times  []time.Time // samples within the window (plus the one just before it)
	ips    map[string]*ipChurn
	epoch  uint64    // counts the samples
	evalAt time.Time // the last sample the storm rates were measured at
}

// Churn defaults.
const (
	DefaultStormThreshold = 10.0
	defaultSustain        = 3
	defaultChurnWindow    = 30 * time.Second
	// minRateSpan: a sample closer than this to the previous measured one (a refresh asked
	// for by hand, or after a kill) is kept for the per-minute change but does not count as a
	// refresh for storms: a few connections over a few milliseconds are no storm.
	minRateSpan = 400 * time.Millisecond
)

type ipChurn struct {
	counts    []int32   // aligned with Churn.times
	cur       int       // connections in the sample being taken (valid when epoch is current)
	epoch     uint64    // the sample cur belongs to
	lastSeen  time.Time // the last sample with a connection
	evalCount int       // the count at evalAt
	rate      float64   // connections per second over the last measured refresh
	above     int       // consecutive measured refreshes growing faster than the threshold
	storm     bool
	since     time.Time // when the storm was detected
	peak      float64   // the storm's fastest refresh
}

// ClientChurn is one IP's churn.
type ClientChurn struct {
	IP string
	// PerMin is the change in connections per minute over the window (signed); Known is false
	// until two samples exist.
	PerMin float64
	Known  bool
	// Rate is the growth over the last refresh, connections per second.
	Rate  float64
	Storm bool
	Since time.Time // when the storm was detected
	Count int       // connections now
}

// StormChange is a storm starting or ending.
type StormChange struct {
	IP      string
	Started bool // false: it ended
	At      time.Time
	Rate    float64 // started: the growth of the refresh that confirmed it; ended: the peak
	Count   int     // connections now
	Lasted  time.Duration
}

func (c *Churn) threshold() float64 {
	if c.Threshold > 0 {
		return c.Threshold
	}
	return DefaultStormThreshold
}

func (c *Churn) sustain() int {
	if c.Sustain > 0 {
		return c.Sustain
	}
	return defaultSustain
}

func (c *Churn) window() time.Duration {
	if c.Window > 0 {
		return c.Window
	}
	return defaultChurnWindow
}

// Observe takes the clients of one snapshot taken at at and returns the storms that started
// or ended with it. A sample not after the previous one is ignored. It costs one map lookup
// per client and one pass over the IPs known.
func (c *Churn) Observe(at time.Time, clients []Client) []StormChange {
	if n := len(c.times); n > 0 && !at.After(c.times[n-1]) {
		return nil
	}
	if c.ips == nil {
		c.ips = map[string]*ipChurn{}
	}
	first := len(c.times) == 0
	c.times = append(c.times, at)
	c.epoch++
	for _, cl := range clients {
		h := c.ips[cl.IP]
		if h == nil {
			// It had no connection at the earlier samples.
			h = &ipChurn{counts: make([]int32, len(c.times)-1, len(c.times)+8)}
			c.ips[cl.IP] = h
		}
		if h.epoch != c.epoch {
			h.epoch, h.cur = c.epoch, 0
		}
		h.cur += cl.Count
	}
	measure := false
	var dt time.Duration
	if first {
		c.evalAt = at
	} else if dt = at.Sub(c.evalAt); dt >= minRateSpan {
		measure = true
		c.evalAt = at
	}
	// The samples older than the window go, but the newest of them stays, so that the
	// per-minute change spans at least the window when the history does.
	cut, k := at.Add(-c.window()), 0
	for k+1 < len(c.times) && !c.times[k+1].After(cut) {
		k++
	}
	c.times = c.times[k:]
	var changes []StormChange
	for ip, h := range c.ips {
		n := 0
		if h.epoch == c.epoch {
			n = h.cur
		}
		if n != 0 {
			h.lastSeen = at
		}
		h.counts = append(h.counts, int32(n))[k:]
		switch {
		case first:
			h.evalCount = n
		case measure:
			if ch, ok := c.measure(ip, h, n, at, dt); ok {
				changes = append(changes, ch)
			}
		}
		if !h.storm && h.lastSeen.Before(c.times[0]) {
			delete(c.ips, ip) // no connection within the window
		}
	}
	slices.SortFunc(changes, func(a, b StormChange) int { return cmp.Compare(a.IP, b.IP) })
	return changes
}

// measure updates one IP's rate and storm state with its count n, dt after the last measured
// sample; it returns the storm's start or end if this sample is one.
func (c *Churn) measure(ip string, h *ipChurn, n int, at time.Time, dt time.Duration) (StormChange, bool) {
	th := c.threshold()
	h.rate = float64(n-h.evalCount) / dt.Seconds()
	h.evalCount = n
	if h.rate > th {
		h.above++
	} else {
		h.above = 0
	}
	switch {
	case !h.storm && h.above >= c.sustain():
		h.storm, h.since, h.peak = true, at, h.rate
		return StormChange{IP: ip, Started: true, At: at, Rate: h.rate, Count: n}, true
	case h.storm && h.rate < th/2:
		h.storm = false
		return StormChange{IP: ip, At: at, Rate: h.peak, Count: n, Lasted: at.Sub(h.since)}, true
	case h.storm:
		h.peak = max(h.peak, h.rate)
	}
	return StormChange{}, false
}

// Of is ip's churn; false when ip has had no connection within the window.
func (c *Churn) Of(ip string) (ClientChurn, bool) {
	h, ok := c.ips[ip]
	if !ok {
		return ClientChurn{}, false
	}
	n := len(c.times)
	cc := ClientChurn{IP: ip, Rate: h.rate, Storm: h.storm, Since: h.since, Count: int(h.counts[n-1])}
	if n >= 2 {
		span := c.times[n-1].Sub(c.times[0])
		cc.PerMin = float64(h.counts[n-1]-h.counts[0]) / span.Minutes()
		cc.Known = true
	}
	return cc, true
}

// Storms are the IPs in a storm now, fastest first.
func (c *Churn) Storms() []ClientChurn {
	var out []ClientChurn
	for ip, h := range c.ips {
		if h.storm {
			cc, _ := c.Of(ip)
			out = append(out, cc)
		}
	}
	slices.SortFunc(out, func(a, b ClientChurn) int {
		if c := cmp.Compare(b.Rate, a.Rate); c != 0 {
			return c
		}
		return cmp.Compare(a.IP, b.IP)
	})
	return out
}
