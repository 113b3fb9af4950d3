package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

// tencentSnapshot is a Tencent-like deployment: session IDs "ReplicaSetName/NodeName/OpId"
// with the same prefix on every row, one shard (the replica set) and one state for all, nSess
// operations and 15 clients with long driver names and one client with many apps.
func tencentSnapshot(nSess int) *source.Snapshot {
	const rs, node = "cmgo-d1x7k2p9_0", "cmgo-d1x7k2p9_0-node-primary"
	plans := []string{"COLLSCAN", "IXSCAN { customerId: 1 }", "COLLSCAN", "IDHACK", "", "COUNT_SCAN { status: 1 }"}
	nss := []string{"shop.orders", "billing.invoices", "shop.orders", "inventory.stock_by_warehouse", "shop.carts"}
	apps := []string{"orders-api", "billing-worker", "orders-api", "reporting", "mongosh 2.3.1"}
	users := []string{"ordersApp@admin", "billing@admin", "ordersApp@admin", "analyst@admin", "dba@admin"}
	ops := []string{"query", "update", "query", "command", "insert", "getmore"}
	snap := &source.Snapshot{
		Source: "tencent", Target: "tencent:ap-guangzhou/cmgo-d1x7k2p9", TakenAt: baseTime,
		Server: source.Server{Host: "10.0.0.10:27017", Version: "8.0", Kind: "cloud",
			Connections: source.Connections{Current: 270, Active: 16}},
	}
	for i := range nSess {
		s := sess(fmt.Sprint(1200+i*37), ops[i%len(ops)], nss[i%len(nss)], time.Duration(90-i)*time.Second/3, fmt.Sprintf("10.0.1.%d:%d", 11+i%4, 40000+i*131))
		s.ID = rs + "/" + node + "/" + s.ID
		s.PlanSummary = plans[i%len(plans)]
		s.App, s.User = apps[i%len(apps)], users[i%len(users)]
		s.Host, s.Shard, s.Desc = node, rs, "primary"
		s.WaitingForLock = i == 1
		snap.Sessions = append(snap.Sessions, s)
	}
	drivers := []string{"mongo-java-driver|sync 5.2.1", "mongo-go-driver 2.10.0", "nodejs 6.10.0", "PyMongo 4.10.1"}
	for i := range 15 {
		ip := fmt.Sprintf("10.0.1.%d", 11+i)
		if i%5 == 4 {
			ip = fmt.Sprintf("2001:db8:1::%x", 10+i)
		}
		c := source.Client{IP: ip, Count: 40 - 2*i, Active: max(0, 3-i),
			Apps: []string{apps[i%len(apps)]}, Users: []string{users[i%len(users)]}, Drivers: []string{drivers[i%len(drivers)]}}
		if i == 1 {
			c.Apps = []string{"billing-worker", "cdc-worker", "mongosh 2.3.1", "orders-api", "reporting"}
			c.Users = []string{"analyst@admin", "billing@admin", "ordersApp@admin"}
		}
		snap.Clients = append(snap.Clients, c)
	}
	return snap
}

// startedWith is a harness at w×h showing snap.
func startedWith(t *testing.T, snap *source.Snapshot, w, h int) (*harness, *fakeKiller) {
	t.Helper()
	src := &fakeKiller{outcome: source.KillGone}
	src.set(snap)
	hs := newHarness(t, Options{Source: src})
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	return hs, src
}

// refresh delivers snap as the next refresh, after d.
func (h *harness) refresh(src *fakeKiller, snap *source.Snapshot, d time.Duration) {
	h.t.Helper()
	src.set(snap)
	h.clock.advance(d)
	h.fireTick()
}

// paneLines returns a pane's title, column header and row lines as drawn on screen s.
func paneLines(s, title string) (t, header string, rows []string) {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, " "+title) {
			continue
		}
		t = l
		if i+1 < len(lines) {
			header = lines[i+1]
		}
		for _, r := range lines[min(i+2, len(lines)):] {
			if strings.HasPrefix(r, " SESSIONS") || strings.TrimSpace(r) == "" {
				break
			}
			rows = append(rows, r)
		}
		return t, header, rows
	}
	return "", "", nil
}

// cells cuts a drawn line into the cells of layout vis.
func cells(line string, vis []visCol) []string {
	out := make([]string, len(vis))
	for k, v := range vis {
		out[k] = strings.TrimSpace(ansi.Cut(line, v.x, v.x+v.w))
	}
	return out
}

// A value wider than the rest widens its column at once; the column keeps that width while
// the value comes and goes, and gives it back only after widthHold without it, or at once on
// a resize or a change the user makes.
func TestWidthsHoldStill(t *testing.T) {
	plain := smallSnapshot()
	wide := smallSnapshot()
	wide.Sessions[0].PlanSummary = "IXSCAN { customerId: 1, createdAt: -1 }"
	header := func(h *harness) string { _, hd, _ := paneLines(screen(h), "SESSIONS"); return hd }

	h, src := startedWith(t, plain, 120, 36)
	before := header(h)
	h.refresh(src, wide, 2*time.Second)
	grown := header(h)
	if grown == before {
		t.Fatalf("a wider plan did not widen the columns:\n%s", grown)
	}
	// It comes and goes for a while (last seen on the last of these): the header holds.
	for i := range 20 {
		snap := plain
		if i%10 == 9 {
			snap = wide
		}
		h.refresh(src, snap, 2*time.Second)
		if got := header(h); got != grown {
			t.Fatalf("refresh %d: the header moved while the wide plan came and went:\n%s\nwant\n%s", i, got, grown)
		}
	}
	// Gone for good: it holds for widthHold, then gives the width back.
	for d := time.Duration(0); d < widthHold-3*time.Second; d += 2 * time.Second {
		h.refresh(src, plain, 2*time.Second)
		if got := header(h); got != grown {
			t.Fatalf("%s after the wide plan went the header changed:\n%s", d, got)
		}
	}
	h.refresh(src, plain, 4*time.Second)
	if got := header(h); got != before {
		t.Fatalf("after %s without the wide plan, want the narrow header back:\n%s\nwant\n%s", widthHold, got, before)
	}

	t.Run("resize", func(t *testing.T) {
		h, src := startedWith(t, plain, 120, 36)
		h.refresh(src, wide, 2*time.Second)
		h.refresh(src, plain, 2*time.Second)
		h.send(tea.WindowSizeMsg{Width: 121, Height: 36})
		screen(h)
		h.send(tea.WindowSizeMsg{Width: 120, Height: 36})
		if got := header(h); got != before {
			t.Fatalf("a resize keeps a width no row needs:\n%s\nwant\n%s", got, before)
		}
	})
	t.Run("filter", func(t *testing.T) {
		h, src := startedWith(t, plain, 120, 36)
		h.refresh(src, wide, 2*time.Second)
		screen(h)
		h.keys("/")
		h.typeText("op:query")
		h.keys("enter")
		h.refresh(src, plain, 2*time.Second)
		_, hd, rows := paneLines(screen(h), "SESSIONS")
		vis := h.m.panes.sess.layout(120)
		for k, v := range vis {
			if h.m.panes.sess.cols[v.col].key != "plan" {
				continue
			}
			widest := 0
			for _, r := range rows {
				widest = max(widest, ansi.StringWidth(cells(r, vis)[k]))
			}
			if k < len(vis)-1 && v.w > max(widest, len("PLAN")+1) {
				t.Fatalf("after a filter the plan column is %d wide for plans of at most %d:\n%s", v.w, widest, hd)
			}
		}
	})
}

// Widths come from the rows shown: narrowed to one client, the columns fit its sessions, not
// the widest session of another client.
func TestWidthsFromRowsShown(t *testing.T) {
	snap := smallSnapshot()
	snap.Sessions[3].NS = "analytics.events_by_customer_and_day" // client 10.20.3.19
	h, _ := startedWith(t, snap, 160, 36)
	nsWidth := func() int {
		screen(h)
		for _, v := range h.m.panes.sess.layout(160) {
			if h.m.panes.sess.cols[v.col].key == "ns" {
				return v.w
			}
		}
		return 0
	}
	if w := nsWidth(); w < len(snap.Sessions[3].NS) {
		t.Fatalf("ns is %d wide with all clients, want at least %d", w, len(snap.Sessions[3].NS))
	}
	h.keys("tab", "g", "enter") // narrow to 10.20.3.17
	if h.m.panes.narrowIP != "10.20.3.17" {
		t.Fatalf("narrowed to %q", h.m.panes.narrowIP)
	}
	if w := nsWidth(); w >= len(snap.Sessions[3].NS) {
		t.Fatalf("narrowed to a client without it, ns is still %d wide", w)
	}
}

// The sort arrow has its own cell: whichever column is sorted, every title stays in place.
func TestSortArrowHasItsOwnCell(t *testing.T) {
	for _, w := range []int{80, 120, 200} {
		h, _ := startedWith(t, smallSnapshot(), w, 36)
		_, want, _ := paneLines(screen(h), "SESSIONS")
		want = strings.NewReplacer("▲", " ", "▼", " ").Replace(want)
		for range len(h.m.panes.sess.cols) + 1 {
			for _, k := range []string{">", "r"} {
				h.keys(k)
				_, got, _ := paneLines(screen(h), "SESSIONS")
				if !strings.ContainsAny(got, "▲▼") && h.m.panes.sess.hiddenSort(w) == "" {
					t.Fatalf("%d cols, sort %s: no arrow in %q", w, h.m.panes.sess.sortKey, got)
				}
				if got = strings.NewReplacer("▲", " ", "▼", " ").Replace(got); got != want {
					t.Fatalf("%d cols, sort %s: titles moved:\n%s\nwant\n%s", w, h.m.panes.sess.sortKey, got, want)
				}
			}
		}
	}
}

// A header click sorts by the column drawn under the pointer, at every cell of every column,
// in both panes, at every size; also when new data arrived since the frame was drawn.
func TestHeaderClickHitsTheColumnUnderThePointer(t *testing.T) {
	for _, snap := range []func() *source.Snapshot{smallSnapshot, func() *source.Snapshot { return tencentSnapshot(12) }} {
		for _, sz := range [][2]int{{60, 20}, {80, 24}, {120, 36}, {200, 50}} {
			h, src := startedWith(t, snap(), sz[0], sz[1])
			check := func(p interface {
				layout(int) []visCol
			}, titles func(int) string, y int, key func() string) {
				t.Helper()
				for k := 0; ; k++ {
					header := strings.Split(screen(h), "\n")[y]
					vis := p.layout(sz[0])
					if k >= len(vis) {
						break
					}
					v := vis[k]
					title := titles(v.col)
					if span := ansi.Cut(header, v.x, v.x+v.w); !strings.Contains(span, title) {
						t.Fatalf("%dx%d: column %s drawn at %d+%d but the header there reads %q:\n%s", sz[0], sz[1], title, v.x, v.w, span, header)
					}
					for x := v.x; x < v.x+v.w; x++ {
						h.send(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
						if got := key(); got != title {
							t.Fatalf("%dx%d: a click at x=%d under %s sorted by %s:\n%s", sz[0], sz[1], x, title, got, header)
						}
					}
				}
			}
			l := h.m.layout()
			check(&h.m.panes.sess, func(ci int) string { return h.m.panes.sess.cols[ci].title }, l.sessY+1,
				func() string { return h.m.panes.sess.cols[h.m.panes.sess.colIndex(h.m.panes.sess.sortKey)].title })
			check(&h.m.panes.cli, func(ci int) string { return h.m.panes.cli.cols[ci].title }, l.cliY+1,
				func() string { return h.m.panes.cli.cols[h.m.panes.cli.colIndex(h.m.panes.cli.sortKey)].title })

			// New data with wider values arrives; the click lands before the next frame:
			// it still means the column the user saw.
			s := screen(h)
			header := strings.Split(s, "\n")[l.sessY+1]
			drawn := slices.Clone(h.m.panes.sess.layout(sz[0]))
			wide := snap()
			for i := range wide.Sessions {
				wide.Sessions[i].NS = "a_rather_long_database.with_a_long_collection_name"
			}
			src.set(wide)
			h.clock.advance(2 * time.Second)
			h.fireTick()
			v := drawn[len(drawn)-1]
			h.send(tea.MouseClickMsg{X: v.x + 1, Y: l.sessY + 1, Button: tea.MouseLeft})
			if got, want := h.m.panes.sess.sortKey, h.m.panes.sess.cols[v.col].key; got != want {
				t.Fatalf("%dx%d: a click on %s, drawn before the refresh, sorted by %s:\n%s", sz[0], sz[1], want, got, header)
			}
		}
	}
}

// Columns empty or identical on every shown row step aside, named in the title; a prefix
// every ID shares is cut and named.
func TestColumnsStepAside(t *testing.T) {
	h, _ := startedWith(t, tencentSnapshot(12), 140, 36)
	s := screen(h)
	title, header, rows := paneLines(s, "SESSIONS")
	for _, gone := range []string{"SHARD", "HOST", "DESC"} {
		if strings.Contains(header, gone) {
			t.Errorf("%s is the same on every row but still a column:\n%s", gone, header)
		}
	}
	for _, note := range []string{"id cmgo-d1x7k2p9_0/cmgo-d1x7k2p9_0-node-primary/… for all", "shard cmgo-d1x7k2p9_0 for all", "desc primary for all"} {
		if !strings.Contains(title, note) {
			t.Errorf("the title does not say %q:\n%s", note, title)
		}
	}
	if strings.Contains(title, "host ") {
		t.Errorf("one host for all is not worth a note:\n%s", title)
	}
	vis := h.m.panes.sess.layout(140)
	for _, r := range rows {
		if id := cells(r, vis)[0]; !strings.HasPrefix(id, "…/") {
			t.Fatalf("ID cell %q: want the part after the shared prefix", id)
		}
	}
	_, cliHeader, _ := paneLines(s, "CLIENTS")
	if strings.Contains(cliHeader, "INTERNAL") {
		t.Errorf("no internal client is shown, yet INTERNAL is a column:\n%s", cliHeader)
	}

	// The rows differ in part of the prefix: only what they share is cut.
	snap := tencentSnapshot(12)
	snap.Sessions[3].ID = strings.Replace(snap.Sessions[3].ID, "node-primary", "node-secondary", 1)
	h2, _ := startedWith(t, snap, 140, 36)
	title, _, rows = paneLines(screen(h2), "SESSIONS")
	if !strings.Contains(title, "id cmgo-d1x7k2p9_0/…") {
		t.Errorf("the title should name the shared replica set only:\n%s", title)
	}
	if !strings.Contains(strings.Join(rows, "\n"), "node-secondary/1311") {
		t.Errorf("the node that differs should show:\n%s", strings.Join(rows, "\n"))
	}

	// One session: its row says it all, nothing is cut or noted.
	h3, _ := startedWith(t, tencentSnapshot(1), 140, 36)
	title, header, _ = paneLines(screen(h3), "SESSIONS")
	if strings.Contains(title, "for all") || strings.Contains(title, "…") {
		t.Errorf("one row needs no notes:\n%s", title)
	}
	if !strings.Contains(header, "DESC") {
		t.Errorf("one row keeps its columns:\n%s", header)
	}
}

// checkNoEmptyColumn fails if a column on screen s has no value on any row of its pane.
func checkNoEmptyColumn[R any](t *testing.T, s, title string, p *pane[R], width int) {
	t.Helper()
	_, header, rows := paneLines(s, title)
	vis := p.layout(width)
	if len(rows) == 0 {
		return
	}
	for k, v := range vis {
		filled := false
		for _, r := range rows {
			if cells(r, vis)[k] != "" {
				filled = true
			}
		}
		if !filled {
			t.Errorf("%s column %s is empty on every row:\n%s\n%s", title, p.cols[v.col].title, header, strings.Join(rows, "\n"))
		}
	}
}

// checkPanes fails if the clients pane has blank lines while the sessions pane is cut off, or
// the other way round.
func checkPanes(t *testing.T, h *harness) {
	t.Helper()
	l := h.m.layout()
	cliShown, sessShown := l.cliH-2, l.sessH-2
	if len(h.m.panes.cli.rows) < cliShown && len(h.m.panes.sess.rows) > sessShown {
		t.Errorf("clients pane: %d rows in %d lines while sessions show %d of %d", len(h.m.panes.cli.rows), cliShown, sessShown, len(h.m.panes.sess.rows))
	}
	if len(h.m.panes.sess.rows) < sessShown && len(h.m.panes.cli.rows) > cliShown {
		t.Errorf("sessions pane: %d rows in %d lines while clients show %d of %d", len(h.m.panes.sess.rows), sessShown, cliShown, len(h.m.panes.cli.rows))
	}
}

// TestGoldenLayouts pins each layout rule at the four sizes a DBA uses: a Tencent deployment
// (shared ID prefix, one shard, long drivers: columns step aside, prefixes are cut), few
// sessions under many clients (the clients pane takes the room), many sessions (the clients
// pane keeps to its share and shows its position), and widths held after a wide value went.
// At 80x24 and 120x36 no column on screen is empty on every row. Regenerate with:
// go test ./ui -run TestGoldenLayouts -update
func TestGoldenLayouts(t *testing.T) {
	cases := []struct {
		name  string
		snap  *source.Snapshot
		setup func(h *harness, src *fakeKiller)
	}{
		{"tencent", tencentSnapshot(9), nil},
		{"few-sessions", tencentSnapshot(3), nil},
		{"many-sessions", tencentSnapshot(40), func(h *harness, _ *fakeKiller) { h.keys("tab", "down", "down", "tab") }},
		{"held", smallSnapshot(), func(h *harness, src *fakeKiller) {
			wide := smallSnapshot()
			wide.Sessions[0].PlanSummary = "IXSCAN { customerId: 1, createdAt: -1 }"
			screen(h)
			h.refresh(src, wide, 2*time.Second)
			screen(h)
			h.refresh(src, smallSnapshot(), 2*time.Second)
			h.clock.advance(20 * time.Second)
		}},
	}
	for _, size := range [][2]int{{60, 20}, {80, 24}, {120, 36}, {200, 50}} {
		for _, tc := range cases {
			name := fmt.Sprintf("layout-%s-%dx%d", tc.name, size[0], size[1])
			t.Run(name, func(t *testing.T) {
				h, src := startedWith(t, tc.snap, size[0], size[1])
				if tc.setup != nil {
					tc.setup(h, src)
				}
				got := screen(h)
				lines := strings.Split(got, "\n")
				if len(lines) != size[1] {
					t.Errorf("%d lines, want %d", len(lines), size[1])
				}
				for i, l := range lines {
					if w := ansi.StringWidth(l); w > size[0] {
						t.Errorf("line %d is %d cells wide, more than %d: %q", i, w, size[0], l)
					}
				}
				if size[0] == 80 || size[0] == 120 {
					checkNoEmptyColumn(t, got, "SESSIONS", &h.m.panes.sess, size[0])
					checkNoEmptyColumn(t, got, "CLIENTS", &h.m.panes.cli, size[0])
				}
				checkPanes(t, h)
				golden(t, name, got)
			})
		}
	}
}

// The clients pane takes what its rows need up to 40 % of the body, more only where the
// sessions would leave lines blank, and shows its position when it scrolls.
func TestPanesSizedByContent(t *testing.T) {
	tests := []struct {
		sessions, w, h int
		wantCli        int // lines including title and header; 0: do not check
		allClients     bool
	}{
		{3, 120, 36, 17, true},   // 15 clients fit: sessions need 5 lines of 32
		{40, 120, 36, 12, false}, // 40 % of 32
		{12, 120, 36, 17, true},  // sessions need 14 of 32: 18 left, clients need 17
		{20, 120, 36, 12, false}, // sessions need 22: clients keep their share
		{3, 80, 24, 15, false},   // 20 lines: sessions need 5
		{3, 60, 20, 11, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d-sessions-%dx%d", tc.sessions, tc.w, tc.h), func(t *testing.T) {
			h, _ := startedWith(t, tencentSnapshot(tc.sessions), tc.w, tc.h)
			s := screen(h)
			l := h.m.layout()
			if tc.wantCli > 0 && l.cliH != tc.wantCli {
				t.Errorf("clients pane %d lines, want %d (body %d)", l.cliH, tc.wantCli, l.bodyH)
			}
			checkPanes(t, h)
			title, _, _ := paneLines(s, "CLIENTS")
			if hasPos := strings.Contains(title, "/15"); hasPos == tc.allClients {
				t.Errorf("all clients shown %v, but the title %q", tc.allClients, title)
			}
		})
	}

	t.Run("position follows the selection", func(t *testing.T) {
		h, _ := startedWith(t, tencentSnapshot(40), 120, 36)
		h.keys("tab", "down", "down")
		if title, _, _ := paneLines(screen(h), "CLIENTS"); !strings.Contains(title, "· 3/15") {
			t.Fatalf("title %q, want 3/15", title)
		}
		if title, _, _ := paneLines(screen(h), "SESSIONS"); !strings.Contains(title, "· 1/40") {
			t.Fatalf("title %q, want 1/40", title)
		}
	})

	t.Run("the border holds while sessions come and go", func(t *testing.T) {
		h, src := startedWith(t, tencentSnapshot(10), 80, 24)
		screen(h)
		want := h.m.layout().cliH
		for i := range 10 {
			h.refresh(src, tencentSnapshot(6+i%5), 2*time.Second)
			screen(h)
			if got := h.m.layout().cliH; got != want {
				t.Fatalf("refresh %d: the clients pane went from %d to %d lines", i, want, got)
			}
		}
	})
}

// Narrowed to a client, the title says so once: the prefix note does not repeat it.
func TestNoteNotRepeated(t *testing.T) {
	h, _ := startedWith(t, smallSnapshot(), 120, 36)
	h.keys("tab", "g", "enter")
	title, _, rows := paneLines(screen(h), "SESSIONS")
	if strings.Count(title, "10.20.3.17") != 1 {
		t.Fatalf("the client is named %d times: %q", strings.Count(title, "10.20.3.17"), title)
	}
	if len(rows) < 2 || !strings.Contains(rows[0], "…:534") {
		t.Fatalf("the client cells should show the port only:\n%s", strings.Join(rows, "\n"))
	}
}
