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
	p := tea.NewProgram(New(opts), popts...)
	_, err := p.Run()
	switch {
	case err == nil, errors.Is(err, tea.ErrInterrupted):
		return nil
	case errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		return nil
	}
	return fmt.Errorf("ui: %w", err)
}
