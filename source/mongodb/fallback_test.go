package mongodb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/source"
)

// A server without the $currentOp stage but with the currentOp command: the operations still
// show, the monitor still hides itself, clients are derived, kill works, and every snapshot
// says how it was read.
func TestFallbackToCurrentOpCommand(t *testing.T) {
	srv := startSim(t, mongod.Options{Profile: mongod.ProfileNoCurrentOpStage})
	s := openSource(t, srv.URI())
	app := rawClient(t, srv.URI(), "legacy-app")
	done := holdFind(t, app, "legacy", 20*time.Second)

	target := waitSession(t, s, source.Query{}, "of the held find", func(ss *source.Session) bool { return ss.NS == "test.legacy" })
	if target.App != "legacy-app" || target.Op != "query" || !target.Active || target.ConnectionID == 0 {
		t.Errorf("held find read through currentOp: %+v", target)
	}
	snap := snapshot(t, s, source.Query{})
	if !snap.Partial || len(snap.Warnings) == 0 {
		t.Fatalf("no warning says the snapshot came from the currentOp command: %+v", snap.Warnings)
	}
	w := snap.Warnings[0]
	for _, want := range []string{"MongoDB 7.0.16", "no $currentOp aggregation stage", "FailedToParse", "currentOp command", "idle connections and clients may be missing"} {
		if !strings.Contains(w, want) {
			t.Errorf("warning %q lacks %q", w, want)
		}
	}
	if strings.Contains(w, "\n") {
		t.Errorf("warning spans lines: %q", w)
	}
	if snap.Server.Version != "7.0.16" || snap.Server.Connections.Current == 0 {
		t.Errorf("server facts: %+v", snap.Server)
	}
	for _, ss := range snap.Sessions {
		if strings.Contains(string(ss.Command), "currentOp") || strings.Contains(string(ss.Command), ownComment) {
			t.Errorf("the monitor's own command is listed: %+v", ss)
		}
	}
	var cli *source.Client
	for i := range snap.Clients {
		if snap.Clients[i].IP == "127.0.0.1" {
			cli = &snap.Clients[i]
		}
	}
	if cli == nil || cli.Active != 1 || len(cli.Apps) != 1 || cli.Apps[0] != "legacy-app" {
		t.Errorf("clients derived from the operations: %+v, want 127.0.0.1 with the held find active", snap.Clients)
	}

	// With the idle toggles, idle connections come through the command too.
	idle := snapshot(t, s, source.Query{IdleConnections: true})
	var idleConns int
	for _, ss := range idle.Sessions {
		if ss.Type == source.TypeIdle {
			idleConns++
		}
	}
	if idleConns == 0 {
		t.Errorf("no idle connection listed with IdleConnections (the test client's pool has some): %d sessions", len(idle.Sessions))
	}

	// The detail view reads the operation whole through the command too.
	whole, err := s.Detail(context.Background(), target)
	if err != nil || whole.ID != target.ID || len(whole.Raw) == 0 || !strings.Contains(string(whole.Command), "legacy") {
		t.Errorf("Detail through the currentOp command: %+v, %v", whole, err)
	}

	res := s.Kill(context.Background(), []source.Session{target})
	if len(res) != 1 || (res[0].Outcome != source.KillGone && res[0].Outcome != source.KillPending) {
		t.Fatalf("kill through the currentOp command: %+v", res)
	}
	select {
	case err := <-done:
		if !isCode(err, 11601) {
			t.Errorf("the killed client got %v, want error 11601 Interrupted", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the killed operation is still running")
	}
}

// FerretDB 1.x: buildInfo names it; its currentOp command lists nothing, and the snapshot says
// so instead of failing with FerretDB's parse error.
func TestFerretDBSnapshot(t *testing.T) {
	srv := startSim(t, mongod.Options{Profile: mongod.ProfileFerretDB})
	s := openSource(t, srv.URI())
	app := rawClient(t, srv.URI(), "ferret-app")
	holdFind(t, app, "ferret", 500*time.Millisecond) // in flight, yet FerretDB 1.x lists nothing
	snap, err := s.Snapshot(context.Background(), source.Query{})
	if err != nil {
		t.Fatalf("snapshot against FerretDB: %v", err)
	}
	if len(snap.Sessions) != 0 || len(snap.Clients) != 0 {
		t.Errorf("FerretDB's currentOp lists nothing, got %d sessions %d clients", len(snap.Sessions), len(snap.Clients))
	}
	if len(snap.Warnings) == 0 || !strings.HasPrefix(snap.Warnings[0], "FerretDB v1.24.0 has no $currentOp aggregation stage") {
		t.Fatalf("warnings %q: want the first to name FerretDB v1.24.0 and the missing stage", snap.Warnings)
	}
	t.Logf("warning: %s", snap.Warnings[0])
	// Later snapshots go straight to the command and keep the note.
	again := snapshot(t, s, source.Query{})
	if len(again.Warnings) == 0 || again.Warnings[0] != snap.Warnings[0] {
		t.Errorf("second snapshot warnings %q", again.Warnings)
	}
}

// Neither the stage nor the command: one line naming both, the server and the target.
func TestNoCurrentOpAtAll(t *testing.T) {
	srv := startSim(t, mongod.Options{Profile: mongod.ProfileNoCurrentOp})
	s := openSource(t, srv.URI())
	_, err := s.Snapshot(context.Background(), source.Query{})
	if err == nil {
		t.Fatal("snapshot succeeded against a server without $currentOp and currentOp")
	}
	msg := err.Error()
	t.Logf("error: %s", msg)
	for _, want := range []string{"the server (MongoDB 7.0.16)", srv.URI(), "neither the $currentOp aggregation stage", "FailedToParse", "nor the currentOp command (CommandNotFound)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") || strings.Contains(msg, "Invalid command format") {
		t.Errorf("error is not one clean line: %q", msg)
	}
	var ce mongo.CommandError
	if !errors.As(err, &ce) {
		t.Error("the server's error is not reachable with errors.As")
	}
}

// A server with the stage never switches to the command.
func TestNoFallbackWithTheStage(t *testing.T) {
	onTargets(t, mongod.Options{}, func(t *testing.T, uri string) {
		s := openSource(t, uri)
		snap := snapshot(t, s, source.Query{})
		if s.legacy.on.Load() {
			t.Fatal("switched to the currentOp command although $currentOp works")
		}
		for _, w := range snap.Warnings {
			if strings.Contains(w, "currentOp command") {
				t.Errorf("warning %q on a server with the stage", w)
			}
		}
	})
}

func TestNoStageClassifies(t *testing.T) {
	cmdErr := func(code int32, name, msg string) error {
		return fmt.Errorf("cannot run $currentOp on x: %w", mongo.CommandError{Code: code, Name: name, Message: msg})
	}
	tests := []struct {
		err  error
		want bool
	}{
		{cmdErr(9, "FailedToParse", "Invalid command format: the 'aggregate' field must specify a collection name or 1"), true},
		{cmdErr(40324, "Location40324", "Unrecognized pipeline stage name: '$currentOp'"), true},
		{cmdErr(59, "CommandNotFound", "no such command: 'aggregate'"), true},
		{cmdErr(115, "CommandNotSupported", "aggregate is not supported"), true},
		{cmdErr(8000, "AtlasError", "$currentOp is not allowed in this atlas tier"), true},
		{cmdErr(8000, "AtlasError", "$where is not allowed in this atlas tier"), false},
		{cmdErr(9, "FailedToParse", "The 'idleConnections' parameter of the $currentOp stage must be a boolean value, but found: int"), false},
		{cmdErr(13, "Unauthorized", "not authorized on admin to execute command"), false},
		{cmdErr(51091, "Location51091", "Regular expression is invalid"), false},
		{context.DeadlineExceeded, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := noStage(tt.err); got != tt.want {
			t.Errorf("noStage(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
