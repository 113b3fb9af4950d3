package ui

import "github.com/currentop/currentop/source"

// The UI's only door to the filter language of package source.

// parseFilter parses the filter bar's text.
func parseFilter(text string) (source.Filter, error) { return source.ParseFilter(text) }

// matchSession reports whether s passes f.
func matchSession(f source.Filter, s *source.Session) bool { return f.Match(s) }

// matchClient reports whether c passes the terms of f that apply to clients.
func matchClient(f source.Filter, c *source.Client) bool { return f.MatchClient(c) }
