package watchhist

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkFanout appends events (batches of 16, as a group commit would)
// while watchers read them all: the cost of delivering one write to every
// watcher. The writer is paced to stay within the history, so it measures
// delivery, not ErrGone.
func BenchmarkFanout(b *testing.B) {
	for _, watchers := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("watchers=%d", watchers), func(b *testing.B) {
			h := New(DefaultSize, 0)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var wg sync.WaitGroup
			total := int64(b.N)
			seen := make([]atomic.Int64, watchers)
			failed := make(chan error, watchers)
			for w := range watchers {
				ch, err := h.Watch(ctx, "/registry/", 0)
				if err != nil {
					b.Fatal(err)
				}
				wg.Go(func() {
					for r := range ch {
						if r.Err != nil {
							failed <- r.Err
							return
						}
						seen[w].Store(r.Event.KV.ModRevision)
						if r.Event.KV.ModRevision == total {
							return
						}
					}
				})
			}
			value := make([]byte, 1500)
			batch := make([]Entry, 0, 16)
			slowest := func() int64 {
				low := total
				for i := range seen {
					low = min(low, seen[i].Load())
				}
				return low
			}
			b.ResetTimer()
			for rev := int64(1); rev <= total; rev++ {
				batch = append(batch, putEntry(fmt.Sprintf("/registry/pods/ns/p%d", rev), "", rev, 0, ""))
				batch[len(batch)-1].Event.KV.Value = value
				if len(batch) == cap(batch) || rev == total {
					h.Append(batch...)
					batch = batch[:0]
				}
				for rev-slowest() > DefaultSize/2 && len(failed) == 0 {
					runtime.Gosched()
				}
			}
			wg.Wait()
			close(failed)
			for err := range failed {
				b.Fatal(err)
			}
		})
	}
}
