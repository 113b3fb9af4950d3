//go:build unix

package main

import (
	"strings"
	"testing"
	"time"
)

// TestEndToEndQuitWhileConnecting runs the binary in a terminal against a server that accepts
// and never answers: the screen says what it connects to (password masked), and q or ctrl+c
// end the program at once with exit status 0 and no driver text, long before --timeout.
func TestEndToEndQuitWhileConnecting(t *testing.T) {
	for _, key := range []string{"q", "C-c"} {
		t.Run(key, func(t *testing.T) {
			e := newE2E(t)
			addr, _ := silentListener(t)
			e.run("new-session", "-d", "-s", "e2e", "-x", "120", "-y", "36",
				"TERM=xterm-256color "+shellQuote(e.bin)+" --timeout 10m "+shellQuote("mongodb://mon:hunter2@"+addr+"/")+"; echo EXIT=$?; sleep 30")
			e.findPid()
			target := "mongodb://mon:***@" + addr + "/"
			s := e.waitFor("the header naming the target while connecting", 10*time.Second, func(s string) bool {
				return strings.Contains(lines(s)[0], "connecting to "+target) && strings.Contains(s, "q quits")
			})
			if strings.Contains(s, "hunter2") {
				t.Fatalf("the password is on the screen:\n%s", s)
			}
			e.send(key)
			s = e.waitFor("EXIT=0 on the normal screen", exitGuard, func(s string) bool {
				return strings.Contains(s, "EXIT=0") && !strings.Contains(s, "currentop ·")
			})
			for _, bad := range append(driverInternals, "hunter2") {
				if strings.Contains(s, bad) {
					t.Errorf("the terminal shows %q after quitting:\n%s", bad, s)
				}
			}
		})
	}
}
