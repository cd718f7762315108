package plugin

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spf13/pflag"
)

func TestClientFlags_FlagBeatsEnvBeatsFile(t *testing.T) {
	home := t.TempDir()
	config := "current-context: dev\nclusters:\n- name: c\n  server: http://file:1\ncontexts:\n- name: dev\n  cluster: c\n  namespace: filens\n- name: other\n  cluster: c\n  namespace: otherns\n"
	if err := os.MkdirAll(filepath.Join(home, ".kl"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".kl", "config.yaml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		servers   []string
		namespace string
		context   string
	}{
		{name: "file", servers: []string{"http://file:1"}, namespace: "filens", context: "dev"},
		{
			name:    "environment",
			env:     map[string]string{"KL_SERVER": "http://env:1", "KL_NAMESPACE": "envns", "KL_CONTEXT": "other"},
			servers: []string{"http://env:1"}, namespace: "envns", context: "other",
		},
		{
			name:    "flags",
			args:    []string{"--server", "http://flag:1", "-n", "flagns", "--context", "dev"},
			env:     map[string]string{"KL_SERVER": "http://env:1", "KL_NAMESPACE": "envns", "KL_CONTEXT": "other"},
			servers: []string{"http://flag:1"}, namespace: "flagns", context: "dev",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"HOME": home}
			for k, v := range tt.env {
				env[k] = v
			}
			var c ClientFlags
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			c.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			conn, err := c.Connection(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(conn.Servers, tt.servers) || conn.Namespace != tt.namespace || conn.Context != tt.context {
				t.Errorf("got %q %q %q, want %q %q %q", conn.Servers, conn.Namespace, conn.Context, tt.servers, tt.namespace, tt.context)
			}
		})
	}
}
