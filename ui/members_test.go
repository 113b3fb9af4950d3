package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/currentop/currentop/source"
)

func lagOf(s float64) *float64 { return &s }

// replSetSnapshot is smallSnapshot spread over a replica set of three whose third member did
// not answer: its sessions are the last ones seen.
func replSetSnapshot() *source.Snapshot {
	snap := smallSnapshot()
	snap.Target = "mongodb://app:***@db1.rs.example.net,db2.rs.example.net,db3.rs.example.net/?replicaSet=rs0"
	snap.Members = []source.Member{
		{Host: "db1.rs.example.net:27017", State: "PRIMARY", Version: "8.0.4", Kind: "mongod", Set: "rs0", OK: true, Connections: 412, Ops: 17},
		{Host: "db2.rs.example.net:27017", State: "SECONDARY", Version: "8.0.4", Kind: "mongod", Set: "rs0", OK: true, Connections: 96, Ops: 3, LagS: lagOf(2)},
		{Host: "db3.rs.example.net:27017", State: "SECONDARY", Version: "8.0.4", Kind: "mongod", Set: "rs0", Error: "connection refused \x1b[31m(dial tcp 10.0.0.3:27017)", Stale: true},
	}
	hosts := []string{"db1.rs.example.net:27017", "db1.rs.example.net:27017", "db2.rs.example.net:27017", "db3.rs.example.net:27017", "db1.rs.example.net:27017", "db1.rs.example.net:27017", "db1.rs.example.net:27017"}
	for i := range snap.Sessions {
		snap.Sessions[i].Host = hosts[i]
	}
	snap.Sessions[3].Stale = true
	return snap
}

// shardedSnapshot is 16 shards of 3 members; two members did not answer, one lags.
func shardedSnapshot() *source.Snapshot {
	snap := smallSnapshot()
	snap.Server.Kind = "mongos"
	for s := 1; s <= 16; s++ {
		for i := 0; i < 3; i++ {
			mb := source.Member{Host: fmt.Sprintf("sh%02d-%d.db.example.net:27018", s, i), State: "SECONDARY", Version: "8.0.4",
				Kind: "mongod", Set: fmt.Sprintf("shard%02d", s), OK: true, Connections: 40 + i, Ops: i, LagS: lagOf(0.2)}
			if i == 0 {
				mb.State, mb.LagS = "PRIMARY", nil
			}
			snap.Members = append(snap.Members, mb)
		}
	}
	snap.Members[10].OK, snap.Members[10].Error, snap.Members[10].Stale = false, "i/o timeout", true
	snap.Members[31].OK, snap.Members[31].Error, snap.Members[31].Stale = false, "connection refused", true
	snap.Members[20].LagS = lagOf(42)
	for i := range snap.Sessions {
		snap.Sessions[i].Host = snap.Members[i*3].Host
	}
	return snap
}

func checkScreen(t *testing.T, got string, w, hgt int) {
	t.Helper()
	lines := strings.Split(got, "\n")
	if len(lines) != hgt {
		t.Errorf("%d lines, want %d", len(lines), hgt)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i, lw, w, l)
		}
	}
}

// TestMembersGolden pins the strip: three members (one down) at 80 and 120 columns, and a
// cluster of 48 members, which the strip summarises.
func TestMembersGolden(t *testing.T) {
	cases := []struct {
		name string
		snap func() *source.Snapshot
	}{
		{"members-replset", replSetSnapshot},
		{"members-sharded", shardedSnapshot},
	}
	for _, c := range cases {
		for _, size := range []struct{ w, h int }{{80, 24}, {120, 36}} {
			name := c.name + "-" + itoa(size.w) + "x" + itoa(size.h)
			t.Run(name, func(t *testing.T) {
				h, _ := startedWith(t, c.snap(), size.w, size.h)
				got := screen(h)
				checkScreen(t, got, size.w, size.h)
				golden(t, name, got)
			})
		}
	}
}

func TestMemberStripContent(t *testing.T) {
	h, src := startedWith(t, replSetSnapshot(), 120, 36)
	lines := strings.Split(screen(h), "\n")
	strip := lines[2]
	for _, want := range []string{"members all", "P db1 412c 17op 8.0.4", "S db2 96c 3op lag 2s", "✗ db3 down: refused"} {
		if !strings.Contains(strip, want) {
			t.Errorf("strip %q lacks %q", strip, want)
		}
	}
	if strings.Contains(strip, "\x1b") || strings.Contains(h.m.View().Content, "\x1b[31m(dial") {
		t.Errorf("the server's escape sequence reached the screen")
	}
	// The strip keeps its height while a member comes back: the panes do not jump.
	before := h.m.layout()
	snap := replSetSnapshot()
	snap.Members[2].OK, snap.Members[2].Error, snap.Members[2].Stale = true, "", false
	h.refresh(src, snap, 2*time.Second)
	if after := h.m.layout(); after != before {
		t.Errorf("layout moved when a member recovered: %+v → %+v", before, after)
	}
	if s := screen(h); strings.Contains(s, "down:") {
		t.Errorf("the recovered member is still shown down:\n%s", s)
	}

	// A single node that answers has no strip.
	h2, _ := startedWith(t, smallSnapshot(), 120, 36)
	if got := h2.m.memberStripHeight(); got != 0 {
		t.Errorf("single node: strip of %d lines", got)
	}
}

func TestMemberStripSummary(t *testing.T) {
	for _, w := range []int{80, 120, 200} {
		h, _ := startedWith(t, shardedSnapshot(), w, 36)
		lines := strings.Split(screen(h), "\n")
		if h.m.memberStripHeight() != 2 {
			t.Fatalf("%d columns: strip of %d lines, want the 2-line summary", w, h.m.memberStripHeight())
		}
		first, second := lines[2], lines[3]
		for _, want := range []string{"48 in 16 sets", "16 P 30 S"} {
			if !strings.Contains(first, want) {
				t.Errorf("%d columns: summary %q lacks %q", w, first, want)
			}
		}
		if !strings.Contains(second, "✗ 2 down: shard04/sh04-1 (timeout), shard11/sh11-1 (refused)") {
			t.Errorf("%d columns: down line %q", w, second)
		}
		if !strings.Contains(first, "max lag 42s shard07/sh07-2") {
			t.Errorf("%d columns: summary %q lacks the worst lag", w, first)
		}
	}
}

func TestStaleRowsDimmedAndHostShown(t *testing.T) {
	h, _ := startedWith(t, replSetSnapshot(), 120, 36)
	h.m.st = newStyles(true, true) // mono: faint is the only marker
	h.selectSession("101")
	out := h.m.View().Content
	title, header, rows := paneLines(ansi.Strip(out), "SESSIONS")
	if !strings.Contains(header, "HOST") {
		t.Errorf("no HOST column with three members: %q", header)
	}
	if !strings.Contains(title, "1 stale (member down)") {
		t.Errorf("title %q does not count the stale row", title)
	}
	faint := h.m.st.dim.Render("x")
	faintOn := faint[:strings.Index(faint, "x")]
	var dimmed []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, faintOn) {
			dimmed = append(dimmed, ansi.Strip(l))
		}
	}
	n := 0
	for _, l := range dimmed {
		if strings.Contains(l, "104") && strings.Contains(l, "db3") {
			n++
		}
		if strings.Contains(l, "101") || strings.Contains(l, "103") {
			t.Errorf("a live row is dimmed: %q", l)
		}
	}
	if n != 1 {
		t.Errorf("the stale row 104 is not drawn dimmed; dimmed lines: %q (rows %q)", dimmed, rows)
	}
	// host: filters by member.
	h.keys("/")
	h.typeText("host:db3")
	h.keys("enter")
	if got := h.sessionIDs(); len(got) != 1 || got[0] != "104" {
		t.Errorf("host:db3 lists %v, want [104]", got)
	}
}

func TestMemberScopeKey(t *testing.T) {
	h, src := startedWith(t, replSetSnapshot(), 120, 36)
	if !strings.Contains(ansi.Strip(h.m.footer()), "m members") {
		t.Errorf("footer %q does not offer m", ansi.Strip(h.m.footer()))
	}
	// db3 did not answer: alone, it would show nothing but an error, so m skips it.
	want := []string{source.MembersPrimary, "db1.rs.example.net:27017", "db2.rs.example.net:27017",
		source.MembersAll, source.MembersPrimary}
	for _, w := range want {
		n := len(src.queries)
		h.keys("m")
		if len(src.queries) != n+1 {
			t.Fatalf("m did not refresh at once (%d queries, want %d)", len(src.queries), n+1)
		}
		if got := src.queries[n].Members; got != w {
			t.Errorf("after m the query asks for members %q, want %q", got, w)
		}
		// A scoped source answers with its one member; the cycle still knows the others.
		one := replSetSnapshot()
		if scoped(w) && w != source.MembersPrimary {
			for _, mb := range one.Members {
				if mb.Host == w {
					one.Members = []source.Member{mb}
				}
			}
		}
		h.refresh(src, one, 2*time.Second)
		if got := src.queries[len(src.queries)-1].Members; got != w {
			t.Errorf("the next refresh asks for %q, want %q", got, w)
		}
		label := "members " + w
		if w == "db1.rs.example.net:27017" {
			label = "members db1.rs.example.net:27017"
		}
		if s := screen(h); !strings.Contains(s, label) {
			t.Errorf("the strip does not say %q:\n%s", label, s)
		}
	}
}

func TestMemberScopeKeyWithoutMembers(t *testing.T) {
	one := smallSnapshot() // a single node that reports itself as the one member
	one.Members = []source.Member{{Host: "db1:27017", State: "STANDALONE", OK: true}}
	h, src := startedWith(t, one, 120, 36)
	if n := h.m.memberStripHeight(); n != 0 {
		t.Errorf("a single node that answers has a strip of %d lines", n)
	}
	if strings.Contains(ansi.Strip(h.m.footer()), "members") {
		t.Errorf("footer offers m without members: %q", ansi.Strip(h.m.footer()))
	}
	n := len(src.queries)
	h.keys("m")
	if len(src.queries) != n || h.m.query.Members != "" {
		t.Errorf("m changed the scope of a single node: %q", h.m.query.Members)
	}
}

func TestClientPerMember(t *testing.T) {
	h, _ := startedWith(t, replSetSnapshot(), 120, 36)
	h.keys("tab") // clients
	for h.m.panes.cli.selected().c.IP != "10.20.3.18" {
		h.keys("down")
	}
	h.keys("enter")
	title, _, _ := paneLines(screen(h), "CLIENTS")
	if !strings.Contains(title, "by member: db1 1, db2 1") {
		t.Errorf("clients title %q lacks the per-member breakdown", title)
	}
}

func TestShortHosts(t *testing.T) {
	cases := []struct {
		in, want []string
	}{
		{[]string{"a.rs.example.net:27017", "b.rs.example.net:27017"}, []string{"a", "b"}},
		{[]string{"a.east.example.net:27017", "b.west.example.net:27018"}, []string{"a.east:27017", "b.west:27018"}},
		{[]string{"127.0.0.1:27017", "127.0.0.1:27018"}, []string{":27017", ":27018"}},
		{[]string{"10.108.93.135:7017:39920912", "10.108.93.136:7017:39920913"}, []string{"10.108.93.135:7017:39920912", "10.108.93.136:7017:39920913"}},
		{[]string{"db1:27017"}, []string{"db1:27017"}},
	}
	for _, c := range cases {
		var ms []source.Member
		for _, h := range c.in {
			ms = append(ms, source.Member{Host: h})
		}
		got := shortHosts(ms)
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("shortHosts(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestStripTinySizes(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {20, 8}, {60, 20}, {79, 23}, {300, 80}} {
		for _, snap := range []*source.Snapshot{replSetSnapshot(), shardedSnapshot()} {
			h, _ := startedWith(t, snap, 120, 36)
			h.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			lines := strings.Split(screen(h), "\n")
			if len(lines) > sz[1] {
				t.Errorf("%v: %d lines", sz, len(lines))
			}
		}
	}
}

func TestMemberReason(t *testing.T) {
	cases := []struct{ in, want string }{
		{"unreachable: dial tcp 127.0.0.1:34259: connect: connection refused", "refused"},
		{"server selection: context deadline exceeded", "timeout"},
		{"read tcp 10.0.0.3:51234->10.0.0.4:27017: i/o timeout", "timeout"},
		{"(NotYetInitialized) no replset config has been received", "(NotYetInitialized) no replset …"},
		{"huawei: DBS.280343: node is being rebooted", "node is being rebooted"},
		{"", "no answer"},
		{"bad \x1b[2Jthing: \x1b]0;x\x07", "bad"},
	}
	for _, c := range cases {
		got := memberReason(c.in)
		if got != c.want && !(strings.HasPrefix(c.want, "bad") && !strings.ContainsAny(got, "\x1b\x07")) {
			t.Errorf("memberReason(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMemberScopeCycle(t *testing.T) {
	var s memberScope
	snap := replSetSnapshot()
	snap.Members = append(snap.Members, source.Member{Host: "arb:27017", State: "ARBITER", Kind: "arbiter", OK: true})
	s.learn(snap, "")
	got := []string{""}
	for i := 0; i < 5; i++ {
		got = append(got, s.next(got[len(got)-1]))
	}
	want := []string{"", source.MembersPrimary, "db1.rs.example.net:27017", "db2.rs.example.net:27017", source.MembersAll, source.MembersPrimary}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("cycle %v, want %v (no arbiter, no member that is down)", got, want)
	}
	if n := s.next("a:1,b:2"); n != source.MembersAll {
		t.Errorf("a --members list goes on to %q, want all", n)
	}
	// db3 is back: it is offered again.
	snap.Members[2].OK = true
	s.learn(snap, "")
	if n := s.next("db2.rs.example.net:27017"); n != "db3.rs.example.net:27017" {
		t.Errorf("after db2: %q, want db3 once it answers", n)
	}
	// A scoped snapshot adds to the members known, never drops them.
	s.learn(&source.Snapshot{Members: []source.Member{{Host: "db4:27017", OK: true}}}, "db4:27017")
	if len(s.hosts) != 4 {
		t.Errorf("hosts after a scoped snapshot: %v", s.hosts)
	}
}
