package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/storage"
)

func testListPrefix(t *testing.T, s storage.Interface) {
	// Created out of order; the neighbours share a string prefix with
	// /registry/pods/ but are not under it.
	keys := []string{
		"/registry/pods/ns2/b", "/registry/podsx/ns1/a", "/registry/pods/ns1/b",
		"/registry/pod/ns1/a", "/registry/pods/ns1/a", "/registry/services/ns1/a", "/registry/pods/ns10/a",
	}
	revs := map[string]int64{}
	for _, k := range keys {
		revs[k] = mustCreate(t, s, k, "value of "+k)
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"/registry/pods/", []string{"/registry/pods/ns1/a", "/registry/pods/ns1/b", "/registry/pods/ns10/a", "/registry/pods/ns2/b"}},
		{"/registry/pods/ns1/", []string{"/registry/pods/ns1/a", "/registry/pods/ns1/b"}},
		{"/registry/podsx/", []string{"/registry/podsx/ns1/a"}},
		{"/registry/nodes/", nil},
	}
	cur := mustRev(t, s)
	for _, c := range cases {
		t.Run(strings.Trim(c.prefix, "/"), func(t *testing.T) {
			res := mustList(t, s, c.prefix, storage.ListOptions{})
			var want []storage.KeyValue
			for _, k := range c.want {
				want = append(want, storage.KeyValue{Key: k, Value: []byte("value of " + k), ModRevision: revs[k], CreateRevision: revs[k]})
			}
			if d := diffItems(res.Items, want); d != "" {
				t.Fatalf("List(%q):%s", c.prefix, d)
			}
			if res.Revision != cur {
				t.Fatalf("List revision = %d, want current %d", res.Revision, cur)
			}
			if res.More || res.Remaining > 0 {
				t.Fatalf("unlimited List: More=%v Remaining=%d, want false and 0 (or -1)", res.More, res.Remaining)
			}
		})
	}
}

func testListEmpty(t *testing.T, s storage.Interface) {
	mustCreate(t, s, "/registry/pods/default/a", "v")
	rev := mustUpdate(t, s, "/registry/pods/default/a", "w", 0)
	res := mustList(t, s, "/registry/services/", storage.ListOptions{})
	if len(res.Items) != 0 || res.More {
		t.Fatalf("List of an empty prefix = %d items, More=%v", len(res.Items), res.More)
	}
	if res.Revision != rev {
		t.Fatalf("List revision = %d, want current %d", res.Revision, rev)
	}
}

// pageAll reads prefix in pages of limit at one revision (that of the first
// page, or rev when non-zero), checking More and Remaining on the way.
func pageAll(t *testing.T, s storage.Interface, prefix string, limit, rev int64) ([]storage.KeyValue, int64) {
	t.Helper()
	type remaining struct {
		page      int
		got, seen int64
	}
	var (
		items    []storage.KeyValue
		startKey string
		counts   []remaining
	)
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatalf("List(%q, limit %d) did not finish after %d pages", prefix, limit, page)
		}
		res := mustList(t, s, prefix, storage.ListOptions{Limit: limit, StartKey: startKey, Revision: rev})
		if rev == 0 {
			rev = res.Revision
		} else if res.Revision != rev {
			t.Fatalf("page %d read at revision %d, asked for %d", page, res.Revision, rev)
		}
		if int64(len(res.Items)) > limit {
			t.Fatalf("page %d has %d items, limit %d", page, len(res.Items), limit)
		}
		items = append(items, res.Items...)
		if !res.More {
			if res.Remaining > 0 {
				t.Fatalf("last page: Remaining = %d, want 0 or -1", res.Remaining)
			}
			break
		}
		if int64(len(res.Items)) != limit {
			t.Fatalf("page %d has %d items and More, want exactly the limit %d", page, len(res.Items), limit)
		}
		if res.Remaining >= 0 { // -1: unknown
			counts = append(counts, remaining{page, res.Remaining, int64(len(items))})
		}
		startKey = res.Items[len(res.Items)-1].Key + "\x00"
	}
	for _, c := range counts {
		if want := int64(len(items)) - c.seen; c.got != want {
			t.Errorf("page %d: Remaining = %d, want %d", c.page, c.got, want)
		}
	}
	return items, rev
}

func testListPaginate(t *testing.T, s storage.Interface) {
	var want []storage.KeyValue
	for i := range 25 {
		key := fmt.Sprintf("/registry/pods/ns%d/p%02d", i%3, i)
		rev := mustCreate(t, s, key, "v")
		want = append(want, storage.KeyValue{Key: key, Value: []byte("v"), ModRevision: rev, CreateRevision: rev})
	}
	mustCreate(t, s, "/registry/podsx/ns0/p", "not listed")
	mustCreate(t, s, "/registry/pod/ns0/p", "not listed")
	slices.SortFunc(want, func(a, b storage.KeyValue) int { return strings.Compare(a.Key, b.Key) })
	for _, limit := range []int64{1, 3, 10, 24, 25, 26, 100} {
		t.Run(fmt.Sprintf("Limit%d", limit), func(t *testing.T) {
			got, _ := pageAll(t, s, "/registry/pods/", limit, 0)
			if d := diffItems(got, want); d != "" {
				t.Fatalf("pages differ from the full list:%s", d)
			}
		})
	}
	t.Run("StartKeyWithoutLimit", func(t *testing.T) {
		res := mustList(t, s, "/registry/pods/", storage.ListOptions{StartKey: "/registry/pods/ns1/"})
		var tail []storage.KeyValue
		for _, kv := range want {
			if kv.Key >= "/registry/pods/ns1/" {
				tail = append(tail, kv)
			}
		}
		if d := diffItems(res.Items, tail); d != "" {
			t.Fatalf("List from StartKey:%s", d)
		}
	})
	t.Run("StartKeyBeforePrefixIsClamped", func(t *testing.T) {
		res := mustList(t, s, "/registry/pods/ns1/", storage.ListOptions{StartKey: "/registry/a"})
		if len(res.Items) == 0 || !strings.HasPrefix(res.Items[0].Key, "/registry/pods/ns1/") {
			t.Fatalf("List with a StartKey before the prefix returned %d items starting outside it", len(res.Items))
		}
	})
}

// testListOldRevision checks a paginated list that continues at the first
// page's revision while writes go on, which is how the apiserver serves
// continue tokens. ListOptions.Revision documents that backends may refuse
// old revisions with ErrGone; when they answer, the answer must be exact.
func testListOldRevision(t *testing.T, s storage.Interface) {
	var keys []string
	for i := range 10 {
		keys = append(keys, fmt.Sprintf("/registry/pods/default/p%02d", i))
		mustCreate(t, s, keys[i], "v1")
	}
	before := mustList(t, s, "/registry/pods/", storage.ListOptions{})
	mustUpdate(t, s, keys[0], "v2", 0)
	mustDelete(t, s, keys[3], 0)
	mustCreate(t, s, "/registry/pods/default/p03a", "new")
	mustCreate(t, s, "/registry/pods/default/p99", "new")
	mustDelete(t, s, keys[9], 0)
	for _, limit := range []int64{0, 1, 4} {
		t.Run(fmt.Sprintf("Limit%d", limit), func(t *testing.T) {
			res, err := s.List(t.Context(), "/registry/pods/", storage.ListOptions{Revision: before.Revision, Limit: limit})
			if errors.Is(err, storage.ErrGone) {
				t.Skipf("backend keeps no old revisions: %v", err)
			}
			if err != nil {
				t.Fatalf("List at revision %d: %v", before.Revision, err)
			}
			if res.Revision != before.Revision {
				t.Fatalf("List at revision %d answered at %d", before.Revision, res.Revision)
			}
			if limit == 0 {
				if d := diffItems(res.Items, before.Items); d != "" {
					t.Fatalf("List at revision %d differs from the list read then:%s", before.Revision, d)
				}
				return
			}
			got, _ := pageAll(t, s, "/registry/pods/", limit, before.Revision)
			if d := diffItems(got, before.Items); d != "" {
				t.Fatalf("pages at revision %d differ from the list read then:%s", before.Revision, d)
			}
		})
	}
	t.Run("CurrentRevision", func(t *testing.T) {
		cur := mustRev(t, s)
		now := mustList(t, s, "/registry/pods/", storage.ListOptions{})
		res := mustList(t, s, "/registry/pods/", storage.ListOptions{Revision: cur})
		if d := diffItems(res.Items, now.Items); d != "" || res.Revision != cur {
			t.Fatalf("List at the current revision %d (answered at %d):%s", cur, res.Revision, d)
		}
	})
}

func testListFutureRevision(t *testing.T, s storage.Interface) {
	mustCreate(t, s, "/registry/pods/default/a", "v")
	cur := mustRev(t, s)
	if _, err := s.List(t.Context(), "/registry/pods/", storage.ListOptions{Revision: cur + 10}); err == nil {
		t.Fatalf("List at revision %d, after the current %d, succeeded; want an error", cur+10, cur)
	}
}
