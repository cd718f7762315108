package memory

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestIndexMatchesSortedModel drives the index through enough inserts and
// removes to split and merge chunks many times, and after each phase checks
// order, seeks, ranks and prefix counts against a sorted slice.
func TestIndexMatchesSortedModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x index
	model := map[string]bool{}
	key := func() string { return fmt.Sprintf("/r/%c/%04d", 'a'+rng.IntN(4), rng.IntN(3000)) }
	for phase, inserts := range []int{3000, 500, 2500, 0} {
		for range inserts {
			if k := key(); !model[k] {
				model[k] = true
				x.insert(k)
			}
		}
		removes := len(model) / 2
		if phase == 3 {
			removes = len(model) // empty it entirely
		}
		for k := range model {
			if removes == 0 {
				break
			}
			removes--
			delete(model, k)
			x.remove(k)
		}
		t.Run(fmt.Sprintf("Phase%d", phase), func(t *testing.T) {
			checkIndex(t, &x, model, rng)
		})
	}
}

func checkIndex(t *testing.T, x *index, model map[string]bool, rng *rand.Rand) {
	var want []string
	for k := range model {
		want = append(want, k)
	}
	slices.Sort(want)
	var got []string
	x.ascend("", func(k string) bool { got = append(got, k); return true })
	if !slices.Equal(got, want) || x.n != len(want) {
		t.Fatalf("ascend: %d keys (n=%d), want %d, equal=%v", len(got), x.n, len(want), slices.Equal(got, want))
	}
	for _, ch := range x.chunks {
		if len(ch) == 0 || len(ch) > maxChunk {
			t.Fatalf("chunk of %d keys", len(ch))
		}
	}
	for range 200 {
		probe := fmt.Sprintf("/r/%c/%04d", 'a'+rng.IntN(5), rng.IntN(3100))
		if rng.IntN(4) == 0 {
			probe = probe[:3+rng.IntN(4)]
		}
		r, _ := slices.BinarySearch(want, probe)
		if got := x.rank(probe); got != r {
			t.Fatalf("rank(%q) = %d, want %d", probe, got, r)
		}
		var first string
		x.ascend(probe, func(k string) bool { first = k; return false })
		if (r < len(want) && first != want[r]) || (r == len(want) && first != "") {
			t.Fatalf("ascend(%q) starts at %q", probe, first)
		}
		prefix := probe[:3+rng.IntN(len(probe)-2)]
		var n int64
		for _, k := range want {
			if strings.HasPrefix(k, prefix) && k >= probe {
				n++
			}
		}
		if got := x.countPrefix(prefix, probe); got != n {
			t.Fatalf("countPrefix(%q, %q) = %d, want %d", prefix, probe, got, n)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	cases := []struct {
		prefix, want string
		ok           bool
	}{
		{"/a/", "/a0", true},
		{"a\xff", "b", true},
		{"\xff\xff", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		got, ok := prefixEnd(c.prefix)
		if got != c.want || ok != c.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", c.prefix, got, ok, c.want, c.ok)
		}
	}
}
