package version

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestGet_FillsEveryField(t *testing.T) {
	info := Get()
	if info.Version == "" || info.GitCommit == "" {
		t.Errorf("Get() = %+v: version and commit must fall back to a value", info)
	}
	if info.GoVersion != runtime.Version() {
		t.Errorf("GoVersion = %q, want %q", info.GoVersion, runtime.Version())
	}
	if want := runtime.GOOS + "/" + runtime.GOARCH; info.Platform != want {
		t.Errorf("Platform = %q, want %q", info.Platform, want)
	}
}

func TestVCSRevision(t *testing.T) {
	tests := []struct {
		name     string
		settings []debug.BuildSetting
		want     string
	}{
		{name: "none", want: ""},
		{name: "clean", settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}, want: "abc"},
		{name: "dirty", settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}, want: "abc-dirty"},
		{name: "modified without revision", settings: []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vcsRevision(tt.settings); got != tt.want {
				t.Errorf("vcsRevision() = %q, want %q", got, tt.want)
			}
		})
	}
}
