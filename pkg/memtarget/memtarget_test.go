package memtarget

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

const mib = 1 << 20

func TestLimitIsTheTargetUntilLiveDataNeedsMore(t *testing.T) {
	c := Config{Target: 240 * mib, Headroom: 0.25}
	for _, tc := range []struct {
		name string
		u    Usage
		want int64
	}{
		{"idle", Usage{LiveHeap: 20 * mib, Overhead: 10 * mib}, 240 * mib},
		{"just fits", Usage{LiveHeap: 176 * mib, Overhead: 20 * mib}, 240 * mib},
		{"outgrown: live plus a quarter plus overhead", Usage{LiveHeap: 400 * mib, Overhead: 40 * mib}, 540 * mib},
		{"absurd", Usage{LiveHeap: math.MaxUint64, Overhead: 0}, math.MaxInt64},
	} {
		if got := c.Limit(tc.u); got != tc.want {
			t.Errorf("%s: limit %d MiB, want %d MiB", tc.name, got/mib, tc.want/mib)
		}
	}
	// The default headroom is a quarter.
	if got := (Config{Target: 1}).Limit(Usage{LiveHeap: 100 * mib}); got != 125*mib {
		t.Errorf("default headroom: limit %d MiB, want 125", got/mib)
	}
}

func TestReadUsageSeesTheLiveHeap(t *testing.T) {
	hold := make([]byte, 64*mib)
	for i := range hold {
		hold[i] = 1
	}
	runtime.GC()
	u := ReadUsage()
	if u.LiveHeap < 64*mib {
		t.Errorf("live heap %d MiB while 64 MiB are held", u.LiveHeap/mib)
	}
	if u.Overhead == 0 {
		t.Error("no runtime overhead read")
	}
	runtime.KeepAlive(hold)
}

// Run sets the process's memory limit to the target, raises it when the live
// heap needs more, and puts the earlier limit back when it ends.
func TestRunSetsFollowsAndRestoresTheLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	target := int64(32 * mib)
	go func() {
		Run(ctx, Config{Target: target, Interval: 10 * time.Millisecond})
		close(done)
	}()
	waitLimit := func(what string, ok func(int64) bool) {
		t.Helper()
		for i := 0; i < 500; i++ {
			if ok(debug.SetMemoryLimit(-1)) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s: limit is %d MiB", what, debug.SetMemoryLimit(-1)/mib)
	}
	waitLimit("target set", func(l int64) bool { return l == target })

	hold := make([]byte, 64*mib) // more than the target
	for i := range hold {
		hold[i] = 1
	}
	runtime.GC()
	waitLimit("limit follows the live heap", func(l int64) bool { return l >= 80*mib })
	runtime.KeepAlive(hold)

	cancel()
	<-done
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Fatalf("limit after Run %d, want the earlier %d", got, before)
	}
}

func TestRunWithoutTargetLeavesTheLimitAlone(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	Run(context.Background(), Config{}) // returns at once
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Fatalf("limit %d, want %d", got, before)
	}
}
