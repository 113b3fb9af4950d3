package source

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

var churnT0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// counts is one refresh: connections per IP.
type counts map[string]int

func clientsOf(c counts) []Client {
	var out []Client
	for ip, n := range c {
		out = append(out, Client{IP: ip, Count: n})
	}
	return out
}

// ramp is the counts of ip growing by step per refresh from start, n refreshes.
func ramp(ip string, start, step, n int, others counts) []counts {
	var out []counts
	for i := range n {
		c := counts{ip: start + i*step}
		for k, v := range others {
			c[k] = v
		}
		out = append(out, c)
	}
	return out
}

func TestChurnStorms(t *testing.T) {
	steady := counts{"10.0.0.1": 40, "10.0.0.2": 5}
	tests := []struct {
		name  string
		every time.Duration
		seq   []counts
		// want lists the storm changes as "step:+ip" (started) and "step:-ip" (ended).
		want []string
		// storming after the last step.
		storming []string
	}{
		{name: "steady", every: 2 * time.Second, seq: []counts{steady, steady, steady, steady, steady, steady}},
		{name: "slow growth under the threshold", every: 2 * time.Second,
			seq: ramp("10.0.0.7", 0, 18, 8, steady)}, // 9/s
		{name: "burst sustained over 3 refreshes", every: 2 * time.Second,
			seq:      ramp("10.0.0.7", 0, 50, 5, steady), // 25/s
			want:     []string{"3:+10.0.0.7"},
			storming: []string{"10.0.0.7"}},
		{name: "two refreshes are not sustained", every: 2 * time.Second,
			seq: append(ramp("10.0.0.7", 0, 50, 3, steady), counts{"10.0.0.7": 100}, counts{"10.0.0.7": 100})},
		{name: "burst then plateau ends the storm", every: 2 * time.Second,
			seq:  append(ramp("10.0.0.7", 0, 50, 5, steady), counts{"10.0.0.7": 200}, counts{"10.0.0.7": 200}),
			want: []string{"3:+10.0.0.7", "5:-10.0.0.7"}},
		{name: "a slower but continuing growth keeps the storm", every: 2 * time.Second,
			seq:      []counts{{"a": 0}, {"a": 30}, {"a": 60}, {"a": 90}, {"a": 102}, {"a": 114}},
			want:     []string{"3:+a"},
			storming: []string{"a"}},
		{name: "sawtooth never sustains", every: 2 * time.Second,
			seq: []counts{{"a": 10}, {"a": 60}, {"a": 10}, {"a": 60}, {"a": 10}, {"a": 60}, {"a": 10}}},
		{name: "restart: drop to zero and everyone reconnects at once", every: 2 * time.Second,
			seq: []counts{steady, steady, {}, {}, steady, steady, steady}},
		{name: "the storm client vanishes", every: 2 * time.Second,
			seq:  append(ramp("10.0.0.7", 0, 50, 4, steady), steady),
			want: []string{"3:+10.0.0.7", "4:-10.0.0.7"}},
		{name: "a new IP appearing fast is growth from zero", every: time.Second,
			seq:      []counts{steady, {"b": 15}, {"b": 30}, {"b": 45}},
			want:     []string{"3:+b"},
			storming: []string{"b"}},
		{name: "the first snapshot is not growth", every: time.Second,
			seq: []counts{{"a": 500}, {"a": 500}, {"a": 500}, {"a": 500}}},
		{name: "fast refreshes measure per second", every: 500 * time.Millisecond,
			seq:  []counts{{"a": 0}, {"a": 6}, {"a": 12}, {"a": 18}, {"a": 18}},
			want: []string{"3:+a", "4:-a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Churn{}
			var got []string
			for i, step := range tc.seq {
				for _, ch := range c.Observe(churnT0.Add(time.Duration(i)*tc.every), clientsOf(step)) {
					sign := "-"
					if ch.Started {
						sign = "+"
					}
					got = append(got, fmt.Sprintf("%d:%s%s", i, sign, ch.IP))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("storm changes %v, want %v", got, tc.want)
			}
			var storming []string
			for _, s := range c.Storms() {
				storming = append(storming, s.IP)
			}
			if !slices.Equal(storming, tc.storming) {
				t.Errorf("storming %v, want %v", storming, tc.storming)
			}
		})
	}
}

func TestChurnStormChangeFigures(t *testing.T) {
	c := &Churn{Threshold: 5}
	var started, ended StormChange
	for i, n := range []int{0, 20, 40, 60, 90, 90} {
		for _, ch := range c.Observe(churnT0.Add(time.Duration(i)*2*time.Second), []Client{{IP: "a", Count: n}}) {
			if ch.Started {
				started = ch
			} else {
				ended = ch
			}
		}
	}
	if started.Rate != 10 || started.Count != 60 || !started.At.Equal(churnT0.Add(6*time.Second)) {
		t.Errorf("started %+v, want rate 10/s at 60 connections after 6 s", started)
	}
	if ended.Rate != 15 || ended.Count != 90 || ended.Lasted != 4*time.Second {
		t.Errorf("ended %+v, want peak 15/s, 90 connections, lasted 4 s", ended)
	}
}

func TestChurnPerMinute(t *testing.T) {
	tests := []struct {
		name  string
		every time.Duration
		seq   []int // counts of one IP, "gone" as -1
		want  float64
		known bool
		gone  bool
	}{
		{name: "one sample is unknown", every: 2 * time.Second, seq: []int{10}},
		{name: "steady", every: 2 * time.Second, seq: []int{10, 10, 10}, want: 0, known: true},
		{name: "scaled from a short history", every: 2 * time.Second, seq: []int{10, 12}, want: 60, known: true},
		{name: "falling", every: 10 * time.Second, seq: []int{100, 90, 80}, want: -60, known: true},
		// 26 refreshes of 2 s: the window keeps the last 30 s (and the refresh at its start).
		{name: "only the window counts", every: 2 * time.Second,
			seq: append(repeat(0, 10), repeat(30, 16)...), want: 0, known: true},
		{name: "the window's start counts", every: 2 * time.Second,
			seq: append(repeat(0, 10), repeat(30, 15)...), want: 60, known: true},
		{name: "vanished counts as a drop", every: 2 * time.Second, seq: []int{30, 30, -1}, want: -450, known: true},
		{name: "forgotten after a window without connections", every: 10 * time.Second,
			seq: append([]int{30}, repeat(-1, 8)...), gone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Churn{}
			for i, n := range tc.seq {
				var cl []Client
				if n >= 0 {
					cl = []Client{{IP: "a", Count: n}}
				}
				c.Observe(churnT0.Add(time.Duration(i)*tc.every), append(cl, Client{IP: "other", Count: 1}))
			}
			got, ok := c.Of("a")
			if ok == tc.gone {
				t.Fatalf("Of: present %v, want %v", ok, !tc.gone)
			}
			if got.Known != tc.known || math.Abs(got.PerMin-tc.want) > 1e-9 {
				t.Errorf("PerMin %v (known %v), want %v (known %v)", got.PerMin, got.Known, tc.want, tc.known)
			}
		})
	}
}

func repeat(n, times int) []int {
	out := make([]int, times)
	for i := range out {
		out[i] = n
	}
	return out
}

// A refresh asked for by hand milliseconds after the last one is not a storm's refresh.
func TestChurnIgnoresCloseSamplesForStorms(t *testing.T) {
	c := &Churn{}
	at := churnT0
	var changes []StormChange
	for _, n := range []int{0, 3, 6, 9} {
		changes = append(changes, c.Observe(at, []Client{{IP: "a", Count: n}})...)
		at = at.Add(50 * time.Millisecond)
	}
	if len(changes) != 0 {
		t.Errorf("storm from samples 50 ms apart: %+v", changes)
	}
	if changes := c.Observe(at, []Client{{IP: "a", Count: 9}}); len(changes) != 0 || c.Observe(at, nil) != nil {
		t.Errorf("a repeated or older sample changed something: %+v", changes)
	}
}

// Memory stays bounded: samples older than the window go, and so do IPs without connections.
func TestChurnBounded(t *testing.T) {
	c := &Churn{}
	for i := range 2000 {
		ip := fmt.Sprintf("10.0.%d.%d", i/250, i%250)
		c.Observe(churnT0.Add(time.Duration(i)*500*time.Millisecond), []Client{{IP: ip, Count: 1}, {IP: "steady", Count: 3}})
	}
	if len(c.times) > 62 {
		t.Errorf("%d samples kept for a 30 s window at 0.5 s", len(c.times))
	}
	if len(c.ips) > 63 {
		t.Errorf("%d IPs kept; only those seen in the window should be", len(c.ips))
	}
	for _, h := range c.ips {
		if len(h.counts) != len(c.times) {
			t.Fatalf("counts %d not aligned with %d samples", len(h.counts), len(c.times))
		}
	}
}

// BenchmarkChurnObserve: one refresh of 20 000 client IPs with a full 30 s window at 0.5 s.
func BenchmarkChurnObserve(b *testing.B) {
	clients := make([]Client, 20000)
	for i := range clients {
		clients[i] = Client{IP: fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), Count: 1 + i%7}
	}
	c := &Churn{}
	at := churnT0
	for range 70 {
		at = at.Add(500 * time.Millisecond)
		c.Observe(at, clients)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		at = at.Add(500 * time.Millisecond)
		clients[i%len(clients)].Count++
		c.Observe(at, clients)
	}
}
