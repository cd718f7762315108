package apiserver

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/cli/internal/clitest"
)

// isolate gives the test an empty home directory and no KL_* variables, so
// the developer's or CI's environment cannot change results. It returns the
// home directory.
func isolate(t *testing.T) string { return clitest.Isolate(t) }

// parse runs `kl apiserver args` without starting a server and returns the
// options the server would get.
func parse(t *testing.T, args ...string) (*Options, error) {
	return clitest.Parse(t, NewCmdAPIServer, args...)
}

func writeFile(t *testing.T, content string) string {
	return clitest.WriteFile(t, "apiserver.yaml", content)
}

func TestAPIServer_DefaultsFollowDesign(t *testing.T) {
	home := isolate(t)
	opts, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger = nil
	want := apiserver.Config{
		ListenAddress:         "127.0.0.1:6443",
		Storage:               "badger",
		DataDir:               filepath.Join(home, ".kl", "data"),
		EtcdPrefix:            "",
		ServiceClusterIPRange: "10.96.0.0/16",
		ServiceNodePortRange:  "30000-32767",
		WatchCacheSize:        10000,
		MaxRequestsInFlight:   800,
		MaxWatchesPerClient:   5000,
		Profiling:             true,
	}
	if got := opts.Config(); !reflect.DeepEqual(got, want) {
		t.Errorf("Config() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestAPIServer_EveryFlagReachesConfig(t *testing.T) {
	isolate(t)
	opts, err := parse(t,
		"--listen", "0.0.0.0:7443",
		"--tls-cert-file", "s.crt", "--tls-private-key-file", "s.key", "--client-ca-file", "ca.crt",
		"--kubelet-client-certificate", "kc.crt", "--kubelet-client-key", "kc.key", "--kubelet-certificate-authority", "kca.crt",
		"--storage", "etcd",
		"--data-dir", "/var/lib/kl",
		"--etcd-servers", "https://10.0.0.1:2379,https://10.0.0.2:2379",
		"--etcd-cafile", "etcd-ca.crt", "--etcd-certfile", "etcd.crt", "--etcd-keyfile", "etcd.key",
		"--etcd-prefix", "/kl",
		"--service-cluster-ip-range", "10.100.0.0/24",
		"--service-node-port-range", "31000-31999",
		"--watch-cache-size", "50",
		"--audit-log", "audit.jsonl", "--max-requests-inflight", "9", "--max-watches-per-client", "7",
		"--profiling=false",
	)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil {
		t.Error("Logger not set")
	}
	opts.Logger = nil
	want := apiserver.Config{
		ListenAddress:         "0.0.0.0:7443",
		TLSCertFile:           "s.crt",
		TLSKeyFile:            "s.key",
		ClientCAFile:          "ca.crt",
		KubeletClientCertFile: "kc.crt",
		KubeletClientKeyFile:  "kc.key",
		KubeletCAFile:         "kca.crt",
		Storage:               "etcd",
		DataDir:               "/var/lib/kl",
		EtcdServers:           []string{"https://10.0.0.1:2379", "https://10.0.0.2:2379"},
		EtcdCAFile:            "etcd-ca.crt",
		EtcdCertFile:          "etcd.crt",
		EtcdKeyFile:           "etcd.key",
		EtcdPrefix:            "/kl",
		ServiceClusterIPRange: "10.100.0.0/24",
		ServiceNodePortRange:  "31000-31999",
		WatchCacheSize:        50,
		AuditLogPath:          "audit.jsonl",
		MaxRequestsInFlight:   9,
		MaxWatchesPerClient:   7,
	}
	if got := opts.Config(); !reflect.DeepEqual(got, want) {
		t.Errorf("Config() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestAPIServer_FlagBeatsEnvBeatsConfigFileBeatsDefault(t *testing.T) {
	const file = "listen: 127.0.0.1:7000\nstorage: memory\nwatch-cache-size: 7\ninsecure: true\n"
	tests := []struct {
		name        string
		env         map[string]string
		args        []string
		wantListen  string
		wantStorage string
		wantCache   int
	}{
		{
			name:       "default",
			wantListen: "127.0.0.1:6443", wantStorage: "badger", wantCache: 10000,
		},
		{
			name:       "config file",
			args:       []string{"--config", "FILE"},
			wantListen: "127.0.0.1:7000", wantStorage: "memory", wantCache: 7,
		},
		{
			name:       "env over config file",
			env:        map[string]string{"KL_LISTEN": "127.0.0.1:8000", "KL_WATCH_CACHE_SIZE": "8"},
			args:       []string{"--config", "FILE"},
			wantListen: "127.0.0.1:8000", wantStorage: "memory", wantCache: 8,
		},
		{
			name:       "flag over env and config file",
			env:        map[string]string{"KL_LISTEN": "127.0.0.1:8000", "KL_WATCH_CACHE_SIZE": "8"},
			args:       []string{"--config", "FILE", "--listen", "127.0.0.1:9000"},
			wantListen: "127.0.0.1:9000", wantStorage: "memory", wantCache: 8,
		},
		{
			name:       "env without config file",
			env:        map[string]string{"KL_STORAGE": "memory"},
			wantListen: "127.0.0.1:6443", wantStorage: "memory", wantCache: 10000,
		},
		{
			name:       "KL_CONFIG (the client's file) is not the component's config file",
			env:        map[string]string{"KL_CONFIG": "/does/not/exist.yaml"},
			wantListen: "127.0.0.1:6443", wantStorage: "badger", wantCache: 10000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			path := writeFile(t, file)
			args := append([]string(nil), tt.args...)
			for i := range args {
				if args[i] == "FILE" {
					args[i] = path
				}
			}
			opts, err := parse(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			if opts.Listen != tt.wantListen || opts.Storage != tt.wantStorage || opts.WatchCacheSize != tt.wantCache {
				t.Errorf("listen, storage, watch-cache-size = %s, %s, %d; want %s, %s, %d",
					opts.Listen, opts.Storage, opts.WatchCacheSize, tt.wantListen, tt.wantStorage, tt.wantCache)
			}
		})
	}
}

func TestAPIServer_ConfigFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		wantErr string
	}{
		{name: "unknown key", file: "lisen: 127.0.0.1:7000\n", wantErr: `unknown key "lisen"`},
		{name: "bad value", file: "watch-cache-size: lots\n", wantErr: "invalid value for --watch-cache-size from config file"},
		{name: "not YAML", file: "listen: [\n", wantErr: "read config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			_, err := parse(t, "--config", writeFile(t, tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestAPIServer_RejectsInvalidFlagsBeforeStarting(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{
			name:    "insecure on all interfaces",
			args:    []string{"--insecure", "--listen", "0.0.0.0:6443"},
			wantErr: "--insecure serves plain HTTP without authentication and is only allowed on a loopback address; got 0.0.0.0:6443",
		},
		{
			name:    "insecure with empty host",
			args:    []string{"--insecure", "--listen", ":6443"},
			wantErr: "only allowed on a loopback address; got :6443",
		},
		{
			name:    "insecure with TLS",
			args:    []string{"--insecure", "--tls-cert-file", "a", "--tls-private-key-file", "b"},
			wantErr: "--insecure cannot be combined with --tls-cert-file",
		},
		{name: "cert without key", args: []string{"--tls-cert-file", "a"}, wantErr: "--tls-cert-file and --tls-private-key-file must be given together"},
		{name: "kubelet cert without key", args: []string{"--kubelet-client-certificate", "a"}, wantErr: "--kubelet-client-certificate and --kubelet-client-key must be given together"},
		{name: "listen without port", args: []string{"--listen", "127.0.0.1"}, wantErr: `--listen "127.0.0.1": want host:port`},
		{name: "listen port out of range", args: []string{"--listen", "127.0.0.1:70000"}, wantErr: `port "70000" is not a number`},
		{name: "unknown storage", args: []string{"--storage", "sqlite"}, wantErr: `--storage "sqlite": want badger, memory or etcd`},
		{name: "etcd without servers", args: []string{"--storage", "etcd"}, wantErr: "--storage etcd needs --etcd-servers"},
		{name: "etcd server not a URL", args: []string{"--storage", "etcd", "--etcd-servers", "10.0.0.1:2379"}, wantErr: `"10.0.0.1:2379" is not an http:// or https:// URL`},
		{name: "etcd servers without etcd", args: []string{"--etcd-servers", "http://e:2379"}, wantErr: "--etcd-servers is only used with --storage etcd"},
		{name: "etcd prefix relative", args: []string{"--storage", "etcd", "--etcd-servers", "http://e:2379", "--etcd-prefix", "registry"}, wantErr: `--etcd-prefix "registry" must start with /`},
		{name: "etcd cert without key", args: []string{"--storage", "etcd", "--etcd-servers", "http://e:2379", "--etcd-certfile", "c"}, wantErr: "--etcd-certfile and --etcd-keyfile must be given together"},
		{name: "empty data dir", args: []string{"--data-dir", ""}, wantErr: "--data-dir must not be empty"},
		{name: "bad CIDR", args: []string{"--service-cluster-ip-range", "10.96.0.0"}, wantErr: "--service-cluster-ip-range \"10.96.0.0\": want a CIDR"},
		{name: "CIDR host bits", args: []string{"--service-cluster-ip-range", "10.96.0.1/16"}, wantErr: "did you mean 10.96.0.0/16?"},
		{name: "node ports reversed", args: []string{"--service-node-port-range", "32767-30000"}, wantErr: "--service-node-port-range \"32767-30000\""},
		{name: "node ports not a range", args: []string{"--service-node-port-range", "30000"}, wantErr: "want first-last"},
		{name: "zero watch cache", args: []string{"--watch-cache-size", "0"}, wantErr: "--watch-cache-size must be positive"},
		{name: "positional argument", args: []string{"extra"}, wantErr: `unknown command "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			_, err := parse(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestAPIServer_AcceptsValidVariants(t *testing.T) {
	tests := [][]string{
		{"--insecure"},
		{"--insecure", "--listen", "localhost:0"},
		{"--insecure", "--listen", "[::1]:6443"},
		{"--insecure", "--storage", "memory"},
		{"--listen", "0.0.0.0:6443", "--tls-cert-file", "a", "--tls-private-key-file", "b", "--client-ca-file", "c"},
		{"--storage", "etcd", "--etcd-servers", "https://e1:2379,http://e2:2379"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			isolate(t)
			if _, err := parse(t, args...); err != nil {
				t.Fatal(err)
			}
		})
	}
}
