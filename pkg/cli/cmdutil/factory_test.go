package cmdutil

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func TestLogger_VerbosityChoosesLevel(t *testing.T) {
	tests := []struct {
		verbosity int
		level     slog.Level
		shown     bool
	}{
		{verbosity: 0, level: slog.LevelInfo, shown: true},
		{verbosity: 0, level: slog.LevelDebug, shown: false},
		{verbosity: 4, level: slog.LevelDebug, shown: true},
		{verbosity: 4, level: slog.Level(-6), shown: false},
		{verbosity: 6, level: slog.Level(-6), shown: true},
	}
	for _, tt := range tests {
		ios, _, out, errOut := iostreams.Test()
		f := NewFactory(ios)
		f.Global.Verbosity = tt.verbosity
		f.Logger().Log(t.Context(), tt.level, "hello")
		if got := strings.Contains(errOut.String(), "msg=hello"); got != tt.shown {
			t.Errorf("-v %d, level %v: shown = %v, want %v (stderr %q)", tt.verbosity, tt.level, got, tt.shown, errOut)
		}
		if out.Len() != 0 {
			t.Errorf("logger wrote to stdout: %q", out)
		}
	}
}
