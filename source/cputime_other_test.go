//go:build !unix

package source

import "time"

func processCPU() time.Duration { return 0 }
