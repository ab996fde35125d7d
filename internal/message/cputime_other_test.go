//go:build !unix

package message

import "time"

// cpuTime is not available here; reports zero.
func cpuTime() time.Duration { return 0 }
