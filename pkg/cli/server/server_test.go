package server

import (
	"strings"
	"testing"
)

func TestParseMemoryTarget(t *testing.T) {
	for in, want := range map[string]int64{"240Mi": 240 << 20, "1Gi": 1 << 30, "500M": 500e6, "0": 0} {
		got, err := parseMemoryTarget(in)
		if err != nil || got != want {
			t.Errorf("--memory-target %s: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"abc", "-1Gi", ""} {
		if _, err := parseMemoryTarget(in); err == nil || !strings.Contains(err.Error(), "--memory-target") {
			t.Errorf("--memory-target %q: error %v, want one naming the flag", in, err)
		}
	}
	if d, err := parseMemoryTarget(defaultMemoryTarget); err != nil || d <= 0 {
		t.Errorf("default %q: %d, %v", defaultMemoryTarget, d, err)
	}
}
