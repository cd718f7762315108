package allocator

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/kl-dev/kl/pkg/storage/memory"
)

func TestConcurrentAllocatorsOnOneStoreNeverShareASlot(t *testing.T) {
	store := memory.New(memory.Options{})
	defer store.Close()
	ctx := context.Background()
	// Two allocators on the same key stand for two apiservers.
	a := New(store, "/registry/ranges/x", 100, "r")
	b := New(store, "/registry/ranges/x", 100, "r")
	var mu sync.Mutex
	got := map[int]bool{}
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(al *Allocator) {
			defer wg.Done()
			n, err := al.AllocateNext(ctx, nil)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if got[n] {
				t.Errorf("slot %d handed out twice", n)
			}
			got[n] = true
		}([]*Allocator{a, b}[i%2])
	}
	wg.Wait()
	if _, err := a.AllocateNext(ctx, nil); !errors.Is(err, ErrFull) {
		t.Fatalf("allocating from a full range: %v, want ErrFull", err)
	}
	if err := a.Release(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if err := b.Allocate(ctx, 42); err != nil {
		t.Fatalf("re-allocating a released slot: %v", err)
	}
	if err := b.Allocate(ctx, 42); !errors.Is(err, ErrAllocated) {
		t.Fatalf("allocating a taken slot: %v, want ErrAllocated", err)
	}
	if err := b.Allocate(ctx, 100); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("allocating outside the range: %v, want ErrOutOfRange", err)
	}
}

func TestMarkAndSkip(t *testing.T) {
	store := memory.New(memory.Options{})
	defer store.Close()
	ctx := context.Background()
	a := New(store, "/k", 4, "r")
	if err := a.Mark(ctx, []int{1, 2}); err != nil {
		t.Fatal(err)
	}
	n, err := a.AllocateNext(ctx, func(i int) bool { return i == 0 })
	if err != nil || n != 3 {
		t.Fatalf("AllocateNext = %d, %v; want 3", n, err)
	}
	if free, _ := a.Free(ctx, 1); free {
		t.Fatalf("marked slot reported free")
	}
	// A bitmap stored for another range is not trusted.
	other := New(store, "/k", 4, "another")
	if free, _ := other.Free(ctx, 1); !free {
		t.Fatalf("slot of a different range reported taken")
	}
}
