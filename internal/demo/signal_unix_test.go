//go:build unix

package demo

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// SIGUSR2 stops the replica set's member 1 and the next one brings it back.
func TestSIGUSR2TogglesASecondary(t *testing.T) {
	d := startDemo(t, Config{Topology: "replset", Outages: true, Timeout: 5 * time.Second})
	addr := d.rs.Members()[faultyMember].Addr()
	reachable := func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	for _, want := range []bool{false, true} {
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR2); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(guard)
		for reachable() != want {
			if time.Now().After(deadline) {
				t.Fatalf("member %s reachable=%v after SIGUSR2, want %v", addr, !want, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
