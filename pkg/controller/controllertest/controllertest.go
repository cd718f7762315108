// Package controllertest helps test kl's controllers.
//
// Unit tests: Source is an in-memory list+watch source that feeds an
// informer from a test's objects (no apiserver: fast and deterministic);
// StartInformer runs such an informer for the test; EventCounter tells
// when a controller's event handlers have seen a change.
//
// Integration tests: StartAPIServer runs a real in-process apiserver
// (memory storage, loopback port); StartFakeKubelet plays the kubelets,
// marking pods Running and Ready as they appear.
package controllertest

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
)

// Source is an in-memory informer.ListerWatcher: List returns the objects
// it holds, Watch streams the changes made with Add, Update and Delete
// after the resourceVersion it is asked for. Every change gets the next
// resourceVersion. Source keeps its own copies: the objects given to it
// are not modified, and changing them afterwards does not change it.
type Source[PT meta.Object] struct {
	mu       sync.Mutex
	rv       int64
	objs     map[string]PT
	history  []client.Event[PT]
	watchers []chan client.Event[PT]
}

var _ informer.ListerWatcher[meta.Object] = (*Source[meta.Object])(nil)

// NewSource returns a Source holding copies of objs.
func NewSource[PT meta.Object](objs ...PT) *Source[PT] {
	s := &Source[PT]{objs: map[string]PT{}}
	for _, o := range objs {
		s.rv++
		o = deepCopy(o)
		o.GetObjectMeta().ResourceVersion = strconv.FormatInt(s.rv, 10)
		s.objs[informer.Key(o)] = o
	}
	return s
}

// deepCopy copies obj through JSON, as an apiserver would hand out a new
// object.
func deepCopy[PT meta.Object](obj PT) PT {
	data, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	out := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(PT)
	if err := json.Unmarshal(data, out); err != nil {
		panic(err)
	}
	return out
}

// List implements informer.ListerWatcher; options are ignored.
func (s *Source[PT]) List(_ context.Context, _ client.ListOptions) ([]PT, meta.ListMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PT, 0, len(s.objs))
	for _, o := range s.objs {
		out = append(out, o)
	}
	return out, meta.ListMeta{ResourceVersion: strconv.FormatInt(s.rv, 10)}, nil
}

// Watch implements informer.ListerWatcher: it streams the changes made
// after opts.ResourceVersion, until ctx ends. Selectors are ignored.
func (s *Source[PT]) Watch(ctx context.Context, opts client.ListOptions) (<-chan client.Event[PT], error) {
	from, _ := strconv.ParseInt(opts.ResourceVersion, 10, 64)
	ch := make(chan client.Event[PT], 1024)
	s.mu.Lock()
	for _, ev := range s.history {
		if rv, _ := strconv.ParseInt(ev.Object.GetObjectMeta().ResourceVersion, 10, 64); rv > from {
			ch <- ev
		}
	}
	s.watchers = append(s.watchers, ch)
	s.mu.Unlock()
	out := make(chan client.Event[PT])
	go func() {
		defer close(out)
		defer func() {
			s.mu.Lock()
			s.watchers = slices.DeleteFunc(s.watchers, func(c chan client.Event[PT]) bool { return c == ch })
			s.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-ch:
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// Add adds a copy of obj (or replaces the object with its key).
func (s *Source[PT]) Add(obj PT) { s.change(meta.Added, obj) }

// Update replaces the object with obj's key by a copy of obj.
func (s *Source[PT]) Update(obj PT) { s.change(meta.Modified, obj) }

// Delete removes the object with obj's key.
func (s *Source[PT]) Delete(obj PT) { s.change(meta.Deleted, obj) }

func (s *Source[PT]) change(typ string, obj PT) {
	obj = deepCopy(obj)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rv++
	obj.GetObjectMeta().ResourceVersion = strconv.FormatInt(s.rv, 10)
	if typ == meta.Deleted {
		delete(s.objs, informer.Key(obj))
	} else {
		s.objs[informer.Key(obj)] = obj
	}
	ev := client.Event[PT]{Type: typ, Object: obj}
	s.history = append(s.history, ev)
	for _, w := range s.watchers {
		w <- ev
	}
}

// StartInformer runs inf until the test ends and waits for its cache to
// sync.
func StartInformer[PT meta.Object](t testing.TB, inf *informer.Informer[PT]) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = inf.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	wait, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	if !informer.WaitForCacheSync(wait, inf) {
		t.Fatal("informer did not sync within 10s")
	}
}

// StartAPIServer runs an in-memory apiserver on a loopback port until the
// test ends and returns a client for it (no rate limiting, 30s timeout).
func StartAPIServer(t testing.TB) *client.Client {
	t.Helper()
	c, _ := StartAPIServerURL(t)
	return c
}

// StartAPIServerURL is StartAPIServer that also returns the server's URL.
func StartAPIServerURL(t testing.TB) (*client.Client, string) {
	t.Helper()
	url := apiservertest.Start(t)
	return apiservertest.Client(t, url), url
}

// Eventually polls cond every 10ms until it returns nil, failing the test
// with cond's last error after timeout.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// EventCounter counts the notifications an informer delivered to it. Its
// handler, added after a controller's, runs after the controller's for
// each change, so a test that waits for the count knows the controller's
// handlers have seen the change too.
type EventCounter struct {
	mu sync.Mutex
	n  int
}

// CountEvents adds an EventCounter handler to inf; add it after the
// controller's handlers.
func CountEvents[PT meta.Object](inf *informer.Informer[PT]) *EventCounter {
	c := &EventCounter{}
	inc := func() {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	inf.AddEventHandler(informer.HandlerFuncs[PT]{
		AddFunc:    func(PT) { inc() },
		UpdateFunc: func(PT, PT) { inc() },
		DeleteFunc: func(PT, bool) { inc() },
	})
	return c
}

// Count returns the notifications seen so far.
func (c *EventCounter) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Wait waits (up to 10s) until n notifications have been seen.
func (c *EventCounter) Wait(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("informer delivered %d notifications in 10s, want %d", c.Count(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
