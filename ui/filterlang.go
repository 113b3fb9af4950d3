package ui

import "github.com/currentop/currentop/source"

// The UI's only door to the filter language of package source.

// parseFilter parses the filter bar's text.
func parseFilter(text string) (source.Filter, error) { return source.ParseFilter(text) }

// matchFolded reports whether s passes f; folded is its free-text haystack (source.Fold).
func matchFolded(f source.Filter, s *source.Session, folded string) bool {
	return f.MatchFolded(s, folded)
}

// foldAll is every session's free-text haystack, in the order of ss.
func foldAll(ss []source.Session) []string { return source.Fold(ss) }

func foldSession(s *source.Session) string { return source.FoldSession(s) }

// matchClient reports whether c passes the terms of f that apply to clients.
func matchClient(f source.Filter, c *source.Client) bool { return f.MatchClient(c) }
