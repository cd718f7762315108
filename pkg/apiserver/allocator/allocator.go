// Package allocator hands out numbered slots (ClusterIPs, NodePorts) from a
// bitmap kept in the store itself, updated with compare-and-swap. Several
// apiservers sharing one store therefore never hand out the same slot.
package allocator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/kl-dev/kl/pkg/storage"
)

// ErrAllocated is returned when a requested slot is taken.
var ErrAllocated = errors.New("provided value is already allocated")

// ErrFull is returned when no slot is free.
var ErrFull = errors.New("range is full")

// ErrOutOfRange is returned for slots outside the range.
var ErrOutOfRange = errors.New("provided value is not in the valid range")

// Allocator allocates slots 0..size-1 recorded under one storage key.
type Allocator struct {
	// mu serialises this process's allocations: they all write one key, so
	// running them one at a time avoids compare-and-swap storms; CAS still
	// guards against other apiservers on the same store.
	mu    sync.Mutex
	store storage.Interface
	key   string
	size  int
	// desc is stored with the bitmap so a range change is detectable.
	desc string
}

// New returns an Allocator of size slots stored at key. desc describes the
// range (e.g. "10.96.0.0/16"); a stored bitmap for another range is reset.
func New(store storage.Interface, key string, size int, desc string) *Allocator {
	return &Allocator{store: store, key: key, size: size, desc: desc}
}

type record struct {
	Range string `json:"range"`
	Data  []byte `json:"data"`
}

// maxAttempts bounds compare-and-swap retries.
const maxAttempts = 64

// update runs fn on the current bitmap and stores the result with CAS.
func (a *Allocator) update(ctx context.Context, fn func(bits []byte) error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if attempt > 0 {
			// Another apiserver wrote meanwhile: back off a little, with jitter.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(rand.IntN(attempt*2+1)) * time.Millisecond):
			}
		}
		kv, err := a.store.Get(ctx, a.key)
		exists := err == nil
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("read allocations %s: %w", a.key, err)
		}
		bits := make([]byte, (a.size+7)/8)
		if exists {
			var rec record
			if err := json.Unmarshal(kv.Value, &rec); err != nil {
				return fmt.Errorf("decode allocations %s: %w", a.key, err)
			}
			if rec.Range == a.desc && len(rec.Data) == len(bits) {
				copy(bits, rec.Data)
			}
		}
		if err := fn(bits); err != nil {
			return err
		}
		data, err := json.Marshal(record{Range: a.desc, Data: bits})
		if err != nil {
			return err
		}
		if exists {
			_, err = a.store.Update(ctx, a.key, data, kv.ModRevision)
		} else {
			_, err = a.store.Create(ctx, a.key, data)
		}
		if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrAlreadyExists) {
			continue
		}
		if err != nil {
			return fmt.Errorf("write allocations %s: %w", a.key, err)
		}
		return nil
	}
	return fmt.Errorf("allocations %s: too many concurrent writers", a.key)
}

func get(bits []byte, i int) bool { return bits[i/8]&(1<<(i%8)) != 0 }
func set(bits []byte, i int)      { bits[i/8] |= 1 << (i % 8) }
func unset(bits []byte, i int)    { bits[i/8] &^= 1 << (i % 8) }

// Allocate takes slot i, or fails with ErrAllocated / ErrOutOfRange.
func (a *Allocator) Allocate(ctx context.Context, i int) error {
	if i < 0 || i >= a.size {
		return ErrOutOfRange
	}
	return a.update(ctx, func(bits []byte) error {
		if get(bits, i) {
			return ErrAllocated
		}
		set(bits, i)
		return nil
	})
}

// AllocateNext takes a free slot, starting the search at a random place so
// concurrent allocators rarely contend for the same one. skip marks slots
// never to hand out (e.g. a network address).
func (a *Allocator) AllocateNext(ctx context.Context, skip func(int) bool) (int, error) {
	var got int
	err := a.update(ctx, func(bits []byte) error {
		start := rand.IntN(a.size)
		for n := 0; n < a.size; n++ {
			i := (start + n) % a.size
			if !get(bits, i) && (skip == nil || !skip(i)) {
				set(bits, i)
				got = i
				return nil
			}
		}
		return ErrFull
	})
	return got, err
}

// Free reports whether slot i is free (a read, for dry runs).
func (a *Allocator) Free(ctx context.Context, i int) (bool, error) {
	if i < 0 || i >= a.size {
		return false, ErrOutOfRange
	}
	kv, err := a.store.Get(ctx, a.key)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	var rec record
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		return false, err
	}
	if rec.Range != a.desc || len(rec.Data)*8 < a.size {
		return true, nil
	}
	return !get(rec.Data, i), nil
}

// Release frees slot i (freeing a free slot is not an error).
func (a *Allocator) Release(ctx context.Context, i int) error {
	if i < 0 || i >= a.size {
		return nil
	}
	return a.update(ctx, func(bits []byte) error {
		unset(bits, i)
		return nil
	})
}

// Mark takes every slot in used (already-allocated values found in
// objects), so a lost or stale bitmap never hands them out again.
func (a *Allocator) Mark(ctx context.Context, used []int) error {
	return a.update(ctx, func(bits []byte) error {
		for _, i := range used {
			if i >= 0 && i < a.size {
				set(bits, i)
			}
		}
		return nil
	})
}
