package ui

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/currentop/currentop/source"
)

// hostPrio is the HOST column's importance when the snapshot spans several members: which
// member runs an operation matters then about as much as its client.
const (
	hostPrio       = 82
	hostPrioSingle = 45
	perMemberMax   = 6 // members named in the breakdown; the rest are summed up
)

// showHosts gives the HOST column room when snap spans several members.
func (p *panes) showHosts(snap *source.Snapshot) {
	ci := p.sess.colIndex("host")
	if ci < 0 {
		return
	}
	p.sess.cols[ci].prio = hostPrioSingle
	if len(snap.Members) >= 2 {
		p.sess.cols[ci].prio = hostPrio
	}
}

// countMembers counts the stale rows shown and, with a client narrowed to, its sessions per
// member: the source sums clients across members, the breakdown comes from the sessions.
func (p *panes) countMembers(q source.Query) {
	p.staleRows, p.perMember = 0, ""
	for _, i := range p.sess.rows {
		if p.sess.data[i].s.Stale {
			p.staleRows++
		}
	}
	if p.narrowIP == "" || p.shown == nil || len(p.shown.Members) < 2 {
		return
	}
	short := map[string]string{}
	for i, h := range shortHosts(p.shown.Members) {
		short[p.shown.Members[i].Host] = h
	}
	by := map[string]int{}
	for i := range p.sess.data {
		r := &p.sess.data[i]
		if r.clientIP != p.narrowIP || !q.Shows(r.s) {
			continue
		}
		h, ok := short[r.s.Host]
		if !ok {
			h = headOf(source.Clean(r.s.Host), memberHostMax)
		}
		by[h]++
	}
	p.perMember = perMemberText(by)
}

// perMemberText is " · by member: db1 12, db2 3, +2 more 4", most sessions first.
func perMemberText(by map[string]int) string {
	if len(by) == 0 {
		return ""
	}
	hosts := make([]string, 0, len(by))
	for h := range by {
		hosts = append(hosts, h)
	}
	slices.SortFunc(hosts, func(a, b string) int {
		return cmp.Or(by[b]-by[a], naturalCompare(a, b))
	})
	var parts []string
	rest, restN := 0, 0
	for i, h := range hosts {
		if i >= perMemberMax {
			rest += by[h]
			restN++
			continue
		}
		name := h
		if name == "" {
			name = "?"
		}
		parts = append(parts, name+" "+count(by[h]))
	}
	if restN > 0 {
		parts = append(parts, "+"+strconv.Itoa(restN)+" more "+count(rest))
	}
	return " · by member: " + strings.Join(parts, ", ")
}

// memberNotes is what the sessions title says about rows whose member did not answer.
func (p *panes) memberNotes() string {
	if p.staleRows == 0 {
		return ""
	}
	return " · " + count(p.staleRows) + " stale (member down)"
}
