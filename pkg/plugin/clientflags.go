package plugin

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kl-dev/kl/pkg/cli/clientconfig"
)

// DefaultConfig is the client config file when neither --config nor
// KL_CONFIG names one.
const DefaultConfig = "~/.kl/config.yaml"

// ClientFlags are the connection flags of a plugin, the same as kl's global
// ones. Each defaults to the environment kl passes (KL_SERVER, ...), so
// `kl NAME -n other` and `kl -n other NAME` both work.
type ClientFlags struct {
	Server, Config, Context, Namespace string
}

// AddFlags registers --server, --config, --context and -n/--namespace on fs.
func (c *ClientFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Server, "server", "", "URL of the kl API server (env KL_SERVER)")
	fs.StringVar(&c.Config, "config", "", "client config file (env KL_CONFIG, default "+DefaultConfig+")")
	fs.StringVar(&c.Context, "context", "", "context of the client config file to use (env KL_CONTEXT)")
	fs.StringVarP(&c.Namespace, "namespace", "n", "", "namespace to work in (env KL_NAMESPACE)")
}

// Connection resolves the connection as kl does: flag > environment
// (getenv, usually os.Getenv) > client config file.
func (c *ClientFlags) Connection(getenv func(string) string) (*clientconfig.Connection, error) {
	pick := func(flag, env, def string) string {
		if flag != "" {
			return flag
		}
		if v := getenv(env); v != "" {
			return v
		}
		return def
	}
	path, err := expandHome(pick(c.Config, EnvConfig, DefaultConfig), getenv)
	if err != nil {
		return nil, err
	}
	file, err := clientconfig.Load(path)
	if err != nil {
		return nil, err
	}
	return clientconfig.Resolve(file, path, clientconfig.Overrides{
		Server:    pick(c.Server, EnvServer, ""),
		Context:   pick(c.Context, EnvContext, ""),
		Namespace: pick(c.Namespace, EnvNamespace, ""),
	})
}

// expandHome replaces a leading "~" with $HOME (or the user's home).
func expandHome(path string, getenv func(string) string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path, nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		home = h
	}
	return filepath.Join(home, path[1:]), nil
}
