package mongodb

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/currentop/currentop/source"
)

// route finds the member a deployment session ID names ("host:port/<member's ID>") and the
// ID that member knows it by; ok is false for the mongos's own IDs ("shard01:123", "conn7").
func (f *fanout) route(id string) (m *member, rest string, ok bool) {
	host, rest, found := strings.Cut(id, "/")
	if !found || !validHost(host) {
		return nil, "", false
	}
	if _, port, err := net.SplitHostPort(host); err != nil || strings.Trim(port, "0123456789") != "" || port == "" {
		return nil, "", false // not host:port ("thread:<desc with a slash>" on a mongos)
	}
	return f.member(host), rest, true
}

// kill sends each target's kill to the member that reported it, through that member's own
// client, with the same re-read rule (source.KillSafely); the mongos's own IDs (through a
// mongos whose shards are out of reach) are killed through it.
func (f *fanout) kill(ctx context.Context, targets []source.Session) []source.KillResult {
	res := make([]source.KillResult, len(targets))
	groups := map[*member][]int{}
	var here []int
	for i, t := range targets {
		m, _, ok := f.route(t.ID)
		switch {
		case !ok:
			here = append(here, i)
		case m == nil || m.client() == nil:
			res[i] = source.KillResult{ID: t.ID, Outcome: source.KillFailed,
				Err: fmt.Errorf("%s: its member is not connected now (it left the deployment or does not answer); nothing was killed", t.ID)}
		default:
			groups[m] = append(groups[m], i)
		}
	}
	var wg sync.WaitGroup
	run := func(s *Source, idx []int, strip bool) {
		defer wg.Done()
		ts := make([]source.Session, len(idx))
		for j, i := range idx {
			ts[j] = targets[i]
			if strip {
				_, ts[j].ID, _ = strings.Cut(ts[j].ID, "/")
			}
		}
		for j, r := range s.killHere(ctx, ts) {
			r.ID = targets[idx[j]].ID
			res[idx[j]] = r
		}
	}
	if len(here) > 0 {
		wg.Add(1)
		go run(f.parent, here, false)
	}
	for m, idx := range groups {
		wg.Add(1)
		go run(m.client(), idx, true)
	}
	wg.Wait()
	return res
}

// detail reads a member's session whole through that member's client.
func (f *fanout) detail(ctx context.Context, m *member, rest string, t source.Session) (*source.Session, error) {
	var s *Source
	if m != nil {
		s = m.client()
	}
	if s == nil {
		return nil, fmt.Errorf("session %s: its member is not connected now (it left the deployment or does not answer)", t.ID)
	}
	saw := t
	saw.ID = rest
	got, err := s.Detail(ctx, saw)
	if err != nil {
		return nil, err
	}
	got.ID, got.Host = t.ID, m.host
	if f.isSharded() {
		got.Shard = m.set
	}
	return got, nil
}
