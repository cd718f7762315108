package badger

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	bdg "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Options configures a Store. The zero value of each tuning field picks a
// default sized for a single-machine control plane: a store of 10,000
// objects of ~1.5 KiB stays well under 100 MB RSS.
type Options struct {
	// Dir holds the database. Required unless InMemory.
	Dir string
	// InMemory keeps everything in memory (tests). Values are then limited
	// to about 1 MiB.
	InMemory bool
	// HistorySize is the number of recent events kept in memory for watches
	// and lists at older revisions (0: watchhist.DefaultSize). The history
	// starts empty at every Open.
	HistorySize int
	// Logger receives the store's and badger's warnings and errors (nil:
	// discarded).
	Logger *slog.Logger

	// MemTableSize is the size of one badger memtable (0: 8 MiB). A write
	// batch is limited to 15% of it; values over ValueThreshold do not count.
	MemTableSize int64
	// NumMemtables is how many memtables may be in memory, the active one
	// included (0: 3).
	NumMemtables int
	// BlockCacheSize is badger's block cache (0: 16 MiB).
	BlockCacheSize int64
	// IndexCacheSize is badger's table-index cache (0: 8 MiB).
	IndexCacheSize int64
	// ValueThreshold is the value size from which badger stores values in
	// its value log rather than inline in the tree (0: 64 KiB; InMemory
	// stores keep every value inline).
	ValueThreshold int64
	// MaxBatch is the most writes committed (and synced) together (0: 256).
	MaxBatch int
	// ValueLogGCInterval is how often value-log garbage collection runs
	// (0: 10 minutes; negative: never).
	ValueLogGCInterval time.Duration
}

// Defaults for Options' zero values.
const (
	DefaultMemTableSize       = 8 << 20
	DefaultNumMemtables       = 3
	DefaultBlockCacheSize     = 16 << 20
	DefaultIndexCacheSize     = 8 << 20
	DefaultValueThreshold     = 64 << 10
	DefaultMaxBatch           = 256
	DefaultValueLogGCInterval = 10 * time.Minute
	inMemoryValueThreshold    = 1 << 20
)

func (o Options) withDefaults() (Options, error) {
	if o.Dir == "" && !o.InMemory {
		return o, errors.New("badger store: Dir is required unless InMemory")
	}
	if o.HistorySize < 0 || o.MemTableSize < 0 || o.NumMemtables < 0 || o.BlockCacheSize < 0 ||
		o.IndexCacheSize < 0 || o.ValueThreshold < 0 || o.MaxBatch < 0 {
		return o, fmt.Errorf("badger store: negative size in options %+v", o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.MemTableSize = orDefault(o.MemTableSize, DefaultMemTableSize)
	o.NumMemtables = orDefault(o.NumMemtables, DefaultNumMemtables)
	o.BlockCacheSize = orDefault(o.BlockCacheSize, DefaultBlockCacheSize)
	o.IndexCacheSize = orDefault(o.IndexCacheSize, DefaultIndexCacheSize)
	o.ValueThreshold = orDefault(o.ValueThreshold, DefaultValueThreshold)
	if o.InMemory {
		o.ValueThreshold = inMemoryValueThreshold
	}
	o.MaxBatch = orDefault(o.MaxBatch, DefaultMaxBatch)
	o.ValueLogGCInterval = orDefault(o.ValueLogGCInterval, DefaultValueLogGCInterval)
	return o, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// badgerOptions maps Options onto badger's. Every write is synced (an
// acknowledged write survives kill -9); the store's own group commit makes
// that affordable. Conflict detection is off: one goroutine does all writes.
// Blocks are not compressed and tables are 1 MiB: a control plane's data is
// small, and the table builders' buffers (twice the table size, pooled)
// and compression buffers were most of badger's memory at 10,000 pods
// (about 55 MB less live heap with these). Level 0 is compacted at 10
// tables rather than 5: each compaction builds up to 8 tables at once, and
// badger keeps their buffers pooled while writes go on, so a burst of writes
// (10,000 pods starting) compacts less often (about 20 MB less peak heap).
// Tables written compressed by an earlier kl stay readable: badger records
// each table's compression.
func (o Options) badgerOptions() bdg.Options {
	dir := o.Dir
	if o.InMemory {
		dir = ""
	}
	return bdg.DefaultOptions(dir).
		WithInMemory(o.InMemory).
		WithSyncWrites(!o.InMemory).
		WithLogger(badgerLogger{o.Logger}).
		WithMetricsEnabled(false).
		WithDetectConflicts(false).
		WithMemTableSize(o.MemTableSize).
		WithNumMemtables(o.NumMemtables).
		WithBlockCacheSize(o.BlockCacheSize).
		WithIndexCacheSize(o.IndexCacheSize).
		WithValueThreshold(o.ValueThreshold).
		WithValueLogFileSize(64 << 20).
		WithCompression(options.None).
		WithBaseTableSize(1 << 20).
		WithNumCompactors(2).
		WithNumLevelZeroTables(10).
		WithNumLevelZeroTablesStall(20).
		WithNumGoroutines(2)
}

// badgerLogger routes badger's warnings and errors to slog and drops its
// info and debug chatter.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(format string, args ...any) {
	b.l.Error("badger: " + strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (b badgerLogger) Warningf(format string, args ...any) {
	b.l.Warn("badger: " + strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
