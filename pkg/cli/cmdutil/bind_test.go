package cmdutil

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// clearEnv unsets every KL_* variable for the test, so the developer's or
// CI's environment cannot change results.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, EnvPrefix+"_") {
			t.Setenv(k, "")
		}
	}
}

type testFlags struct {
	listen  string
	servers []string
	port    int
	verbose bool
	config  string
}

// bind builds a command with a few flags, parses args and binds env and the
// config file (written from fileYAML when not empty).
func bind(t *testing.T, args []string, env map[string]string, fileYAML string) (testFlags, error) {
	t.Helper()
	clearEnv(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
	var got testFlags
	cmd := &cobra.Command{Use: "test", RunE: func(*cobra.Command, []string) error { return nil }}
	fs := cmd.Flags()
	fs.StringVar(&got.listen, "listen", "default:1", "")
	fs.StringSliceVar(&got.servers, "etcd-servers", nil, "")
	fs.IntVar(&got.port, "port", 7, "")
	fs.BoolVar(&got.verbose, "verbose", false, "")
	fs.StringVar(&got.config, "config", "", "")
	if err := MarkFlagNoBind(fs, "config"); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	configFile := ""
	if fileYAML != "" {
		configFile = filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(configFile, []byte(fileYAML), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err := BindFlags(cmd, EnvPrefix, configFile)
	return got, err
}

func TestBindFlags_PrecedenceIsFlagThenEnvThenFileThenDefault(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		file string
		want testFlags
	}{
		{
			name: "defaults",
			want: testFlags{listen: "default:1", port: 7},
		},
		{
			name: "file over default",
			file: "listen: file:1\nport: 8\nverbose: true\netcd-servers: [a, b]\n",
			want: testFlags{listen: "file:1", port: 8, verbose: true, servers: []string{"a", "b"}},
		},
		{
			name: "env over file",
			env:  map[string]string{"KL_LISTEN": "env:1", "KL_ETCD_SERVERS": "c,d"},
			file: "listen: file:1\nport: 8\netcd-servers: [a, b]\n",
			want: testFlags{listen: "env:1", port: 8, servers: []string{"c", "d"}},
		},
		{
			name: "flag over env and file",
			args: []string{"--listen", "flag:1", "--etcd-servers", "e"},
			env:  map[string]string{"KL_LISTEN": "env:1", "KL_ETCD_SERVERS": "c,d"},
			file: "listen: file:1\netcd-servers: [a, b]\n",
			want: testFlags{listen: "flag:1", port: 7, servers: []string{"e"}},
		},
		{
			name: "empty env variable is unset",
			env:  map[string]string{"KL_LISTEN": ""},
			file: "listen: file:1\n",
			want: testFlags{listen: "file:1", port: 7},
		},
		{
			name: "no-bind flag ignores env",
			env:  map[string]string{"KL_CONFIG": "/client/config.yaml"},
			want: testFlags{listen: "default:1", port: 7},
		},
		{
			name: "file list as comma string",
			file: "etcd-servers: a,b\n",
			want: testFlags{listen: "default:1", port: 7, servers: []string{"a", "b"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bind(t, tt.args, tt.env, tt.file)
			if err != nil {
				t.Fatalf("BindFlags: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBindFlags_ErrorsNameFlagAndSource(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		file    string
		wantErr string
	}{
		{
			name:    "bad env value",
			env:     map[string]string{"KL_PORT": "seven"},
			wantErr: `invalid value for --port from environment variable KL_PORT`,
		},
		{
			name:    "bad file value",
			file:    "port: seven\n",
			wantErr: `invalid value for --port from config file `,
		},
		{
			name:    "unknown key",
			file:    "listen: x:1\nlisen: y:1\n",
			wantErr: `unknown key "lisen"`,
		},
		{
			name:    "nested key",
			file:    "etcd:\n  servers: [a]\n",
			wantErr: `unknown key "etcd.servers"`,
		},
		{
			name:    "no-bind flag is not a file key",
			file:    "config: other.yaml\n",
			wantErr: `unknown key "config"`,
		},
		{
			name:    "list for a single value",
			file:    "listen: [a, b]\n",
			wantErr: `invalid value for --listen from config file`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bind(t, nil, tt.env, tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestBindFlags_MissingConfigFileIsAnError(t *testing.T) {
	clearEnv(t)
	cmd := &cobra.Command{Use: "test"}
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	err := BindFlags(cmd, EnvPrefix, missing)
	if err == nil || !strings.Contains(err.Error(), "read config file "+missing) {
		t.Fatalf("got %v, want a read config file error", err)
	}
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{
		"server":                   "KL_SERVER",
		"data-dir":                 "KL_DATA_DIR",
		"service-cluster-ip-range": "KL_SERVICE_CLUSTER_IP_RANGE",
		"v":                        "KL_V",
	} {
		if got := EnvName(EnvPrefix, flag); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", flag, got, want)
		}
	}
}

func TestExpandHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for in, want := range map[string]string{
		"~":                 home,
		"~/.kl/data":        filepath.Join(home, ".kl/data"),
		"./.kl/data":        "./.kl/data",
		"/var/lib/kl":       "/var/lib/kl",
		"~other/not/expand": "~other/not/expand",
	} {
		got, err := ExpandHome(in)
		if err != nil || got != want {
			t.Errorf("ExpandHome(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
