package protocol

import (
	"testing"
	"time"
)

// BenchmarkEchoBudgetOverhead: what the memory budget adds to the echo
// path (one read, one masked binary frame, its echo written). The same echo
// runs with the budget off and on in alternating batches of 1000 reads, and
// the fastest batch of each is reported as off-ns/op and on-ns/op: on a
// machine shared with other work, noise only ever slows a batch down, so
// the minimum is the cost the code itself has, and alternating keeps both
// sides under the same conditions.
func BenchmarkEchoBudgetOverhead(b *testing.B) {
	const batch = 1000
	for _, size := range []int{64, 4 << 10} {
		b.Run(sizeName(size), func(b *testing.B) {
			echo := func(budget int64) func() {
				cfg := timerConfig()
				cfg.MemoryBudget = budget
				h := openDiscard(b, cfg)
				in := bin(make([]byte, size))
				buf := make([]byte, len(in))
				return func() {
					copy(buf, in)
					h.c.DataReceived(buf)
				}
			}
			off, on := echo(0), echo(1<<30)
			minOff, minOn := time.Duration(1<<62), time.Duration(1<<62)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for n := 0; n < b.N; n += 2 * batch {
				t0 := time.Now()
				for range batch {
					off()
				}
				t1 := time.Now()
				for range batch {
					on()
				}
				minOff, minOn = min(minOff, t1.Sub(t0)), min(minOn, time.Since(t1))
			}
			b.ReportMetric(float64(minOff)/batch, "off-ns/op")
			b.ReportMetric(float64(minOn)/batch, "on-ns/op")
		})
	}
}
