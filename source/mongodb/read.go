package mongodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Caps on one read of $currentOp (the sessions, the clients, a mongos's idle connections):
// a server with more, or one that never ends its cursor, is read up to here, the cursor is
// closed (killCursors) and the snapshot says what it shows. They bound the monitor's memory
// and work per refresh whatever the server sends.
const (
	MaxReadDocs  = 100_000
	MaxReadBytes = 64 << 20
)

// readBatchSize is the documents per batch asked of the server: the driver decodes a whole
// batch at once, so this bounds what one step of a read holds beyond the caps.
const readBatchSize = 1000

// readLimits are the caps a Source applies (tests lower them).
type readLimits struct{ docs, bytes int }

var defaultLimits = readLimits{docs: MaxReadDocs, bytes: MaxReadBytes}

// readStop says why a read ended before the server's cursor did.
type readStop int

const (
	readComplete readStop = iota
	readCapDocs           // the document cap
	readCapBytes          // the byte cap
	readSlow              // the timeout, after the server had answered
)

// readResult is what a read got through.
type readResult struct {
	docs  int
	bytes int
	stop  readStop
}

// read runs a $currentOp pipeline on admin and hands each document to visit (the document is
// valid only during the call), within the Source's caps and timeout; visit returns false
// when what it holds has reached the document cap its own way (client addresses). Running out
// of caps or of time once the server has answered is not an error: the result says where the
// read stopped. Other failures are explained errors.
func (s *Source) read(ctx context.Context, pipeline bson.A, visit func(bson.Raw) bool) (readResult, error) {
	var r readResult
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	cur, err := s.client.Database("admin").Aggregate(rctx, pipeline,
		options.Aggregate().SetBatchSize(readBatchSize).SetComment(ownComment))
	if err != nil {
		return r, s.explain(err, "run $currentOp on")
	}
	defer func() {
		// Kills the server's cursor when the read stopped early.
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
		defer ccancel()
		_ = cur.Close(cctx)
	}()
	lim := s.caps()
	for cur.Next(rctx) {
		switch {
		case r.docs >= lim.docs:
			r.stop = readCapDocs
		case r.bytes+len(cur.Current) > lim.bytes:
			r.stop = readCapBytes
		}
		if r.stop != readComplete {
			return r, nil
		}
		r.docs++
		r.bytes += len(cur.Current)
		if !visit(cur.Current) {
			r.stop = readCapDocs
			return r, nil
		}
	}
	err = cur.Err()
	switch {
	case err == nil:
		return r, nil
	case ctx.Err() != nil:
		return r, s.explain(err, "read $currentOp from")
	case errors.Is(err, context.DeadlineExceeded) || mongo.IsTimeout(err):
		r.stop = readSlow
		return r, nil
	}
	// The server answered, then the read failed (a dropped connection, a server error).
	return r, s.redact(fmt.Errorf("%s answered $currentOp but the read failed after %d documents: %w — try again; if it persists, check the server's log", s.target, r.docs, err))
}

// aggregate runs a $currentOp pipeline on admin and returns every document, within the caps.
func (s *Source) aggregate(ctx context.Context, pipeline bson.A) ([]bson.Raw, error) {
	var docs []bson.Raw
	_, err := s.read(ctx, pipeline, func(d bson.Raw) bool {
		docs = append(docs, slices.Clone(d))
		return true
	})
	return docs, err
}

func (s *Source) caps() readLimits {
	if s.limits == (readLimits{}) {
		return defaultLimits
	}
	return s.limits
}

// stopped says why a read that stopped early shows only part of the server's answer, and
// what the user can do; "" when the read was complete. what names what the document cap
// counts ("$currentOp documents", "client addresses").
func (s *Source) stopped(r readResult, what string) string {
	lim := s.caps()
	switch r.stop {
	case readCapDocs:
		return fmt.Sprintf("the server listed more than %s %s (the most one read takes); hide idle connections or narrow with --filter", thousands(lim.docs), what)
	case readCapBytes:
		return fmt.Sprintf("the server sent more than %s of $currentOp documents (the most one read takes); hide idle connections or narrow with --filter", sizeString(lim.bytes))
	case readSlow:
		return fmt.Sprintf("the server answered but did not finish sending $currentOp within %s (--timeout); raise --timeout or narrow with --filter", s.timeout.Round(time.Millisecond))
	}
	return ""
}

func sizeString(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%s bytes", thousands(n))
}

// thousands formats n with spaces between groups of three digits ("100 000").
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}
