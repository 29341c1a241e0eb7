//go:build !unix

package bench

import "os"

// childPeakRSS is not measured on this platform.
func childPeakRSS(*os.ProcessState) int64 { return 0 }
