//go:build unix

package bench

import (
	"os"
	"syscall"
)

// childPeakRSS is an ended child process's peak resident set (its rusage maxrss; kilobytes on
// Linux), 0 when unknown.
func childPeakRSS(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss) << 10
	}
	return 0
}
