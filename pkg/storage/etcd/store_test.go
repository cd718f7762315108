package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kl-dev/kl/pkg/storage"
	"github.com/kl-dev/kl/pkg/storage/etcd"
	"github.com/kl-dev/kl/pkg/storage/etcd/etcdtest"
	"github.com/kl-dev/kl/pkg/storage/storagetest"
)

// waitTimeout bounds every wait for something asynchronous; a passing run
// never comes close.
const waitTimeout = 30 * time.Second

// cluster is one real three-member etcd cluster shared by the subtests of
// TestEtcd (starting one takes seconds). Each store gets a prefix of its
// own, so it starts empty.
type cluster struct {
	*etcdtest.Cluster
	n atomic.Int64
}

func (c *cluster) open(t *testing.T, opts etcd.Options) *etcd.Store {
	t.Helper()
	if opts.Endpoints == nil {
		opts.Endpoints = c.Endpoints()
	}
	if opts.CompactionInterval == 0 {
		opts.CompactionInterval = -1 // compaction is global: only tests that ask for it
	}
	s, err := etcd.Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func (c *cluster) prefix() string { return fmt.Sprintf("/test%d", c.n.Add(1)) }

// TestEtcd runs everything that needs a cluster on one cluster. Killing a
// member comes last.
func TestEtcd(t *testing.T) {
	c := &cluster{Cluster: etcdtest.Start(t, 3)}
	t.Run("Conformance", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T) storage.Interface {
			return c.open(t, etcd.Options{Prefix: c.prefix()})
		})
	})
	t.Run("History", func(t *testing.T) {
		storagetest.RunHistory(t, func(t *testing.T, historySize int) storage.Interface {
			s := c.open(t, etcd.Options{Prefix: c.prefix(), WatchBufferSize: historySize})
			return &compacting{Store: s, history: int64(historySize)}
		})
	})
	t.Run("StoresOnOneClusterShareKeysRevisionsAndWatches", func(t *testing.T) { testShared(t, c) })
	t.Run("PrefixIsPrependedToKeys", func(t *testing.T) { testPrefix(t, c) })
	t.Run("CompactorKeepsOneIntervalOfHistory", func(t *testing.T) { testCompactor(t, c) })
	t.Run("WritesAndWatchesSurviveAKilledMember", func(t *testing.T) { testKilledMember(t, c) })
}

// compacting keeps etcd's history to the last history revisions, as
// RunHistory wants, by compacting after every write.
type compacting struct {
	*etcd.Store
	history int64
}

func (c *compacting) compact(ctx context.Context, rev int64, err error) (int64, error) {
	if err == nil && rev > c.history {
		if cerr := c.Store.Compact(ctx, rev-c.history); cerr != nil {
			return rev, cerr
		}
	}
	return rev, err
}

func (c *compacting) Create(ctx context.Context, key string, value []byte) (int64, error) {
	rev, err := c.Store.Create(ctx, key, value)
	return c.compact(ctx, rev, err)
}

func (c *compacting) Update(ctx context.Context, key string, value []byte, expected int64) (int64, error) {
	rev, err := c.Store.Update(ctx, key, value, expected)
	return c.compact(ctx, rev, err)
}

func (c *compacting) Delete(ctx context.Context, key string, expected int64) (storage.KeyValue, int64, error) {
	kv, rev, err := c.Store.Delete(ctx, key, expected)
	rev, err = c.compact(ctx, rev, err)
	return kv, rev, err
}

// testShared checks what several apiservers rely on: two stores (two
// clients, each preferring another member) see each other's writes at the
// same revisions, compare-and-swap holds between them, and a watch on one
// sees the writes made through the other.
func testShared(t *testing.T, c *cluster) {
	prefix := c.prefix()
	eps := c.Endpoints()
	a := c.open(t, etcd.Options{Prefix: prefix, Endpoints: eps})
	b := c.open(t, etcd.Options{Prefix: prefix, Endpoints: append(eps[1:len(eps):len(eps)], eps[0])})
	ctx := t.Context()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := b.Watch(wctx, "/registry/", 0)
	if err != nil {
		t.Fatal(err)
	}
	const key = "/registry/leases/kube-system/lock"
	r1, err := a.Create(ctx, key, []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(ctx, key, []byte("b")); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("Create through the second store: %v, want ErrAlreadyExists", err)
	}
	got, err := b.Get(ctx, key)
	if err != nil || got.ModRevision != r1 || string(got.Value) != "a" {
		t.Fatalf("Get through the second store = %+v, %v; want the first store's write at %d", got, err, r1)
	}
	r2, err := b.Update(ctx, key, []byte("b"), r1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Update(ctx, key, []byte("a2"), r1); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("stale Update through the first store: %v, want ErrConflict", err)
	}
	for i, want := range []struct {
		rev     int64
		value   string
		created bool
	}{{r1, "a", true}, {r2, "b", false}} {
		select {
		case r := <-ch:
			if r.Err != nil || r.Event.KV.ModRevision != want.rev || string(r.Event.KV.Value) != want.value || r.Event.Created != want.created {
				t.Fatalf("watch result %d = %+v, want %q at %d", i, r, want.value, want.rev)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("watch on the second store: no event %d", i)
		}
	}
	for _, s := range []*etcd.Store{a, b} {
		if rev, err := s.CurrentRevision(ctx); err != nil || rev < r2 {
			t.Fatalf("CurrentRevision = %d, %v; want >= %d on both stores", rev, err, r2)
		}
	}
}

// testPrefix checks the key layout: Prefix+key in etcd, and stores with
// other prefixes see nothing of it.
func testPrefix(t *testing.T, c *cluster) {
	ctx := t.Context()
	a := c.open(t, etcd.Options{Prefix: "/kl-a/"}) // the trailing slash is trimmed
	b := c.open(t, etcd.Options{Prefix: "/kl-b"})
	if _, err := a.Create(ctx, "/registry/pods/default/web", []byte("v")); err != nil {
		t.Fatal(err)
	}
	raw, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	resp, err := raw.Get(ctx, "/kl-a/registry/pods/default/web")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Fatalf("etcd key /kl-a/registry/pods/default/web: %v, %v; want the value written", resp, err)
	}
	if _, err := b.Get(ctx, "/registry/pods/default/web"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get through another prefix: %v, want ErrNotFound", err)
	}
	for _, s := range []*etcd.Store{a, b} {
		list, err := s.List(ctx, "/registry/", storage.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, kv := range list.Items {
			keys = append(keys, kv.Key)
		}
		want := ""
		if s == a {
			want = "/registry/pods/default/web"
		}
		if strings.Join(keys, ",") != want {
			t.Fatalf("List = %v, want [%s]", keys, want)
		}
	}
}

// testCompactor checks that a store compacts etcd by itself: a revision
// read before the writes of two intervals becomes ErrGone.
func testCompactor(t *testing.T, c *cluster) {
	ctx := t.Context()
	s := c.open(t, etcd.Options{Prefix: c.prefix(), CompactionInterval: 100 * time.Millisecond})
	old, err := s.Create(ctx, "/registry/pods/default/a", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "/registry/pods/default/a", []byte("w"), 0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		_, err := s.List(ctx, "/registry/pods/", storage.ListOptions{Revision: old - 1})
		if errors.Is(err, storage.ErrGone) {
			break
		}
		if err != nil {
			t.Fatalf("List at revision %d: %v, want success or ErrGone", old-1, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("revision %d still readable after %v with a 100ms compaction interval", old-1, waitTimeout)
		}
		time.Sleep(50 * time.Millisecond) // polling the compactor's effect
	}
	// What is current stays readable.
	if _, err := s.Get(ctx, "/registry/pods/default/a"); err != nil {
		t.Fatal(err)
	}
}

// testKilledMember SIGKILLs each member in turn (restarting it before the
// next), while a writer and a watcher run, so the member the client's
// watch stream is on dies at some point: every acknowledged write is then
// readable, and the watch (resumed from its last revision if etcd ended
// it for want of a leader) delivers each of them once, in order, without
// a gap.
func testKilledMember(t *testing.T, c *cluster) {
	ctx := t.Context()
	s := c.open(t, etcd.Options{Prefix: c.prefix()})
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(wctx, "/registry/", start)
	if err != nil {
		t.Fatal(err)
	}
	const perMember = 15
	writes := perMember * (len(c.Members) + 1)
	acked := map[int64]string{}
	for i := range writes {
		if m := i / perMember; i%perMember == 0 && m > 0 {
			if m > 1 {
				rctx, rcancel := context.WithTimeout(ctx, waitTimeout)
				err := c.Members[m-2].Restart(rctx)
				rcancel()
				if err != nil {
					t.Fatalf("restart member %d: %v", m-2, err)
				}
			}
			c.Members[m-1].Kill()
		}
		key := fmt.Sprintf("/registry/pods/default/p%02d", i)
		// A write in flight on the killed member fails, and one forwarded
		// to a killed leader is lost (etcd answers only after its request
		// timeout, 9s here): retry after 2s. A create that did commit
		// then answers AlreadyExists.
		var rev int64
		for attempt := 0; ; attempt++ {
			wc, wcancel := context.WithTimeout(ctx, 2*time.Second)
			rev, err = s.Create(wc, key, []byte("v"))
			wcancel()
			if err == nil || errors.Is(err, storage.ErrAlreadyExists) || attempt == 15 {
				break
			}
			time.Sleep(100 * time.Millisecond) // back-off while the cluster notices
		}
		if errors.Is(err, storage.ErrAlreadyExists) {
			kv, gerr := s.Get(ctx, key)
			if gerr != nil {
				t.Fatal(gerr)
			}
			rev, err = kv.ModRevision, nil
		}
		if err != nil {
			t.Fatalf("write %d after killing a member of three: %v", i, err)
		}
		acked[rev] = key
	}
	list, err := s.List(ctx, "/registry/", storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != writes {
		t.Fatalf("List has %d keys, want the %d acknowledged", len(list.Items), writes)
	}
	last, resumed := start, 0
	for seen := 0; seen < writes; {
		select {
		case r, ok := <-ch:
			if !ok || r.Err != nil {
				// etcd cancels a watch whose member has no leader for an
				// election timeout; a reader resumes from the last revision
				// it saw (as the apiserver's watch cache does). Gone would
				// mean lost history: that fails.
				if errors.Is(r.Err, storage.ErrGone) || resumed == 5 {
					t.Fatalf("watch ended with %v after revision %d (resumed %d times)", r.Err, last, resumed)
				}
				t.Logf("watch ended with %v after revision %d; resuming", r.Err, last)
				resumed++
				if ch, err = s.Watch(wctx, "/registry/", last); err != nil {
					t.Fatal(err)
				}
				continue
			}
			rev := r.Event.KV.ModRevision
			if rev <= last || acked[rev] != r.Event.KV.Key {
				t.Fatalf("watch event %s at %d after %d: out of order or not a write", r.Event.KV.Key, rev, last)
			}
			last = rev
			seen++
		case <-time.After(waitTimeout):
			t.Fatalf("watch stalled after revision %d", last)
		}
	}
}

func TestOpenValidatesOptions(t *testing.T) {
	cases := []struct {
		name string
		opts etcd.Options
		want string
	}{
		{"NoEndpoints", etcd.Options{}, "no endpoints"},
		{"EndpointNotAURL", etcd.Options{Endpoints: []string{"127.0.0.1:2379"}}, "not an http:// or https:// URL"},
		{"RelativePrefix", etcd.Options{Endpoints: []string{"http://127.0.0.1:1"}, Prefix: "kl"}, "must start with /"},
		{"CertWithoutKey", etcd.Options{Endpoints: []string{"http://127.0.0.1:1"}, CertFile: "c.pem"}, "needs both CertFile and KeyFile"},
		{"MissingCAFile", etcd.Options{Endpoints: []string{"https://127.0.0.1:1"}, CAFile: "/nonexistent/ca.pem"}, "read CA file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := etcd.Open(t.Context(), c.opts)
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded, want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open: %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestOpenFailsWhenEtcdIsUnreachable: an apiserver pointed at no etcd must
// say so at start, not hang.
func TestOpenFailsWhenEtcdIsUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	start := time.Now()
	s, err := etcd.Open(t.Context(), etcd.Options{Endpoints: []string{url}, DialTimeout: time.Second})
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded without etcd")
	}
	if !strings.Contains(err.Error(), "cannot reach etcd at "+url) {
		t.Fatalf("Open: %v, want it to name the endpoint", err)
	}
	if d := time.Since(start); d > waitTimeout {
		t.Fatalf("Open took %v with a 1s dial timeout", d)
	}
}
