package badger_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/storage"
	"github.com/kl-dev/kl/pkg/storage/badger"
	"github.com/kl-dev/kl/pkg/storage/storagetest"
)

func open(t *testing.T, opts badger.Options) *badger.Store {
	t.Helper()
	s, err := badger.Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformanceInMemory(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Interface {
		return open(t, badger.Options{InMemory: true})
	})
}

func TestConformanceOnDisk(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Interface {
		return open(t, badger.Options{Dir: t.TempDir()})
	})
}

func TestHistory(t *testing.T) {
	storagetest.RunHistory(t, func(t *testing.T, historySize int) storage.Interface {
		return open(t, badger.Options{InMemory: true, HistorySize: historySize})
	})
}

func TestReopen(t *testing.T) {
	storagetest.RunReopen(t, func(t *testing.T, dir string) storage.Interface {
		return open(t, badger.Options{Dir: dir})
	})
}

func TestOpenRequiresDirUnlessInMemory(t *testing.T) {
	if s, err := badger.Open(badger.Options{}); err == nil {
		s.Close()
		t.Fatal("Open without Dir succeeded")
	}
	if s, err := badger.Open(badger.Options{InMemory: true, HistorySize: -1}); err == nil {
		s.Close()
		t.Fatal("Open with a negative history size succeeded")
	}
}

// TestValueSizes checks that values too large for one transaction fail
// cleanly (and the store goes on), while large values on disk, which go to
// badger's value log, round-trip.
func TestValueSizes(t *testing.T) {
	cases := []struct {
		name string
		opts func(t *testing.T) badger.Options
		size int
		ok   bool
	}{
		{"OnDisk2MiB", func(t *testing.T) badger.Options { return badger.Options{Dir: t.TempDir()} }, 2 << 20, true},
		{"InMemory512KiB", func(*testing.T) badger.Options { return badger.Options{InMemory: true} }, 512 << 10, true},
		{"InMemory2MiBFails", func(*testing.T) badger.Options { return badger.Options{InMemory: true} }, 2 << 20, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t, c.opts(t))
			defer s.Close()
			value := make([]byte, c.size) // random: the store does not shrink it
			rand.Read(value)
			_, err := s.Create(t.Context(), "/registry/configmaps/default/big", value)
			if c.ok != (err == nil) {
				t.Fatalf("Create of %d bytes: err = %v, want success %v", c.size, err, c.ok)
			}
			if c.ok {
				kv, err := s.Get(t.Context(), "/registry/configmaps/default/big")
				if err != nil || !bytes.Equal(kv.Value, value) {
					t.Fatalf("Get: %d bytes, %v", len(kv.Value), err)
				}
			}
			if _, err := s.Create(t.Context(), "/registry/configmaps/default/small", []byte("v")); err != nil {
				t.Fatalf("store unusable after a large write: %v", err)
			}
		})
	}
}

// TestConcurrentWritesLargerThanOneTransaction sends many concurrent writes
// whose values together exceed one badger transaction, so the writer must
// split its batches: every write must succeed once, with distinct
// revisions, and watchers must see them in order.
func TestConcurrentWritesLargerThanOneTransaction(t *testing.T) {
	s := open(t, badger.Options{Dir: t.TempDir(), MemTableSize: 4 << 20}) // batches of ~600 KB
	defer s.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := s.Watch(ctx, "/registry/", 0)
	if err != nil {
		t.Fatal(err)
	}
	value := bytes.Repeat([]byte{'v'}, 60<<10) // inline: counts against the batch size
	const writers, each = 32, 4
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.Create(ctx, fmt.Sprintf("/registry/cm/w%d/%d", g, i), value); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var last int64
	for range writers * each {
		select {
		case r := <-ch:
			if r.Err != nil || r.Event.KV.ModRevision != last+1 || len(r.Event.KV.Value) != len(value) {
				t.Fatalf("after revision %d got event at %d (%d bytes), err %v", last, r.Event.KV.ModRevision, len(r.Event.KV.Value), r.Err)
			}
			last = r.Event.KV.ModRevision
		case <-time.After(20 * time.Second):
			t.Fatalf("no event after revision %d", last)
		}
	}
	if n, err := s.Count(t.Context(), "/registry/cm/"); err != nil || n != writers*each {
		t.Fatalf("Count = %d, %v; want %d", n, err, writers*each)
	}
}
