package plugin

import (
	"strings"
)

// Environment variables that carry kl's connection to a plugin; they are
// the ones kl's global flags are read from.
const (
	EnvServer    = "KL_SERVER"
	EnvConfig    = "KL_CONFIG"
	EnvContext   = "KL_CONTEXT"
	EnvNamespace = "KL_NAMESPACE"
)

// Env is the connection kl passes to a plugin.
type Env struct {
	// Server is the apiserver URLs, comma separated.
	Server string
	// Config is the client config file.
	Config string
	// Context is the context in use ("" for none).
	Context string
	// Namespace is the namespace to work in.
	Namespace string
}

// Apply returns environ (os.Environ's form) with the connection variables
// set to e's values; an empty value removes the variable, so that a stale
// one cannot contradict what kl resolved.
func (e Env) Apply(environ []string) []string {
	set := map[string]string{
		EnvServer:    e.Server,
		EnvConfig:    e.Config,
		EnvContext:   e.Context,
		EnvNamespace: e.Namespace,
	}
	out := make([]string, 0, len(environ)+len(set))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if _, ours := set[k]; !ours {
			out = append(out, kv)
		}
	}
	for _, k := range []string{EnvServer, EnvConfig, EnvContext, EnvNamespace} {
		if v := set[k]; v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}
