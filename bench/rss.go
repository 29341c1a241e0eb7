package bench

import (
	"fmt"
	"os"
	"strings"
)

// The process's memory as the kernel counts it: what the benchmarks report, since the Go
// runtime's figures leave out what it has not yet returned or never managed.

// peakRSS is the process's high-water resident set (VmHWM), 0 where /proc is missing.
func peakRSS() int64 { return procStatusBytes("VmHWM:") }

// currentRSS is the process's resident set now (VmRSS), 0 where /proc is missing.
func currentRSS() int64 { return procStatusBytes("VmRSS:") }

// procStatusBytes reads a kB field of /proc/self/status.
func procStatusBytes(key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key) {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, key)), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}
