// Package suggest finds the likely intended word for a typo ("did you
// mean ...?"), for unknown fields, kinds and resource names.
package suggest

import (
	"sort"
	"strings"
)

// Distance is the optimal-string-alignment edit distance of a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// bytes each cost 1 ("nmae" is 1 from "name").
func Distance(a, b string) int {
	// Three rows: the one before the previous is needed for transpositions.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// Closest returns the candidate nearest to word (compared case-
// insensitively), or "" when none is close enough to be a typo: within
// 1 edit for words of up to 3 letters, else within max(2, len/3). Ties go
// to the alphabetically first candidate.
func Closest(word string, candidates []string) string {
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	lw := strings.ToLower(word)
	best, bestDist := "", -1
	for _, c := range sorted {
		if c == "" {
			continue
		}
		if d := Distance(lw, strings.ToLower(c)); bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := max(2, len(word)/3)
	if len(word) <= 3 {
		limit = 1
	}
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	return best
}
