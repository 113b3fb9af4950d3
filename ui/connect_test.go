package ui

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/currentop/currentop/source"
)

const maskedTarget = "mongodb://app:***@db1:27017/"

// blockingConnect never connects: it reports that it started and waits for its context.
type blockingConnect struct {
	started   chan struct{}
	cancelled chan struct{}
	result    source.Source // returned after the cancellation (an Open that completed anyway)
}

func newBlockingConnect() *blockingConnect {
	return &blockingConnect{started: make(chan struct{}), cancelled: make(chan struct{})}
}

func (b *blockingConnect) connect(ctx context.Context) (source.Source, error) {
	close(b.started)
	<-ctx.Done()
	close(b.cancelled)
	if b.result != nil {
		return b.result, nil
	}
	return nil, ctx.Err()
}

// waitClosed waits for ch, failing after a bound far above any scheduling delay.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not happen", what)
	}
}

// While connecting, the screen names the target, and q or ctrl+c quit at once, cancelling
// the connect.
func TestConnectingScreenAndQuit(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		t.Run(k, func(t *testing.T) {
			clock := newClock()
			bc := newBlockingConnect()
			m := New(Options{Connect: bc.connect, Target: maskedTarget, Now: clock.now})
			m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
			batch, ok := m.Init()().(tea.BatchMsg)
			if !ok || len(batch) == 0 {
				t.Fatal("Init returned no batch")
			}
			done := make(chan tea.Msg, 1)
			go func() { done <- batch[0]() }() // the connect, as the runtime would run it
			waitClosed(t, bc.started, "the connect")

			v := m.View()
			s := screen(&harness{m: m})
			if !strings.Contains(s, "connecting to "+maskedTarget+"…") || !strings.Contains(s, "q quits") {
				t.Fatalf("the screen does not say what it connects to:\n%s", s)
			}
			if v.WindowTitle != "currentop — "+maskedTarget {
				t.Errorf("window title %q", v.WindowTitle)
			}
			clock.advance(4 * time.Second)
			if s := screen(&harness{m: m}); !strings.Contains(s, "connecting to "+maskedTarget+"… 4s") {
				t.Errorf("a slow connect does not show its age:\n%s", s)
			}

			// Keys that ask for data wait for the connection instead of failing.
			for _, other := range []string{"R", "i"} {
				if _, cmd := m.Update(keyMsg(other)); cmd != nil {
					t.Errorf("%s while connecting started %T", other, cmd())
				}
			}
			if m.loop.inFlight || m.loop.lastErr != nil {
				t.Fatalf("a fetch without a source: in flight %v, error %v", m.loop.inFlight, m.loop.lastErr)
			}
			_, cmd := m.Update(keyMsg(k))
			if cmd == nil {
				t.Fatal("no command, want tea.Quit")
			}
			if _, ok := cmd().(tea.QuitMsg); !ok {
				t.Fatal("the key does not quit")
			}
			waitClosed(t, bc.cancelled, "the connect's cancellation")
			if msg := <-done; msg != nil {
				t.Errorf("the cancelled connect sent %T; the program has ended", msg)
			}
		})
	}
}

// Once connected, the refresh loop runs on the opened source, and kill is offered when it can.
func TestConnectThenRefresh(t *testing.T) {
	src := &fakeKiller{outcome: source.KillGone}
	src.set(smallSnapshot())
	var calls atomic.Int32
	h := newHarness(t, Options{Target: maskedTarget, Connect: func(ctx context.Context) (source.Source, error) {
		calls.Add(1)
		return src, ctx.Err()
	}})
	if calls.Load() != 1 || h.m.panes.shown == nil || h.m.loop.connecting {
		t.Fatalf("connect calls %d, snapshot shown %v, connecting %v", calls.Load(), h.m.panes.shown != nil, h.m.loop.connecting)
	}
	h.fireTick()
	if calls.Load() != 1 {
		t.Error("a refresh connected again")
	}
	h.selectSession("103")
	h.keys("k")
	if h.m.overlay != overlayConfirm {
		t.Fatalf("kill not offered on the connected source: %q", h.m.status.text)
	}
}

// A failed connect ends the program with its error.
func TestConnectFailureEndsProgram(t *testing.T) {
	want := errors.New("cannot reach mongodb://app:***@db1:27017/ within 5s: no answer — check host/port, firewall, TLS options")
	h := newHarness(t, Options{Target: maskedTarget, Connect: func(context.Context) (source.Source, error) { return nil, want }})
	if !h.quitting() || !errors.Is(h.m.fatal, want) {
		t.Fatalf("quitting %v, fatal %v", h.quitting(), h.m.fatal)
	}
}

// closerSource records Close.
type closerSource struct {
	fakeSource
	closed chan struct{}
}

func (c *closerSource) Close() error { close(c.closed); return nil }

// The real program: q while connecting ends it at once, and a source the connect opened
// anyway is closed.
func TestProgramQuitsWhileConnecting(t *testing.T) {
	bc := newBlockingConnect()
	opened := &closerSource{closed: make(chan struct{})}
	bc.result = opened
	inR, inW := io.Pipe()
	defer inW.Close()
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, Options{Connect: bc.connect, Target: maskedTarget}, tea.WithContext(ctx), tea.WithInput(inR),
			tea.WithOutput(&out), tea.WithWindowSize(100, 30), tea.WithEnvironment([]string{"TERM=xterm-256color"}), tea.WithoutSignals())
	}()
	waitClosed(t, bc.started, "the connect")
	for !strings.Contains(out.String(), "connecting to") {
		select {
		case err := <-done:
			t.Fatalf("the program ended (%v) before drawing", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, err := inW.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("q did not end the program while connecting")
	}
	waitClosed(t, bc.cancelled, "the connect's cancellation")
	waitClosed(t, opened.closed, "closing the source opened after the quit")
}

// A refused kill (the opid now names another operation) leaves nothing selected, so the next
// k cannot offer the new operation, and the status line says why.
func TestRefusedKillLeavesNothingSelected(t *testing.T) {
	h, src := started(t, Options{})
	src.outcome = source.KillRefused
	h.selectSession("103")
	h.keys("k", "y")
	// The next refresh lists another operation under the same opid.
	reused := smallSnapshot()
	for i := range reused.Sessions {
		if reused.Sessions[i].ID == "103" {
			reused.Sessions[i].Client, reused.Sessions[i].NS, reused.Sessions[i].RunningUS = "10.9.9.9:5000", "hr.salaries", 1000
		}
	}
	src.set(reused)
	h.fireTick()

	if r := h.m.panes.sess.selected(); r != nil {
		t.Fatalf("after a refused kill %s is selected", r.s.ID)
	}
	for _, want := range []string{"103 refused", "another operation", "no row is selected"} {
		if !strings.Contains(h.m.status.text, want) {
			t.Errorf("status %q lacks %q", h.m.status.text, want)
		}
	}
	s := screen(h)
	if strings.Contains(s, "▸") {
		t.Errorf("a row is shown selected:\n%s", s)
	}
	if !strings.Contains(statusLineOf(s), "no row is selected") {
		t.Errorf("the status line does not say why:\n%s", s)
	}
	h.keys("k")
	if h.m.overlay == overlayConfirm || len(src.killed) != 1 {
		t.Fatalf("k offered a kill with nothing selected (confirm %v, kills %d)", h.m.confirm.targets, len(src.killed))
	}
	if !strings.Contains(h.m.status.text, "no session selected") {
		t.Errorf("status %q", h.m.status.text)
	}
	// Moving picks a row again, explicitly.
	h.keys("down")
	if h.m.panes.sess.selected() == nil {
		t.Fatal("moving did not select a row")
	}
}

func statusLineOf(s string) string {
	l := strings.Split(s, "\n")
	if len(l) < 2 {
		return ""
	}
	return l[len(l)-2]
}
