package ui

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/currentop/currentop/source"
)

// pileShape is the shape of the pile-up in pileSnapshot.
const pileShape = "find shop.orders {status: ?, qty: {$gt: ?}}"

// pileSnapshot is smallSnapshot plus a pile-up: six copies of one slow query with different
// literals, from two clients, all collection scans.
func pileSnapshot() *source.Snapshot {
	snap := smallSnapshot()
	for i := range 6 {
		s := sess(fmt.Sprint(201+i), "query", "shop.orders", time.Duration(20+i)*time.Second, fmt.Sprintf("10.20.3.%d:5%04d", 17+i%2, i))
		s.Command = json.RawMessage(fmt.Sprintf(`{"find":"orders","filter":{"status":"s%d","qty":{"$gt":%d}},"$db":"shop"}`, i, i*7))
		s.CommandName, s.App, s.PlanSummary = "find", "storefront", "COLLSCAN"
		snap.Sessions = append(snap.Sessions, s)
	}
	return snap
}

func startedPile(t *testing.T, opts Options) (*harness, *fakeKiller) {
	t.Helper()
	src := &fakeKiller{outcome: source.KillGone}
	src.set(pileSnapshot())
	opts.Source = src
	return newHarness(t, opts), src
}

func groupKeys(h *harness) []string {
	var keys []string
	for _, i := range h.m.panes.grp.rows {
		keys = append(keys, h.m.panes.grp.data[i].g.Key)
	}
	return keys
}

func paneTitle(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return strings.TrimRight(l, " ")
		}
	}
	return ""
}

func TestGroupsToggleCycleAndTitle(t *testing.T) {
	h, _ := startedPile(t, Options{})
	h.keys("t")
	if !h.m.panes.showingGroups() {
		t.Fatal("t should show groups")
	}
	s := screen(h)
	// 11 sessions under the toggles (the idle and the internal one are hidden): the pile's 6,
	// 101/103/105 (find, getmore), 102 (update), 104 (insert).
	if got := paneTitle(s, " GROUPS"); !strings.HasPrefix(got, " GROUPS 5 shapes of 11 sessions") {
		t.Fatalf("title %q:\n%s", got, s)
	}
	if keys := groupKeys(h); len(keys) == 0 || keys[0] != pileShape {
		t.Fatalf("the pile-up is not the first group (longest total): %q", keys)
	}
	for _, want := range []string{"SHAPE", "COUNT", "ACTIVE", "LOCK", "TOTAL▼", "MAX", "COLLSCAN", "APPS", "CLIENTS", "storefront", "2m15s"} {
		if !strings.Contains(s, want) {
			t.Errorf("grouped view lacks %q:\n%s", want, s)
		}
	}
	if foot := lastLineOf(s); !strings.Contains(foot, "t rows") || !strings.Contains(foot, "T by app") || !strings.Contains(foot, "k kill group") {
		t.Errorf("footer %q", foot)
	}
	h.keys("T")
	s = screen(h)
	if got := paneTitle(s, " GROUPS"); !strings.HasPrefix(got, " GROUPS 3 apps of 11 sessions") || !strings.HasPrefix(paneTitle(s, "  APP "), "  APP ") || strings.Contains(paneTitle(s, "  APP "), "APPS") {
		t.Errorf("by app: title %q:\n%s", got, s)
	}
	for range len(source.GroupBys) - 1 {
		h.keys("T")
	}
	if h.m.panes.by != "shape" {
		t.Errorf("T should cycle back to shape, got %s", h.m.panes.by)
	}
	h.keys("t")
	if h.m.panes.showingGroups() || !strings.HasPrefix(paneTitle(screen(h), " SESSIONS"), " SESSIONS 11") {
		t.Fatalf("t should show rows again:\n%s", screen(h))
	}
}

func lastLineOf(s string) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return l[len(l)-1]
}

// TestGroupCountsAddUp: for every grouping, with and without filters and a client narrowing,
// the groups' counts add up to the sessions the rows view lists for the same snapshot.
func TestGroupCountsAddUp(t *testing.T) {
	filters := []string{"", "app:storefront", "running>10s", "-op:insert", "COLLSCAN"}
	for _, by := range source.GroupBys {
		for _, f := range filters {
			for _, ip := range []string{"", "10.20.3.17"} {
				h, _ := startedPile(t, Options{})
				if f != "" {
					h.keys("/")
					h.typeText(f)
					h.keys("enter")
				}
				if ip != "" {
					h.m.panes.narrow(ip, h.m.query)
				}
				shown := len(h.m.panes.sess.rows)
				h.m.panes.setGroupBy(by, h.m.query)
				sum := 0
				for _, ri := range h.m.panes.grp.rows {
					sum += h.m.panes.grp.data[ri].g.Count
				}
				if sum != shown || h.m.panes.sessInView != shown {
					t.Errorf("by %s, filter %q, client %q: counts add up to %d (title says of %d), rows view lists %d", by, f, ip, sum, h.m.panes.sessInView, shown)
				}
			}
		}
	}
}

func TestGroupsSort(t *testing.T) {
	h, _ := startedPile(t, Options{})
	h.keys("t")
	counts := func() []int {
		var c []int
		for _, ri := range h.m.panes.grp.rows {
			c = append(c, h.m.panes.grp.data[ri].g.Count)
		}
		return c
	}
	// TOTAL▼ first; > to MAX, then COLLSCAN… every column is reachable, < back.
	seen := []string{h.m.panes.grp.sortKey}
	for range len(h.m.panes.grp.cols) {
		h.keys(">")
		seen = append(seen, h.m.panes.grp.sortKey)
	}
	for _, c := range h.m.panes.grp.cols {
		if !slices.Contains(seen, c.key) {
			t.Errorf("> never sorts by %s: %v", c.key, seen)
		}
	}
	h.m.panes.grp.setSort("count")
	if h.m.panes.grp.sortKey != "count" || !h.m.panes.grp.desc {
		h.m.panes.grp.setSort("count")
	}
	if c := counts(); !slices.IsSortedFunc(c, func(a, b int) int { return b - a }) || c[0] != 6 {
		t.Errorf("COUNT▼: %v", c)
	}
	h.keys("r")
	if c := counts(); !slices.IsSorted(c) {
		t.Errorf("r should reverse to COUNT▲: %v", c)
	}
	if s := screen(h); !strings.Contains(s, "COUNT▲") {
		t.Errorf("no COUNT▲ in the header:\n%s", s)
	}
}

func TestGroupEnterAndEsc(t *testing.T) {
	h, _ := startedPile(t, Options{})
	h.keys("t", "enter")
	if h.m.panes.showingGroups() || h.m.panes.open == "" {
		t.Fatal("enter should open the group")
	}
	ids := h.sessionIDs()
	slices.Sort(ids)
	if want := []string{"201", "202", "203", "204", "205", "206"}; !slices.Equal(ids, want) {
		t.Fatalf("the group's sessions: %v, want %v", ids, want)
	}
	s := screen(h)
	if got := paneTitle(s, " SESSIONS"); !strings.HasPrefix(got, " SESSIONS 6 of 11 · shape "+pileShape) {
		t.Errorf("title %q", got)
	}
	// A refresh keeps the group open, with its sessions as they are now.
	snap := pileSnapshot()
	snap.Sessions = slices.DeleteFunc(snap.Sessions, func(s source.Session) bool { return s.ID == "203" })
	h.m.show(snap, h.clock.now())
	if ids := h.sessionIDs(); len(ids) != 5 || slices.Contains(ids, "203") {
		t.Errorf("after a refresh: %v", ids)
	}
	h.keys("enter") // the detail of a session, as in the rows view
	if h.m.overlay != overlayDetail {
		t.Fatal("enter on a group's session should open its detail")
	}
	h.keys("esc", "esc")
	if !h.m.panes.showingGroups() {
		t.Fatalf("esc should return to the groups:\n%s", screen(h))
	}
	if r := h.m.panes.grp.selected(); r == nil || r.g.Key != pileShape {
		t.Errorf("the opened group should stay selected: %+v", r)
	}
}

func TestGroupKill(t *testing.T) {
	t.Run("confirm", func(t *testing.T) {
		h, src := startedPile(t, Options{})
		h.keys("t", "k")
		if h.m.overlay != overlayConfirm {
			t.Fatalf("k on a group should ask; status %q", h.m.status.text)
		}
		s := screen(h)
		for _, want := range []string{"Kill 6 operations?", "of shape " + pileShape, "206", "10.20.3.18:50005"} {
			if !strings.Contains(s, want) {
				t.Errorf("dialog lacks %q:\n%s", want, s)
			}
		}
		if len(h.m.panes.marked) != 6 {
			t.Errorf("the group's sessions should be marked: %v", h.m.panes.marked)
		}
		h.keys("y")
		if len(src.killed) != 1 || len(src.killed[0]) != 6 {
			t.Fatalf("killer got %+v", src.killed)
		}
		for _, s := range src.killed[0] {
			if s.App != "storefront" || s.Client == "" {
				t.Errorf("the killer must get the sessions as last seen: %+v", s)
			}
		}
		if !strings.HasPrefix(h.m.status.text, "kill: 6 killed — ") || !strings.Contains(h.m.status.text, "206 killed") || len(h.m.panes.marked) != 0 {
			t.Errorf("status %q, marked %v", h.m.status.text, h.m.panes.marked)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		h, src := startedPile(t, Options{})
		h.keys("t", "k", "n")
		if h.m.overlay != overlayNone || len(src.killed) != 0 || h.m.confirm.about != "" {
			t.Fatal("n should cancel")
		}
		if len(h.m.panes.marked) != 0 {
			t.Errorf("a cancelled group kill leaves its sessions marked: %v", h.m.panes.marked)
		}
	})
	t.Run("marked groups", func(t *testing.T) {
		h, src := startedPile(t, Options{})
		h.keys("t", "space", "space")
		if n := len(h.m.panes.markedGroups); n != 2 {
			t.Fatalf("%d groups marked", n)
		}
		if foot := lastLineOf(screen(h)); !strings.Contains(foot, "kill 2 marked groups") {
			t.Errorf("footer %q", foot)
		}
		first, second := groupKeys(h)[0], groupKeys(h)[1]
		want := 0
		for _, ri := range h.m.panes.grp.rows[:2] {
			want += h.m.panes.grp.data[ri].g.Count
		}
		h.keys("k")
		if s := screen(h); !strings.Contains(s, fmt.Sprintf("Kill %d operations?", want)) || !strings.Contains(s, "2 shapes: "+first+"; "+second) {
			t.Errorf("dialog:\n%s", s)
		}
		h.keys("y")
		if len(src.killed) != 1 || len(src.killed[0]) != want {
			t.Errorf("killed %+v, want %d sessions", src.killed, want)
		}
	})
	t.Run("not killable and read-only", func(t *testing.T) {
		h, src := startedPile(t, Options{Readonly: true})
		h.keys("t", "k")
		if h.m.overlay == overlayConfirm || len(h.m.panes.marked) != 0 || !strings.Contains(h.m.status.text, "read-only") {
			t.Errorf("read-only: overlay %v marked %v status %q", h.m.overlay, h.m.panes.marked, h.m.status.text)
		}
		h2, _ := startedPile(t, Options{})
		snap := pileSnapshot()
		for i := range snap.Sessions {
			snap.Sessions[i].NotKillable = "the provider cannot kill this"
		}
		h2.m.show(snap, h2.clock.now())
		h2.keys("t", "k")
		if h2.m.overlay == overlayConfirm || !strings.Contains(h2.m.status.text, "not killable") || len(h2.m.panes.marked) != 0 {
			t.Errorf("not killable: overlay %v status %q marked %v", h2.m.overlay, h2.m.status.text, h2.m.panes.marked)
		}
		_ = src
	})
}

// TestGroupsOnlyInUpdate: drawing does not group; a refresh groups once.
func TestGroupsOnlyInUpdate(t *testing.T) {
	h, _ := startedPile(t, Options{})
	if h.m.panes.groups != nil {
		t.Fatal("rows view: nothing should be grouped")
	}
	h.keys("t")
	before := &h.m.panes.groups[0]
	for range 3 {
		_ = h.m.View()
	}
	if &h.m.panes.groups[0] != before {
		t.Error("View grouped again")
	}
	h.m.show(pileSnapshot(), h.clock.now())
	if &h.m.panes.groups[0] == before {
		t.Error("a refresh should regroup")
	}
}

// BenchmarkGroupedView: a refresh of 100 000 sessions in the grouped view (regroup: warm
// shapes) and drawing it (View must cost what the rows view costs).
func BenchmarkGroupedView(b *testing.B) {
	m := benchModel(b, 100_000)
	m.panes.toggleGroups(m.query)
	b.Run("refresh", func(b *testing.B) {
		for b.Loop() {
			m.panes.refilterSessions(m.query, false)
		}
	})
	b.Run("View", func(b *testing.B) {
		for b.Loop() {
			_ = m.View()
		}
	})
}

// TestGroupEscBacksOut: esc backs out one level at a time: a group's sessions, the groups (with
// a filter, which goes first), the rows; t from a group's sessions says it leads to all rows.
func TestGroupEscBacksOut(t *testing.T) {
	h, _ := startedPile(t, Options{})
	h.keys("t", "enter")
	if foot := lastLineOf(screen(h)); !strings.Contains(foot, "t all rows") || !strings.Contains(foot, "esc groups") {
		t.Errorf("footer in a group's sessions: %q", foot)
	}
	h.keys("esc")
	if !h.m.panes.showingGroups() {
		t.Fatal("esc from a group's sessions should return to the groups")
	}
	h.keys("/")
	h.typeText("app:storefront")
	h.keys("enter", "esc")
	if !h.m.panes.showingGroups() || !h.m.query.Filter.Empty() {
		t.Fatalf("esc should clear the filter first, in the groups; grouped %v, filter %q", h.m.panes.showingGroups(), h.m.query.Filter.Text)
	}
	h.keys("esc")
	if h.m.panes.grouped || h.m.panes.showingGroups() {
		t.Fatal("esc with nothing to clear should leave the groups for the rows")
	}
	if !strings.Contains(h.m.status.text, "as rows") {
		t.Errorf("status %q", h.m.status.text)
	}
}
