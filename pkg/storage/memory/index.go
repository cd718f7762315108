package memory

import (
	"slices"
	"strings"
)

// maxChunk is the most keys one chunk of the index holds; a full chunk splits
// in two, and a chunk that shrinks below maxChunk/4 merges into a neighbour.
const maxChunk = 256

// index is an ordered set of keys: a list of sorted chunks, itself sorted (a
// B-tree of height two). Insert and remove move at most maxChunk keys plus
// the chunk list, seeks are two binary searches, and counting visits chunk
// lengths only, so it stays fast for a few hundred thousand keys without the
// bookkeeping of a general tree.
type index struct {
	chunks [][]string
	n      int
}

// locate returns the chunk that holds key or would hold it, and the
// position of the first key >= key in that chunk. For a key past the end it
// returns the last chunk and its length (or 0, 0 when empty).
func (x *index) locate(key string) (int, int) {
	if len(x.chunks) == 0 {
		return 0, 0
	}
	c, _ := slices.BinarySearchFunc(x.chunks, key, func(ch []string, k string) int {
		return strings.Compare(ch[len(ch)-1], k)
	})
	if c == len(x.chunks) {
		c--
		return c, len(x.chunks[c])
	}
	i, _ := slices.BinarySearch(x.chunks[c], key)
	return c, i
}

// insert adds key, which must not be present.
func (x *index) insert(key string) {
	x.n++
	if len(x.chunks) == 0 {
		x.chunks = append(x.chunks, append(make([]string, 0, maxChunk), key))
		return
	}
	c, i := x.locate(key)
	ch := slices.Insert(x.chunks[c], i, key)
	if len(ch) <= maxChunk {
		x.chunks[c] = ch
		return
	}
	half := len(ch) / 2
	right := make([]string, len(ch)-half, maxChunk)
	copy(right, ch[half:])
	clear(ch[half:])
	x.chunks[c] = ch[:half]
	x.chunks = slices.Insert(x.chunks, c+1, right)
}

// remove deletes key, which must be present.
func (x *index) remove(key string) {
	c, i := x.locate(key)
	ch := x.chunks[c]
	if i >= len(ch) || ch[i] != key {
		return
	}
	x.n--
	ch = slices.Delete(ch, i, i+1)
	x.chunks[c] = ch
	switch {
	case len(ch) == 0:
		x.chunks = slices.Delete(x.chunks, c, c+1)
	case len(ch) < maxChunk/4 && c+1 < len(x.chunks) && len(ch)+len(x.chunks[c+1]) <= maxChunk:
		x.chunks[c] = append(ch, x.chunks[c+1]...)
		x.chunks = slices.Delete(x.chunks, c+1, c+2)
	case len(ch) < maxChunk/4 && c > 0 && len(ch)+len(x.chunks[c-1]) <= maxChunk:
		x.chunks[c-1] = append(x.chunks[c-1], ch...)
		x.chunks = slices.Delete(x.chunks, c, c+1)
	}
}

// ascend calls fn for the keys >= from in order until fn returns false.
func (x *index) ascend(from string, fn func(key string) bool) {
	c, i := x.locate(from)
	for ; c < len(x.chunks); c, i = c+1, 0 {
		for _, k := range x.chunks[c][i:] {
			if !fn(k) {
				return
			}
		}
	}
}

// rank returns the number of keys < key.
func (x *index) rank(key string) int {
	c, i := x.locate(key)
	for _, ch := range x.chunks[:c] {
		i += len(ch)
	}
	return i
}

// countPrefix returns the number of keys with prefix that are >= from.
func (x *index) countPrefix(prefix, from string) int64 {
	if from < prefix {
		from = prefix
	}
	end := x.n
	if e, ok := prefixEnd(prefix); ok {
		end = x.rank(e)
	}
	n := end - x.rank(from)
	if n < 0 {
		return 0
	}
	return int64(n)
}

// prefixEnd returns the smallest string greater than every string with
// prefix, or false when there is none (empty prefix or all 0xff bytes).
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}
