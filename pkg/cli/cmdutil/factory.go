package cmdutil

import (
	"log/slog"

	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

// EnvPrefix prefixes the environment variable of every flag: --data-dir is
// KL_DATA_DIR.
const EnvPrefix = "KL"

// DefaultClientConfig is the default value of the global --config flag.
const DefaultClientConfig = "~/.kl/config.yaml"

// GlobalFlags are the client flags every command accepts. The root command
// binds them; they are final once a command's Run starts.
type GlobalFlags struct {
	// Server is the apiserver URL (--server, KL_SERVER).
	Server string
	// Config is the client config file (--config, KL_CONFIG).
	Config string
	// Context selects a context of the client config file (--context).
	Context string
	// Namespace is the namespace to work in (-n/--namespace, KL_NAMESPACE).
	Namespace string
	// Verbosity is the log verbosity (-v/--v); see LogLevel.
	Verbosity int
}

// Factory gives commands their dependencies. Fields that are expensive or may
// fail (the API client, later) are functions so a command only pays for what
// it uses, and tests replace them with fakes.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Global    GlobalFlags
}

// NewFactory returns a Factory using ios.
func NewFactory(ios *iostreams.IOStreams) *Factory {
	return &Factory{IOStreams: ios}
}

// Logger returns a text logger to the error stream at the level chosen by
// the -v flag.
func (f *Factory) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(f.IOStreams.ErrOut, &slog.HandlerOptions{
		Level: LogLevel(f.Global.Verbosity),
	}))
}

// LogLevel maps the -v verbosity to a slog level: -v N shows records of
// level -N and above. -v 0 (the default) shows Info and above, -v 4 shows
// slog.LevelDebug, and code can log chattier detail at slog.Level(-6) to show
// it from -v 6 on.
func LogLevel(verbosity int) slog.Level {
	return slog.Level(-verbosity)
}
