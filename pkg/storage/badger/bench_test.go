package badger

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bdg "github.com/dgraph-io/badger/v4"

	"github.com/kl-dev/kl/pkg/storage"
)

// objectValue is a Running pod as kl stores it (2 KB of JSON; the store
// compresses it to about 950 bytes).
//
//go:embed testdata/pod.json
var objectValue []byte

var concurrencies = []int{1, 16, 64}

// runConcurrent runs b.N calls of do spread over n goroutines and reports
// throughput and latency percentiles.
func runConcurrent(b *testing.B, n int, do func(g, i int) error) {
	b.Helper()
	lat := make([][]time.Duration, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	b.ResetTimer()
	start := time.Now()
	for g := range n {
		count := b.N / n
		if g < b.N%n {
			count++
		}
		wg.Go(func() {
			lat[g] = make([]time.Duration, 0, count)
			for i := range count {
				t0 := time.Now()
				if err := do(g, i); err != nil {
					errs <- err
					return
				}
				lat[g] = append(lat[g], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)*50/100].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkCreate measures the store's create throughput on disk with
// synced writes, one object per call, from 1, 16 and 64 goroutines: the
// ceiling the apiserver's create path is compared to.
func BenchmarkCreate(b *testing.B) {
	for _, n := range concurrencies {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			runConcurrent(b, n, func(g, i int) error {
				_, err := s.Create(ctx, fmt.Sprintf("/registry/pods/ns%d/pod-%d", g, i), objectValue)
				return err
			})
		})
	}
}

// BenchmarkUpdate measures compare-and-swap updates of existing keys (each
// goroutine updates its own 100 keys in turn).
func BenchmarkUpdate(b *testing.B) {
	for _, n := range concurrencies {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			revs := make([][]int64, n)
			for g := range n {
				for i := range 100 {
					rev, err := s.Create(ctx, fmt.Sprintf("/registry/pods/ns%d/pod-%d", g, i), objectValue)
					if err != nil {
						b.Fatal(err)
					}
					revs[g] = append(revs[g], rev)
				}
			}
			runConcurrent(b, n, func(g, i int) error {
				k := i % 100
				rev, err := s.Update(ctx, fmt.Sprintf("/registry/pods/ns%d/pod-%d", g, k), objectValue, revs[g][k])
				revs[g][k] = rev
				return err
			})
		})
	}
}

// BenchmarkBadgerTxnPerWrite is the baseline the group commit replaces: one
// badger transaction per write with SyncWrites, committed concurrently.
// Badger's write goroutine batches concurrent commits but syncs its log once
// per transaction, so this stays near one write per sync.
func BenchmarkBadgerTxnPerWrite(b *testing.B) {
	for _, n := range concurrencies {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			opts, err := Options{Dir: b.TempDir()}.withDefaults()
			if err != nil {
				b.Fatal(err)
			}
			db, err := bdg.Open(opts.badgerOptions())
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			runConcurrent(b, n, func(g, i int) error {
				return db.Update(func(txn *bdg.Txn) error {
					return txn.Set([]byte(fmt.Sprintf("d/registry/pods/ns%d/pod-%d", g, i)), objectValue)
				})
			})
		})
	}
}

// BenchmarkList10k lists 10,000 objects of ~1.5 KiB, in one call and in
// pages of 500; it also reports the process RSS with the store loaded.
func BenchmarkList10k(b *testing.B) {
	for _, tc := range []struct {
		name  string
		limit int64
	}{{"all", 0}, {"pages=500", 500}} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			fill(b, s, 10000)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				n := 0
				opts := storage.ListOptions{Limit: tc.limit}
				for {
					res, err := s.List(ctx, "/registry/pods/", opts)
					if err != nil {
						b.Fatal(err)
					}
					n += len(res.Items)
					if !res.More {
						break
					}
					opts.StartKey = res.Items[len(res.Items)-1].Key + "\x00"
					opts.Revision = res.Revision
				}
				if n != 10000 {
					b.Fatalf("listed %d items, want 10000", n)
				}
			}
			if rss, ok := rssMB(); ok {
				b.ReportMetric(rss, "rss-MB")
			}
		})
	}
}

// fill creates n objects from 64 goroutines.
func fill(tb testing.TB, s *Store, n int) {
	tb.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Go(func() {
			for i := g; i < n; i += 64 {
				if _, err := s.Create(context.Background(), fmt.Sprintf("/registry/pods/ns%d/pod-%05d", i%10, i), objectValue); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}

// rssMB returns the resident set size of this process (Linux only).
func rssMB() (float64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err == nil
		}
	}
	return 0, false
}
