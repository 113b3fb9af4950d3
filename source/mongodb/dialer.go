package mongodb

import (
	"context"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/event"
)

// dialer opens the driver's sockets. It remembers the local address of each open socket —
// which is what the server reports as that connection's "client" — so the monitor can
// recognise its own connections, including the heartbeat connection that never runs a
// command, and it counts the bytes received (benchmarks report them).
type dialer struct {
	d       net.Dialer
	book    *addrBook       // shared by the dialers of one deployment's clients
	scoped  bool            // localAddrs lists only sockets to the servers this dialer dials
	remotes map[string]bool // the servers' addresses it has dialled (scoped; guarded by mu)
	mu      sync.Mutex
	conns   map[*trackedConn]struct{}
	closed  bool // closeAll was called: no new sockets
	bytesIn atomic.Int64
	// The last failed dial and heartbeat, until the server answers again.
	dialErr, beatErr atomic.Pointer[error]
	// onFail, when set, is told of each failed dial (a member being opened gives up at once).
	onFail atomic.Pointer[func(error)]
}

// addrBook counts the open sockets by local address. The dialers of a deployment's member
// clients share one, so that every member recognises every socket of the monitor's.
type addrBook struct {
	mu     sync.Mutex
	open   map[string]int    // local "ip:port" → open sockets
	remote map[string]string // local "ip:port" → the server's "ip:port"
}

// maxRemotes bounds the servers a member's dialer remembers (it dials one host: one or two
// addresses).
const maxRemotes = 16

func newDialer() *dialer {
	return &dialer{book: &addrBook{open: map[string]int{}, remote: map[string]string{}}, conns: map[*trackedConn]struct{}{}}
}

// newDialerSharing is a member client's dialer: it shares b, and its localAddrs are only the
// sockets (any client's) to the server it dials, which is all that server can see.
func newDialerSharing(b *addrBook) *dialer {
	return &dialer{book: b, conns: map[*trackedConn]struct{}{}, scoped: true, remotes: map[string]bool{}}
}

// closeAll closes every open socket. The driver's Disconnect waits for its monitor, which may
// sit in a read from a server that accepted the connection and never answers, for as long as
// the connect timeout; closing the socket under it ends that read at once.
func (d *dialer) closeAll() {
	d.mu.Lock()
	d.closed = true // the monitor redials at once after a failed check
	conns := make([]*trackedConn, 0, len(d.conns))
	for c := range d.conns {
		conns = append(conns, c)
	}
	d.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.d.DialContext(ctx, network, address)
	if err != nil {
		d.dialErr.Store(&err)
		if f := d.onFail.Load(); f != nil {
			(*f)(err)
		}
		return nil, err
	}
	d.dialErr.Store(nil)
	tc := &trackedConn{Conn: c, d: d}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	d.conns[tc] = struct{}{}
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		tc.local = a.String()
		tc.remote = c.RemoteAddr().String()
		if d.scoped && len(d.remotes) < maxRemotes {
			d.remotes[tc.remote] = true
		}
		d.book.mu.Lock()
		d.book.open[tc.local]++
		d.book.remote[tc.local] = tc.remote
		d.book.mu.Unlock()
	}
	return tc, nil
}

// monitor records the heartbeats' failures (a TLS or handshake error the dial did not see)
// and clears the last failure when the server answers.
func (d *dialer) monitor() *event.ServerMonitor {
	return &event.ServerMonitor{
		ServerHeartbeatFailed: func(e *event.ServerHeartbeatFailedEvent) {
			if e.Failure != nil {
				err := e.Failure
				d.beatErr.Store(&err)
			}
		},
		ServerHeartbeatSucceeded: func(*event.ServerHeartbeatSucceededEvent) {
			d.dialErr.Store(nil)
			d.beatErr.Store(nil)
		},
	}
}

// lastFailure is the last failed dial since the server last answered (the most precise
// words), else the last failed heartbeat, else nil.
func (d *dialer) lastFailure() error {
	for _, p := range []*error{d.dialErr.Load(), d.beatErr.Load()} {
		if p != nil {
			return *p
		}
	}
	return nil
}

// localAddrs lists the local addresses of the open sockets.
func (d *dialer) localAddrs() []string {
	var servers map[string]bool
	if d.scoped {
		d.mu.Lock()
		servers = maps.Clone(d.remotes)
		d.mu.Unlock()
	}
	d.book.mu.Lock()
	defer d.book.mu.Unlock()
	out := make([]string, 0, len(d.book.open))
	for a := range d.book.open {
		if servers != nil && !servers[d.book.remote[a]] {
			continue
		}
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

type trackedConn struct {
	net.Conn
	d      *dialer
	local  string
	remote string
	once   sync.Once
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.d.bytesIn.Add(int64(n))
	return n, err
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.d.mu.Lock()
		defer c.d.mu.Unlock()
		delete(c.d.conns, c)
		if c.local == "" {
			return
		}
		b := c.d.book
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.open[c.local]--; b.open[c.local] <= 0 {
			delete(b.open, c.local)
			delete(b.remote, c.local)
		}
	})
	return c.Conn.Close()
}
