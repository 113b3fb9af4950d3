package mongodb

import (
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/currentop/currentop/source"
)

// decodeClients turns the clients pipeline's output into per-IP clients (see clientsAcc).
func decodeClients(docs []bson.Raw) []source.Client {
	acc := newClientsAcc(MaxReadDocs)
	for _, d := range docs {
		acc.add(d)
	}
	return acc.list()
}

// clientsAcc merges the clients pipeline's output (either shape, see clientsPipeline) by IP,
// including IPs the server could not split (anything still carrying a port). It keeps at most
// max addresses: the clients read's document cap counts addresses, since one grouped
// document can carry thousands.
type clientsAcc struct {
	byIP  map[string]*clientAcc
	max   int
	names map[string]string // app, user and driver names, stored once
}

// clientAcc is one IP. Its sets are tiny (an address runs one or two applications), so
// they are slices, not maps: a hundred thousand addresses must stay cheap.
type clientAcc struct {
	count, active        int64
	internal             bool
	apps, users, drivers []string
}

func newClientsAcc(max int) *clientsAcc {
	return &clientsAcc{byIP: map[string]*clientAcc{}, max: max, names: map[string]string{}}
}

// add merges one document; it returns false once the accumulator holds max addresses.
func (c *clientsAcc) add(d bson.Raw) bool {
	id, ok := lookup(d, "_id")
	if !ok {
		return c.room()
	}
	sets, grouped := id.DocumentOK()
	if !grouped {
		n, _ := num(d, "n")
		a, _ := num(d, "a")
		c.merge(rawStr(d, "_id"), n, a, d)
		return c.room()
	}
	for _, e := range arrayValues(d, "c") { // [ip, count] or [ip, count, active]
		arr, ok := e.ArrayOK()
		if !ok {
			continue
		}
		vals, err := arr.Values()
		if err != nil || len(vals) < 2 {
			continue
		}
		ip, _ := vals[0].StringValueOK()
		n, _ := numValue(vals[1])
		var a int64
		if len(vals) > 2 {
			a, _ = numValue(vals[2])
		}
		c.merge(ip, n, a, sets)
	}
	return c.room()
}

func (c *clientsAcc) room() bool { return len(c.byIP) < c.max }

// merge adds n connections (a active) of ip, with the apps, users and drivers of sets. A new
// address beyond max is left out.
func (c *clientsAcc) merge(ip string, n, a int64, sets bson.Raw) {
	ip = hostOnly(ip)
	if ip == "" {
		return
	}
	ip = source.Clean(ip)
	acc := c.byIP[ip]
	if acc == nil {
		if !c.room() {
			return
		}
		acc = &clientAcc{}
		c.byIP[ip] = acc
	}
	acc.count += max(n, 0)
	acc.active += max(a, 0)
	for _, v := range arrayValues(sets, "p") {
		if s, ok := v.StringValueOK(); ok && s != "" {
			acc.apps = c.addName(acc.apps, source.Clean(s))
		}
	}
	for _, v := range arrayValues(sets, "u") {
		// each element is one connection's effectiveUsers array
		arr, ok := v.ArrayOK()
		if !ok {
			continue
		}
		vals, _ := arr.Values()
		for _, u := range vals {
			if ud, ok := u.DocumentOK(); ok && rawStr(ud, "user") == "__system" {
				acc.internal = true
			}
			if us := userString(u); us != "" {
				acc.users = c.addName(acc.users, us)
			}
		}
	}
	for _, v := range arrayValues(sets, "d") {
		name, _ := v.StringValueOK() // "name version" (driverExpr), else the document
		if dd, ok := v.DocumentOK(); ok {
			name = rawStr(dd, "name")
		}
		if strings.HasPrefix(name, "NetworkInterfaceTL") {
			acc.internal = true
		}
		if ds := driverString(v); ds != "" {
			acc.drivers = c.addName(acc.drivers, ds)
		}
	}
}

// addName adds name to set (kept sorted, no duplicates), storing each distinct name once.
func (c *clientsAcc) addName(set []string, name string) []string {
	i, found := slices.BinarySearch(set, name)
	if found {
		return set
	}
	if n, ok := c.names[name]; ok {
		name = n
	} else if len(c.names) < c.max {
		c.names[name] = name
	}
	return slices.Insert(set, i, name)
}

// list is the clients sorted by connection count.
func (c *clientsAcc) list() []source.Client {
	out := make([]source.Client, 0, len(c.byIP))
	for ip, acc := range c.byIP {
		out = append(out, source.Client{
			IP:       ip,
			Count:    int(acc.count),
			Active:   int(min(acc.active, acc.count)),
			Internal: acc.internal,
			Apps:     nonNil(acc.apps),
			Users:    nonNil(acc.users),
			Drivers:  nonNil(acc.drivers),
		})
	}
	slices.SortFunc(out, func(a, b source.Client) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.IP, b.IP)
	})
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
