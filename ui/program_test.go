package ui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// syncBuffer is a bytes.Buffer safe for the program's writer and the test's reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProgramRunsAndQuits runs the model in a real Bubble Tea program (no terminal): the
// first snapshot is drawn and q ends the program.
func TestProgramRunsAndQuits(t *testing.T) {
	src := &fakeKiller{}
	src.set(smallSnapshot())
	inR, inW := io.Pipe()
	defer inW.Close()
	var out syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // guards, not budgets
	defer cancel()
	p := tea.NewProgram(New(Options{Source: src}), tea.WithContext(ctx), tea.WithInput(inR), tea.WithOutput(&out),
		tea.WithWindowSize(100, 30), tea.WithEnvironment([]string{"TERM=xterm-256color"}), tea.WithoutSignals())
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out.String(), "shop.orders") {
		select {
		case <-deadline:
			t.Fatalf("the first snapshot was not drawn; output so far:\n%q", out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, err := inW.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("q did not end the program")
	}
}
