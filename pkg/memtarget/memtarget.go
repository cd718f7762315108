// Package memtarget keeps a Go process's memory near a target size. Go's
// collector lets the heap grow to twice its live data (GOGC=100) before it
// collects, so a server's memory is about twice what it holds. A target sets
// a soft memory limit (runtime/debug.SetMemoryLimit): as memory nears it,
// the collector runs sooner, trading CPU for memory.
//
// A fixed limit below what the process must hold makes the collector run
// back to back. The target never does that: the limit it sets always leaves
// room for new allocations of at least Headroom times the live heap, so
// once live data outgrows the target, the limit follows it up (and memory
// grows with the data, at a GOGC of Headroom*100 at worst).
package memtarget

import (
	"context"
	"log/slog"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Config configures a memory target.
type Config struct {
	// Target is the memory, in bytes, the process stays under while its
	// live data allows it (Go-managed memory, as SetMemoryLimit counts it:
	// heap, stacks and runtime metadata; not the program's text or files
	// mapped into memory). Zero or less: no target.
	Target int64
	// Headroom is the least room left for new allocations between two
	// collections, as a fraction of the live heap (0: 0.25).
	Headroom float64
	// Interval is how often the live heap is read (0: one second).
	Interval time.Duration
	// Logger receives a line when the limit leaves the target: the first
	// time at Info, then at Debug (nil: discarded).
	Logger *slog.Logger
}

// DefaultHeadroom is Config.Headroom's default.
const DefaultHeadroom = 0.25

func (c Config) withDefaults() Config {
	if c.Headroom <= 0 {
		c.Headroom = DefaultHeadroom
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Usage is what the limit depends on, in bytes.
type Usage struct {
	// LiveHeap is the heap the last collection found reachable.
	LiveHeap uint64
	// Overhead is the memory the runtime holds beside the heap's objects
	// and its free pages: goroutine stacks, runtime metadata and the unused
	// room in the heap's partly filled spans (which the collector cannot
	// hand to objects of other sizes).
	Overhead uint64
}

// Limit returns the memory limit for u: the target, or more when the live
// heap and the headroom it needs do not fit in it.
func (c Config) Limit(u Usage) int64 {
	c = c.withDefaults()
	need := float64(u.LiveHeap)*(1+c.Headroom) + float64(u.Overhead)
	if need > math.MaxInt64/2 {
		return math.MaxInt64
	}
	return max(c.Target, int64(need))
}

// ReadUsage reads the process's Usage from the runtime.
func ReadUsage() Usage {
	samples := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(samples)
	v := make([]uint64, len(samples))
	for i, s := range samples {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	live, total, objects, free, released := v[0], v[1], v[2], v[3], v[4]
	u := Usage{LiveHeap: live}
	if taken := objects + free + released; total > taken {
		u.Overhead = total - taken
	}
	return u
}

// Run keeps the memory limit at Limit(ReadUsage()) until ctx ends, then
// puts back the limit the process had before. It returns at once when
// cfg.Target is not positive.
func Run(ctx context.Context, cfg Config) {
	if cfg.Target <= 0 {
		return
	}
	cfg = cfg.withDefaults()
	before := debug.SetMemoryLimit(cfg.Target)
	defer debug.SetMemoryLimit(before)
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	current := cfg.Target
	told := false // the first time live memory outgrows the target is logged at Info
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		u := ReadUsage()
		limit := cfg.Limit(u)
		if limit == current {
			continue
		}
		if current == cfg.Target {
			level := slog.LevelDebug
			if !told {
				level, told = slog.LevelInfo, true
			}
			cfg.Logger.Log(ctx, level, "live memory outgrew the memory target: the limit follows it",
				"target", cfg.Target, "limit", limit, "liveHeap", u.LiveHeap, "overhead", u.Overhead)
		}
		debug.SetMemoryLimit(limit)
		current = limit
	}
}
