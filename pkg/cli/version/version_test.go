package version

import (
	"testing"

	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/version"
)

func TestRunVersion_Formats(t *testing.T) {
	info := version.Info{
		Version:   "v0.1.0",
		GitCommit: "0123456789abcdef0123456789abcdef01234567",
		GoVersion: "go1.26.8",
		Platform:  "linux/amd64",
	}
	tests := []struct {
		output string
		want   string
	}{
		{"", "kl version v0.1.0 (commit 0123456789ab, go1.26.8, linux/amd64)\n"},
		{"json", `{
  "version": "v0.1.0",
  "gitCommit": "0123456789abcdef0123456789abcdef01234567",
  "goVersion": "go1.26.8",
  "platform": "linux/amd64"
}
`},
		{"yaml", `gitCommit: 0123456789abcdef0123456789abcdef01234567
goVersion: go1.26.8
platform: linux/amd64
version: v0.1.0
`},
	}
	for _, tt := range tests {
		t.Run("output="+tt.output, func(t *testing.T) {
			ios, _, out, _ := iostreams.Test()
			if err := runVersion(&Options{IO: ios, Output: tt.output, Info: info}); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out, tt.want)
			}
		})
	}
}

func TestShortCommit(t *testing.T) {
	for in, want := range map[string]string{
		"0123456789abcdef0123456789abcdef01234567":       "0123456789ab",
		"0123456789abcdef0123456789abcdef01234567-dirty": "0123456789ab-dirty",
		"abc1234":       "abc1234",
		"abc1234-dirty": "abc1234-dirty",
		"unknown":       "unknown",
	} {
		if got := shortCommit(in); got != want {
			t.Errorf("shortCommit(%q) = %q, want %q", in, got, want)
		}
	}
}
