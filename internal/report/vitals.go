package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/currentop/currentop/source"
)

// vitalsLines is the table's vitals header block, one line per group, "-" for what is unknown;
// nothing at all when no vitals are known.
func vitalsLines(v *source.Vitals) []string {
	if v == nil {
		return nil
	}
	var out []string
	if o := v.OpsPerS; o != nil {
		out = append(out, fmt.Sprintf("ops/s     insert %s  query %s  update %s  delete %s  getmore %s  command %s",
			rate(o.Insert), rate(o.Query), rate(o.Update), rate(o.Delete), rate(o.Getmore), rate(o.Command)))
	}
	if l := v.LatencyUS; l != nil {
		out = append(out, fmt.Sprintf("latency   reads %s  writes %s  commands %s", us(l.Reads), us(l.Writes), us(l.Commands)))
	}
	if v.NetInBytesPerS != nil || v.NetOutBytesPerS != nil || v.RequestsPerS != nil || v.ConnsCreatedPerS != nil {
		out = append(out, fmt.Sprintf("net       in %s B/s  out %s B/s  requests %s/s  conns created %s/s",
			rate(v.NetInBytesPerS), rate(v.NetOutBytesPerS), rate(v.RequestsPerS), rate(v.ConnsCreatedPerS)))
	}
	var locks []string
	if q := v.Queue; q != nil {
		locks = append(locks, fmt.Sprintf("queued %s readers / %s writers", count(q.Readers), count(q.Writers)))
	}
	if a := v.Active; a != nil {
		locks = append(locks, fmt.Sprintf("active %s readers / %s writers", count(a.Readers), count(a.Writers)))
	}
	if t := v.Tickets; t != nil {
		locks = append(locks, fmt.Sprintf("tickets read %s out %s free, write %s out %s free",
			count(t.ReadOut), count(t.ReadAvailable), count(t.WriteOut), count(t.WriteAvailable)))
	}
	if a := v.Admission; a != nil {
		locks = append(locks, fmt.Sprintf("admission %s queued %s out %s free",
			count(a.Queued), count(a.Out), count(a.Available)))
	}
	if len(locks) > 0 {
		out = append(out, "load      "+strings.Join(locks, "  "))
	}
	if v.CacheUsedPct != nil || v.CacheDirtyPct != nil {
		out = append(out, fmt.Sprintf("cache     used %s%%  dirty %s%%", pct(v.CacheUsedPct), pct(v.CacheDirtyPct)))
	}
	if f := v.InFlight; f != nil {
		line := fmt.Sprintf("in flight %s  active %s  idle %s  waiting for lock %s",
			count(f.Total), count(f.Active), count(f.Idle), count(f.WaitingForLock))
		if b := f.ByType; b != nil {
			line += fmt.Sprintf("  insert %s  query %s  update %s  delete %s  getmore %s  command %s",
				count(b.Insert), count(b.Query), count(b.Update), count(b.Delete), count(b.Getmore), count(b.Command))
		}
		out = append(out, line)
	}
	if r := v.Repl; r != nil {
		lag := "-"
		if r.LagS != nil {
			lag = strconv.FormatFloat(*r.LagS, 'f', 0, 64) + "s"
		}
		out = append(out, fmt.Sprintf("repl      %s  lag %s", dash(source.Clean(r.State)), lag))
	}
	return out
}

func rate(f *float64) string {
	if f == nil {
		return "-"
	}
	return Thousands(int64(*f + 0.5))
}

func us(f *float64) string {
	if f == nil {
		return "-"
	}
	return Thousands(int64(*f+0.5)) + "µs"
}

func pct(f *float64) string {
	if f == nil {
		return "-"
	}
	return strconv.FormatFloat(*f, 'f', 1, 64)
}

func count(n *int64) string {
	if n == nil {
		return "-"
	}
	return Thousands(*n)
}
