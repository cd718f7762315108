// Package version reports which build of kl is running.
package version

import (
	"runtime"
	"runtime/debug"
)

// Version and GitCommit are set at build time by the linker, e.g.
//
//	go build -ldflags "-X github.com/kl-dev/kl/pkg/version.Version=v0.1.0 \
//	                   -X github.com/kl-dev/kl/pkg/version.GitCommit=abc1234"
//
// They are build constants: nothing assigns them at run time.
var (
	Version   string
	GitCommit string
)

// DevVersion is reported when the build carries no version.
const DevVersion = "v0.0.0-dev"

// Info describes the running build.
type Info struct {
	Version   string `json:"version"`
	GitCommit string `json:"gitCommit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the running build's Info. Values not injected by the linker
// come from the module build info (`go install ...@vX`, VCS stamping) when
// available, else Version is DevVersion and GitCommit is "unknown".
func Get() Info {
	info := Info{
		Version:   Version,
		GitCommit: GitCommit,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		if info.GitCommit == "" {
			info.GitCommit = vcsRevision(bi.Settings)
		}
	}
	if info.Version == "" {
		info.Version = DevVersion
	}
	if info.GitCommit == "" {
		info.GitCommit = "unknown"
	}
	return info
}

// vcsRevision returns the VCS revision stamped by the go command, with a
// "-dirty" suffix when the tree had local modifications, or "".
func vcsRevision(settings []debug.BuildSetting) string {
	var rev string
	var dirty bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "-dirty"
	}
	return rev
}
