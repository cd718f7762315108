package cmdutil

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kl-dev/kl/pkg/cli/clientconfig"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/version"
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
	// Connection resolves how to reach the apiserver from flags,
	// environment and the client config file.
	Connection func() (*clientconfig.Connection, error)
	// Client returns the API client for the connection (one per Factory).
	Client func() (*client.Client, error)
}

// NewFactory returns a Factory using ios.
func NewFactory(ios *iostreams.IOStreams) *Factory {
	f := &Factory{IOStreams: ios}
	var connOnce sync.Once
	var conn *clientconfig.Connection
	var connErr error
	f.Connection = func() (*clientconfig.Connection, error) {
		connOnce.Do(func() { conn, connErr = f.resolveConnection() })
		return conn, connErr
	}
	var once sync.Once
	var c *client.Client
	var cerr error
	f.Client = func() (*client.Client, error) {
		once.Do(func() { c, cerr = f.newClient() })
		return c, cerr
	}
	return f
}

// ConfigPath returns the client config file path (~ expanded).
func (f *Factory) ConfigPath() (string, error) {
	p := f.Global.Config
	if p == "" {
		p = DefaultClientConfig
	}
	return ExpandHome(p)
}

func (f *Factory) resolveConnection() (*clientconfig.Connection, error) {
	path, err := f.ConfigPath()
	if err != nil {
		return nil, err
	}
	file, err := clientconfig.Load(path)
	if err != nil {
		return nil, err
	}
	return clientconfig.Resolve(file, path, clientconfig.Overrides{
		Server: f.Global.Server, Context: f.Global.Context, Namespace: f.Global.Namespace,
	})
}

func (f *Factory) newClient() (*client.Client, error) {
	conn, err := f.Connection()
	if err != nil {
		return nil, err
	}
	c, err := client.New(client.Config{
		Servers:         conn.Servers,
		TLSClientConfig: conn.TLS,
		UserAgent:       "kl/" + version.Get().Version,
		Timeout:         30 * time.Second,
		Logger:          f.Logger(),
	})
	if err != nil {
		return nil, fmt.Errorf("create API client: %w", err)
	}
	return c, nil
}

// Namespace returns the namespace to work in and whether it was given
// explicitly (-n or KL_NAMESPACE).
func (f *Factory) Namespace() (string, bool, error) {
	conn, err := f.Connection()
	if err != nil {
		return "", false, err
	}
	return conn.Namespace, conn.NamespaceExplicit, nil
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
