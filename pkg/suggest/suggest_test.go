package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"replica", "replicas", 1}, {"nmae", "name", 1},
		{"imgae", "image", 1}, {"kitten", "sitting", 3}, {"ca", "abc", 3},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestClosest(t *testing.T) {
	fields := []string{"image", "name", "ports", "replicas", "selector"}
	for word, want := range map[string]string{
		"replica": "replicas", "nmae": "name", "Image": "image", "port": "ports",
		"zzz": "", "selectors": "selector", "templat": "",
	} {
		if got := Closest(word, fields); got != want {
			t.Errorf("Closest(%q) = %q, want %q", word, got, want)
		}
	}
	if got := Closest("po", []string{"pods", "no"}); got != "no" {
		t.Errorf("short words allow one edit: got %q", got)
	}
}
