package ui

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
)

// Connecting happens on screen: with Options.Connect the program starts at once, says what it
// connects to, and q or ctrl+c end it while the driver is still selecting a server. Quitting
// cancels the connect and any fetch in flight; nothing waits for them.

// connectedMsg is the result of Options.Connect.
type connectedMsg struct {
	src source.Source
	err error
}

// owned hands the source Connect opened to whichever side is still there: the model while it
// runs, else the connect command itself, which closes it (the user quit while connecting).
type owned struct {
	mu   sync.Mutex
	src  source.Source
	done bool
}

// keep takes src for the model; after release it closes src instead and reports false.
func (o *owned) keep(src source.Source) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done {
		closeQuietly(src)
		return false
	}
	o.src = src
	return true
}

// release ends the model's ownership and returns what it held, for the caller to close.
func (o *owned) release() source.Source {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done = true
	src := o.src
	o.src = nil
	return src
}

func closeQuietly(src source.Source) {
	if c, ok := src.(io.Closer); ok {
		_ = c.Close()
	}
}

// closeGrace is how long quitting waits for the opened source to say goodbye to the server.
const closeGrace = time.Second

// closeWithin closes src, waiting at most d: the program is ending, and a server that does not
// answer must not hold the terminal.
func closeWithin(src source.Source, d time.Duration) {
	if src == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		closeQuietly(src)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// stop cancels the connect and the fetch in flight; it is safe to call more than once.
func (m *Model) stop() {
	m.stopOnce.Do(func() { close(m.quit) })
}

// quitNow ends the program at once.
func (m *Model) quitNow() tea.Cmd {
	m.stop()
	return tea.Quit
}

// withQuit is parent, also cancelled when the program quits.
func withQuit(parent context.Context, quit <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	go func() {
		select {
		case <-quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// connectCmd runs Options.Connect. Its own timeout is the source's business (the driver's
// server selection timeout); quitting cancels it.
func (m *Model) connectCmd() tea.Cmd {
	m.loop.connectStarted()
	connect, quit, o := m.connect, m.quit, m.owned
	return func() tea.Msg {
		ctx, cancel := withQuit(context.Background(), quit)
		defer cancel()
		src, err := connectSafely(ctx, connect)
		if err != nil {
			select {
			case <-quit:
				return nil // the user quit: the error is the cancellation
			default:
			}
			return connectedMsg{err: err}
		}
		if !o.keep(src) {
			return nil
		}
		return connectedMsg{src: src}
	}
}

func connectSafely(ctx context.Context, connect func(context.Context) (source.Source, error)) (src source.Source, err error) {
	defer func() {
		if r := recover(); r != nil {
			src, err = nil, fmt.Errorf("connect failed: %v", r)
		}
	}()
	src, err = connect(ctx)
	if err == nil && src == nil {
		err = fmt.Errorf("connect returned no source")
	}
	return src, err
}

// onConnected starts the refresh loop on the opened source, or ends the program with the
// error, which Run returns.
func (m *Model) onConnected(msg connectedMsg) tea.Cmd {
	m.loop.connected(msg.src)
	if msg.err != nil {
		m.fatal = msg.err
		return m.quitNow()
	}
	m.useSource(msg.src)
	return m.loop.fetch(m.query)
}
