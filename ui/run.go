package ui

import (
	"context"
	"errors"
	"fmt"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// Run shows the full-screen UI until the user quits or ctx is done, and restores the
// terminal before returning.
func Run(ctx context.Context, opts Options) error {
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	// NO_COLOR means any non-empty value (no-color.org); colorprofile only honours booleans.
	if os.Getenv("NO_COLOR") != "" {
		popts = append(popts, tea.WithColorProfile(colorprofile.ASCII))
	}
	opts.ASCII = opts.ASCII || asciiTerminal(os.Getenv)
	return run(ctx, opts, popts...)
}

// run runs the program with popts (which carry ctx); tests give it their own input and output.
func run(ctx context.Context, opts Options, popts ...tea.ProgramOption) error {
	m := New(opts)
	p := tea.NewProgram(m, popts...)
	_, err := p.Run()
	// Whatever ended the program (q, a signal, ctx), the connect and the fetch in flight stop
	// now, and what Connect opened is closed without holding the terminal for long.
	m.stop()
	closeWithin(m.owned.release(), closeGrace)
	if m.fatal != nil {
		return m.fatal
	}
	switch {
	case err == nil, errors.Is(err, tea.ErrInterrupted):
		return nil
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return nil
	}
	return fmt.Errorf("ui: %w", err)
}
