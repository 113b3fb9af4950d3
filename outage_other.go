//go:build !unix

package main

import "context"

// watchOutage needs SIGUSR1, which this platform lacks.
func (d *demo) watchOutage(context.Context) {}
