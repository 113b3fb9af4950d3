package ui

import (
	"fmt"
	"math"
	"time"

	"github.com/currentop/currentop/source"
)

// Connection churn per client: source.Churn sees every good snapshot (pausing freezes the
// panes, not the history); the clients pane's Δ/MIN column shows each IP's change per minute
// as of the snapshot on screen, and the header names the storms as they are now.

// churnOf is what the clients pane shows of one IP's churn, taken when its snapshot is shown.
type churnOf struct {
	perMin int64
	known  bool
	storm  bool
}

// setChurn fills the rows' churn from c.
func setChurn(rows []cliRow, c *source.Churn) {
	if c == nil {
		return
	}
	for i := range rows {
		if cc, ok := c.Of(rows[i].c.IP); ok {
			rows[i].churn = churnOf{perMin: int64(math.Round(cc.PerMin)), known: cc.Known, storm: cc.Storm}
		}
	}
}

// signed is n with its sign: "+12", "-3", "0".
func signed(n int64) string {
	switch {
	case n > 0:
		return "+" + count(n)
	case n < 0:
		return "-" + count(-n)
	}
	return "0"
}

func churnText(r *cliRow) string {
	if !r.churn.known {
		return ""
	}
	return signed(r.churn.perMin)
}

// churnColumn is the clients pane's change of connections per minute.
func churnColumn() column[cliRow] {
	return column[cliRow]{
		key: "churn", title: "Δ/MIN", name: "change per minute", min: 5, max: 8, right: true, prio: 92, descFirst: true,
		hideEmpty: true, // until a second snapshot gives a change
		text:      func(r *cliRow, _ time.Time) string { return churnText(r) },
		num: func(r *cliRow) int64 {
			if !r.churn.known {
				return math.MinInt64 // unknown sorts below every change
			}
			return r.churn.perMin
		},
		width: func(r *cliRow) int { return len(churnText(r)) },
	}
}

// rateText is a growth rate: "+24/s".
func rateText(perS float64) string {
	return fmt.Sprintf("%+.0f/s", perS)
}

// stormText names the storms now, fastest first, for the header: "storm: 10.0.0.7 +35/s",
// with "(+2 more)" when there are others; "" when there is none.
func (m *Model) stormText() string {
	storms := m.churn.Storms()
	if len(storms) == 0 {
		return ""
	}
	s := "storm: " + source.Clean(storms[0].IP) + " " + rateText(storms[0].Rate)
	if n := len(storms) - 1; n > 0 {
		s += fmt.Sprintf(" (+%d more)", n)
	}
	return s
}
