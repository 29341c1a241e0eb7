package wal

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkAppend measures acknowledged (fdatasync'd) appends with 1, 8 and
// 64 concurrent writers sharing group commits. ns/op is per append across
// all writers; appends/s and MB/s are aggregate throughput.
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{4 << 10, 256 << 10} {
		for _, writers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("size=%dKiB/writers=%d", size>>10, writers), func(b *testing.B) {
				benchmarkAppend(b, size, writers)
			})
		}
	}
}

func benchmarkAppend(b *testing.B, size, writers int) {
	l, _, _ := openReplayed(b, b.TempDir(), Options{})
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var left atomic.Int64
	left.Store(int64(b.N))
	b.ResetTimer()
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if _, err := l.Append(payload); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	mustClose(b, l)
}
