package mongodb

import (
	"context"
	"testing"
	"time"

	"github.com/currentop/currentop/internal/sim/mongod"
	"github.com/currentop/currentop/source"
)

// TestServerStatusRefused: a user granted inprog but not serverStatus (a custom role) gets
// its panes, with no vitals and VitalsErr saying serverStatus was refused; one with neither
// still fails to open.
func TestServerStatusRefused(t *testing.T) {
	users := append(testUsers[:len(testUsers):len(testUsers)],
		mongod.User{Name: "watcher", DB: "admin", Password: "watcher-Secret-5", Actions: []string{"inprog"}})
	srv := startSim(t, mongod.Options{Users: users})
	s := openSource(t, userURI(srv, "watcher", "watcher-Secret-5"))
	victim := rawClient(t, userURI(srv, "admin", "admin-Secret-2"), "victim-app")
	done := holdFind(t, victim, "refused", 10*time.Minute)
	t.Cleanup(func() { srv.DropConnections(); <-done })

	op := waitSession(t, s, source.Query{}, "holding the find", func(ss *source.Session) bool { return ss.NS == "test.refused" })
	if op.App != "victim-app" {
		t.Errorf("session app %q, want victim-app", op.App)
	}
	snap := snapshot(t, s, source.Query{})
	if source.KindOf(snap.VitalsErr) != source.ErrPermission {
		t.Errorf("VitalsErr = %v (kind %v), want a permission error", snap.VitalsErr, source.KindOf(snap.VitalsErr))
	}
	if snap.Server.Sample != nil || snap.Vitals != nil {
		t.Error("a snapshot without serverStatus has a sample or vitals")
	}
	if snap.Server.Kind != "mongod" || snap.Server.Version == "" {
		t.Errorf("server %+v: want its kind and version from hello and buildInfo", snap.Server)
	}
	if len(snap.Clients) == 0 {
		t.Error("no clients pane without serverStatus")
	}

	// With serverStatus the same snapshot has a sample and no VitalsErr.
	mon := openSource(t, userURI(srv, "mon", "mon-Secret-1"))
	if snap := snapshot(t, mon, source.Query{}); snap.VitalsErr != nil || snap.Server.Sample == nil {
		t.Errorf("clusterMonitor: VitalsErr %v, sample %v", snap.VitalsErr, snap.Server.Sample != nil)
	}

	// Without inprog either, nothing can be watched: Open says so.
	if _, err := Open(context.Background(), Config{URI: userURI(srv, "app", "app-Secret-3"), Timeout: 5 * time.Second}); source.KindOf(err) != source.ErrPermission {
		t.Errorf("readWrite user: Open error %v, want a permission error", err)
	}
}
