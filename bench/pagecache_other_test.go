//go:build !linux

package bench

import "testing"

// residentPages is unknown off Linux.
func residentPages(*testing.T, string) int { return -1 }
