package source

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func testSessions() []Session {
	return []Session{
		{ID: "101", Type: TypeOp, Active: true, Op: "query", NS: "shop.orders", RunningUS: 7_391_022, PlanSummary: "COLLSCAN",
			Client: "10.20.3.17:53422", App: "orders-api", User: "ordersApp@admin", Driver: "mongo-go-driver 2.9.3", Host: "rs0-a:27017", Desc: "conn1842",
			CommandName: "find", Summary: `{status: "pending"}`},
		{ID: "shard01:102", Type: TypeOp, Active: true, Op: "getmore", NS: "local.oplog.rs", RunningUS: 1_500_000, Client: "10.20.3.18:4000",
			App: "", User: "__system@local", Driver: "NetworkInterfaceTL", Shard: "shard01", Desc: "conn7", Internal: true},
		{ID: "103", Type: TypeOp, Active: true, Op: "command", NS: "admin.$cmd", RunningUS: 150_000, Client: "[::1]:5000",
			App: "MongoDB Shell", User: "dba@admin", Driver: "nodejs|mongosh 2.3", Desc: "conn9", Msg: "Index Build: scanning 40/100",
			CommandName: "createIndexes", Summary: "{customerId: 1}", Progress: &Progress{Done: 40, Total: 100}},
		{ID: "conn200", Type: TypeIdle, Client: "10.20.3.17:53423", App: "orders-api", Desc: "conn200"},
		{ID: "sess1", Type: TypeIdleSession, Client: "10.20.3.19:1", App: "billing", Desc: "conn300"},
		{ID: "cur1", Type: TypeIdleCursor, Op: "getmore", NS: "shop.orders", Client: "10.20.3.19:2", App: "Bïlling ÜNICODE", Desc: "conn301"},
	}
}

func ids(ss []Session) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ","
		}
		out += s.ID
	}
	return out
}

func TestFilterMatch(t *testing.T) {
	cases := []struct{ filter, want string }{
		{"", "101,shard01:102,103,conn200,sess1,cur1"},
		{"orders", "101,conn200,cur1"},
		{"ORDERS", "101,conn200,cur1"},
		{"collscan", "101"},
		{"shard01", "shard01:102"},
		{"rs0-a", "101"},
		{"scanning", "103"},
		{"op:query", "101"},
		{"op:getmore", "shard01:102,cur1"},
		{"-op:getmore", "101,103,conn200,sess1"},
		{"!app:mongodb", "101,shard01:102,conn200,sess1,cur1"},
		{"type:idle", "conn200,sess1,cur1"},
		{"type=idle", "conn200"},
		{"app=ORDERS-API", "101,conn200"},
		{"app=orders", ""},
		{`app:"mongodb shell"`, "103"},
		{"ns:/^shop\\./", "101,cur1"},
		{"/oplog|\\$cmd/", "shard01:102,103"},
		{"-/^conn2/", "101,shard01:102,103,sess1,cur1"},
		{"running>5s", "101"},
		{"running>=1.5s", "101,shard01:102"},
		{"running>1.5s", "101"},
		{"running<200ms", "103,conn200,sess1,cur1"},
		{"running>0.1 running<2", "shard01:102,103"},
		{"-running>1s", "103,conn200,sess1,cur1"},
		{"client:10.20.3.17", "101,conn200"},
		{"ip:::1", "103"},
		{"user:admin driver:go-driver", "101"},
		{"id:shard01", "shard01:102"},
		{"desc=conn7", "shard01:102"},
		{"host:rs0", "101"},
		{"shard:01", "shard01:102"},
		{"plan:coll", "101"},
		{"op:query running>1s orders", "101"},
		{"bïlling", "cur1"},
		{"ünicode", "cur1"},
		{"app:BÏLLING", "cur1"},
		{"nothing-matches-this", ""},
		{"command:find", "101"},
		{"CMD=createindexes", "103"},
		{"createIndexes", "103"},
		{"summary:pending", "101"},
		{`summary:"customerid: 1"`, "103"},
		{`"status: \"pending\""`, "101"},
		{"Command:/^create/ RUNNING>100MS", "103"},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			f, err := ParseFilter(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []Session
			all := testSessions()
			folded := Fold(all)
			for i, s := range all {
				if f.Match(&s) {
					got = append(got, s)
				}
				if f.MatchFolded(&s, folded[i]) != f.Match(&s) || f.MatchFolded(&s, FoldSession(&s)) != f.Match(&s) {
					t.Errorf("session %s: MatchFolded = %v, Match = %v", s.ID, !f.Match(&s), f.Match(&s))
				}
			}
			if ids(got) != tc.want {
				t.Errorf("%q matched %q, want %q", tc.filter, ids(got), tc.want)
			}
		})
	}
}

func TestMatchClient(t *testing.T) {
	clients := []Client{
		{IP: "10.20.3.17", Count: 40, Apps: []string{"orders-api"}, Users: []string{"ordersApp@admin"}, Drivers: []string{"mongo-go-driver 2.9.3"}},
		{IP: "10.20.3.18", Count: 3, Internal: true, Users: []string{"__system@local"}, Drivers: []string{"NetworkInterfaceTL"}},
		{IP: "::1", Count: 1, Apps: []string{"MongoDB Shell"}, Users: []string{"dba@admin"}, Drivers: []string{"nodejs|mongosh"}},
	}
	cases := []struct{ filter, want string }{
		{"", "10.20.3.17,10.20.3.18,::1"},
		{"orders", "10.20.3.17"},
		{"admin", "10.20.3.17,::1"},
		{"client:3.18", "10.20.3.18"},
		{"ip:::1", "::1"},
		{"app:shell", "::1"},
		{"-app:shell", "10.20.3.17,10.20.3.18"},
		{"user=dba@admin", "::1"},
		{"driver:/^mongo-go/", "10.20.3.17"},
		{"op:query running>5s ns:shop plan:x host:y shard:z desc:q type:op id:1", "10.20.3.17,10.20.3.18,::1"},
		{"-op:query orders", "10.20.3.17"},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			f, err := ParseFilter(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, c := range clients {
				if f.MatchClient(&c) {
					if got != "" {
						got += ","
					}
					got += c.IP
				}
			}
			if got != tc.want {
				t.Errorf("%q matched clients %q, want %q", tc.filter, got, tc.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	clients := []Client{{IP: "10.20.3.17", Apps: []string{"orders-api"}}, {IP: "::1", Apps: []string{"MongoDB Shell"}}}
	cases := []struct {
		name        string
		q           Query
		filter      string
		wantSess    string
		wantClients int
	}{
		{"defaults hide idle and internal", Query{}, "", "101,103", 2},
		{"idle connections", Query{IdleConnections: true}, "", "101,103,conn200", 2},
		{"idle sessions", Query{IdleSessions: true}, "", "101,103,sess1", 2},
		{"idle cursors", Query{IdleCursors: true}, "", "101,103,cur1", 2},
		{"system", Query{System: true}, "", "101,shard01:102,103", 2},
		{"everything", Query{IdleConnections: true, IdleSessions: true, IdleCursors: true, System: true}, "", "101,shard01:102,103,conn200,sess1,cur1", 2},
		{"session-only filter leaves clients", Query{IdleConnections: true}, "op:query", "101", 2},
		{"client filter narrows clients", Query{IdleConnections: true}, "app:orders", "101,conn200", 1},
		{"free text narrows clients", Query{IdleConnections: true}, "shell", "103", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFilter(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			tc.q.Filter = f
			snap := &Snapshot{Sessions: testSessions(), Clients: append([]Client(nil), clients...)}
			backing := snap.Sessions[:cap(snap.Sessions)]
			Apply(snap, tc.q)
			if ids(snap.Sessions) != tc.wantSess {
				t.Errorf("sessions %q, want %q", ids(snap.Sessions), tc.wantSess)
			}
			if len(snap.Clients) != tc.wantClients {
				t.Errorf("%d clients, want %d", len(snap.Clients), tc.wantClients)
			}
			for _, s := range backing[len(snap.Sessions):] {
				if s.ID != "" {
					t.Errorf("dropped session %q still referenced by the backing array", s.ID)
				}
			}
		})
	}
	Apply(nil, Query{}) // no panic
}

func TestContainsFold(t *testing.T) {
	cases := []struct {
		hay, needle string
		want        bool
	}{
		{"Hello World", "world", true},
		{"Hello World", "hello w", true},
		{"Hello", "hello!", false},
		{"", "", true},
		{"abc", "", true},
		{"", "a", false},
		{"aaab", "aab", true},
		{"ÄBC", "äb", true},
		{"xÄBC", "bc", true},
		{"straße", "SS", false},
		{"ÉCOLE", "école", true},
		{"\xffabc", "abc", true},
		{"aȺ", "aⱥ", true}, // lower case is longer in bytes than upper case
		{"K", "k", true},   // Kelvin sign folds to k
	}
	for _, tc := range cases {
		if got := containsFold(tc.hay, tc.needle); got != tc.want {
			t.Errorf("containsFold(%q, %q) = %v, want %v", tc.hay, tc.needle, got, tc.want)
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	f, err := ParseFilter(`op:query running>1s -app:mongosh orders ns:/^shop\./ app=orders-api "rders-a"`)
	if err != nil {
		t.Fatal(err)
	}
	s := &testSessions()[0]
	if !f.Match(s) {
		t.Fatal("filter should match the first test session")
	}
	if n := testing.AllocsPerRun(100, func() { f.Match(s) }); n != 0 {
		t.Errorf("Match allocates %v times per session", n)
	}
}

// sessions100k is a realistic mix: every 10th session active, IPs, apps and namespaces varied,
// listed in an order unrelated to any sort (IDs and running times shuffled with a fixed
// seed), each session's text allocated where it is listed, as a source builds a snapshot.
func sessions100k() []Session {
	apps := []string{"orders-api", "billing", "mongosh", "reports", "etl-loader"}
	ops := []string{"query", "getmore", "insert", "update", "command"}
	cmds := []string{"find", "getMore", "insert", "update", "aggregate"}
	out := make([]Session, 100_000)
	perm := rand.New(rand.NewPCG(1, 2)).Perm(len(out))
	for k := range out {
		i := perm[k]
		s := Session{
			ID: fmt.Sprint(4_000_000 + i), Type: TypeIdle, Client: fmt.Sprintf("10.%d.%d.%d:%d", i%7, i%250, i%200, 30000+i%30000),
			App: apps[i%len(apps)], User: "app@admin", Driver: "mongo-go-driver 2.9.3", Host: "rs0-a:27017", Desc: fmt.Sprintf("conn%d", i),
		}
		if i%10 == 0 {
			s.Type, s.Active, s.Op, s.NS = TypeOp, true, ops[i%len(ops)], fmt.Sprintf("shop.coll%d", i%50)
			s.RunningUS = int64(i%9000) * 1000
			s.PlanSummary = "IXSCAN { _id: 1 }"
			s.CommandName, s.Summary = cmds[i%len(cmds)], fmt.Sprintf("{customerId: %d}", i)
		} else {
			s.ID = fmt.Sprintf("conn%d", i)
		}
		out[k] = s
	}
	return out
}

var filters100k = []struct{ name, filter string }{
	{"freetext", "orders"},
	{"fields", "op:query running>1s -app:mongosh"},
	{"regex", `ns:/^shop\.coll1/`},
	{"mixed", `op:query running>1s -app:mongosh orders ns:/^shop\./`},
}

// BenchmarkFilter100k re-filters 100 000 sessions with Match, column by column, as a
// one-shot Apply does.
func BenchmarkFilter100k(b *testing.B) {
	all := sessions100k()
	for _, bc := range filters100k {
		f, err := ParseFilter(bc.filter)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			meterCPU(b)
			for b.Loop() {
				n := 0
				for i := range all {
					if f.Match(&all[i]) {
						n++
					}
				}
				if n == len(all) || n == 0 {
					b.Fatalf("filter matched %d", n)
				}
			}
		})
	}
}

// BenchmarkFilterFolded100k re-filters 100 000 sessions whose haystacks were folded when the
// snapshot arrived (BenchmarkFold100k), as a UI does on every filter keystroke.
func BenchmarkFilterFolded100k(b *testing.B) {
	all := sessions100k()
	folded := Fold(all)
	for _, bc := range filters100k {
		f, err := ParseFilter(bc.filter)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			meterCPU(b)
			for b.Loop() {
				n := 0
				for i := range all {
					if f.MatchFolded(&all[i], folded[i]) {
						n++
					}
				}
				if n == len(all) || n == 0 {
					b.Fatalf("filter matched %d", n)
				}
			}
		})
	}
}

// BenchmarkFold100k folds 100 000 sessions' haystacks (once per snapshot).
func BenchmarkFold100k(b *testing.B) {
	all := sessions100k()
	b.ReportAllocs()
	meterCPU(b)
	for b.Loop() {
		_ = Fold(all)
	}
}

// BenchmarkApply100k filters a 100 000-session snapshot in place (toggles + filter): the
// copy that gives each round the same unfiltered snapshot is not timed.
func BenchmarkApply100k(b *testing.B) {
	all := sessions100k()
	work := make([]Session, len(all))
	for _, bc := range filters100k {
		f, _ := ParseFilter(bc.filter)
		q := Query{IdleConnections: true, Filter: f}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			m := meterCPU(b)
			for b.Loop() {
				m.stop()
				copy(work, all)
				snap := &Snapshot{Sessions: work}
				m.start()
				Apply(snap, q)
			}
		})
	}
}

// BenchmarkSessionOrder100k orders 100 000 sessions that come in an unrelated order (the
// index order SortSessions applies).
func BenchmarkSessionOrder100k(b *testing.B) {
	all := sessions100k()
	b.ReportAllocs()
	meterCPU(b)
	for b.Loop() {
		_ = SessionOrder(all)
	}
}

// BenchmarkSortSessions100k sorts 100 000 sessions in place from an unrelated order; the copy
// that restores that order each round is not timed.
func BenchmarkSortSessions100k(b *testing.B) {
	all := sessions100k()
	work := make([]Session, len(all))
	b.ReportAllocs()
	m := meterCPU(b)
	for b.Loop() {
		m.stop()
		copy(work, all)
		m.start()
		SortSessions(work)
	}
}

func TestShowsClient(t *testing.T) {
	member, app := &Client{IP: "10.0.0.2", Internal: true}, &Client{IP: "10.0.0.9"}
	for _, tc := range []struct {
		q          Query
		member, ok bool
	}{{Query{}, false, true}, {Query{System: true}, true, true}, {Query{IdleConnections: true}, false, true}} {
		if got := tc.q.ShowsClient(member); got != tc.member {
			t.Errorf("%+v: ShowsClient(internal) = %v", tc.q, got)
		}
		if got := tc.q.ShowsClient(app); got != tc.ok {
			t.Errorf("%+v: ShowsClient(app) = %v", tc.q, got)
		}
	}
}
