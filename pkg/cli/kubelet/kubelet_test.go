package kubelet

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/internal/clitest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet"
)

// isolate gives the test an empty home directory and no KL_* variables, so
// the developer's or CI's environment cannot change results. It returns the
// home directory.
func isolate(t *testing.T) string { return clitest.Isolate(t) }

// parse runs `kl kubelet args` without starting anything and returns the
// options the kubelet would get.
func parse(t *testing.T, args ...string) (*Options, error) {
	return clitest.Parse(t, NewCmdKubelet, args...)
}

func writeFile(t *testing.T, content string) string {
	return clitest.WriteFile(t, "kubelet.yaml", content)
}

func TestKubelet_DefaultsFollowDesign(t *testing.T) {
	home := isolate(t)
	opts, err := parse(t, "--node-name", "node-1")
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger = nil
	want := kubelet.Config{
		NodeName:                  "node-1",
		Runtime:                   "docker",
		NodeIP:                    "127.0.0.1",
		DataDir:                   filepath.Join(home, ".kl", "kubelet"),
		CrashLoopBackOffBase:      10 * time.Second,
		CrashLoopBackOffMax:       5 * time.Minute,
		NodeStatusUpdateFrequency: 10 * time.Second,
		ResyncInterval:            time.Minute,
		MetricsAddress:            "127.0.0.1:10248",
		ServerPort:                10250,
	}
	if got := opts.Config(nil); !reflect.DeepEqual(got, want) {
		t.Errorf("Config() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestKubelet_NodeNameDefaultsToTheLowerCasedHostname(t *testing.T) {
	isolate(t)
	host, err := os.Hostname()
	if err != nil || host == "" || !dnsSubdomain.MatchString(strings.ToLower(host)) {
		t.Skip("hostname is not a usable node name")
	}
	opts, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	if opts.NodeName != strings.ToLower(host) {
		t.Errorf("node name = %q, want %q", opts.NodeName, strings.ToLower(host))
	}
}

func TestKubelet_EveryFlagReachesConfig(t *testing.T) {
	isolate(t)
	opts, err := parse(t,
		"--node-name", "sim",
		"--runtime", "fake",
		"--capacity", "cpu=4, memory=8Gi,pods=110,example.com/gpu=2",
		"--node-ip", "10.0.0.7",
		"--node-labels", "zone=a,disk=ssd",
		"--pod-cidr", "10.250.0.0/24",
		"--data-dir", "/var/lib/kl-kubelet",
		"--simulate-nodes", "100",
		"--fake-start-delay", "50ms",
		"--crashloop-backoff-base", "100ms",
		"--crashloop-backoff-max", "2s",
		"--node-status-update-frequency", "3s",
		"--sync-frequency", "30s",
		"--metrics-addr", "0",
		"--kubelet-port", "0",
		"--tls-cert-file", "k.crt", "--tls-private-key-file", "k.key", "--client-ca-file", "ca.crt",
	)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil || opts.Client == nil {
		t.Error("Logger or Client not set")
	}
	opts.Logger = nil
	want := kubelet.Config{
		NodeName:      "sim",
		SimulateNodes: 100,
		Runtime:       "fake",
		Capacity: corev1.ResourceList{
			"cpu": resource.MustParse("4"), "memory": resource.MustParse("8Gi"), "pods": resource.MustParse("110"),
			"example.com/gpu": resource.MustParse("2"),
		},
		NodeIP:                    "10.0.0.7",
		NodeLabels:                map[string]string{"zone": "a", "disk": "ssd"},
		PodCIDR:                   "10.250.0.0/24",
		DataDir:                   "/var/lib/kl-kubelet",
		FakeStartDelay:            50 * time.Millisecond,
		CrashLoopBackOffBase:      100 * time.Millisecond,
		CrashLoopBackOffMax:       2 * time.Second,
		NodeStatusUpdateFrequency: 3 * time.Second,
		ResyncInterval:            30 * time.Second,
		MetricsAddress:            "",
		ServerPort:                0,
		TLSCertFile:               "k.crt",
		TLSKeyFile:                "k.key",
		ClientCAFile:              "ca.crt",
	}
	got := opts.Config(nil)
	if !got.Capacity.Equal(want.Capacity) {
		t.Errorf("capacity = %v, want %v", got.Capacity, want.Capacity)
	}
	got.Capacity, want.Capacity = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Config() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestKubelet_FlagBeatsEnvBeatsConfigFileBeatsDefault(t *testing.T) {
	const file = "node-name: from-file\nruntime: fake\nsimulate-nodes: 3\n"
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		wantNode  string
		wantNodes int
	}{
		{name: "config file", args: []string{"--config", "FILE"}, wantNode: "from-file", wantNodes: 3},
		{name: "env over config file", env: map[string]string{"KL_NODE_NAME": "from-env"}, args: []string{"--config", "FILE"}, wantNode: "from-env", wantNodes: 3},
		{name: "flag over env", env: map[string]string{"KL_NODE_NAME": "from-env", "KL_SIMULATE_NODES": "5"}, args: []string{"--config", "FILE", "--node-name", "from-flag"}, wantNode: "from-flag", wantNodes: 5},
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
			if opts.NodeName != tt.wantNode || opts.SimulateNodes != tt.wantNodes {
				t.Errorf("node-name, simulate-nodes = %s, %d; want %s, %d", opts.NodeName, opts.SimulateNodes, tt.wantNode, tt.wantNodes)
			}
		})
	}
}

func TestKubelet_RejectsInvalidFlagsBeforeStarting(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown runtime", []string{"--runtime", "containerd"}, `--runtime "containerd": want docker or fake`},
		{"bad node name", []string{"--node-name", "Node_1"}, `--node-name "Node_1": must be a lowercase DNS subdomain`},
		{"negative nodes", []string{"--runtime", "fake", "--simulate-nodes", "-1"}, "--simulate-nodes must not be negative"},
		{"simulate without fake", []string{"--simulate-nodes", "3"}, "--simulate-nodes needs --runtime fake"},
		{"capacity not a list", []string{"--capacity", "cpu"}, `--capacity "cpu": "cpu" is not NAME=QUANTITY`},
		{"capacity bad quantity", []string{"--capacity", "cpu=lots"}, `cpu: "lots" is not a quantity`},
		{"capacity negative", []string{"--capacity", "cpu=-1"}, "cpu: -1 must not be negative"},
		{"capacity twice", []string{"--capacity", "cpu=1,cpu=2"}, "cpu is given twice"},
		{"node ip", []string{"--node-ip", "node-1"}, `--node-ip "node-1" is not an IP address`},
		{"pod cidr", []string{"--pod-cidr", "10.244.0.1"}, `--pod-cidr "10.244.0.1": want an IPv4 CIDR`},
		{"pod cidr too small", []string{"--pod-cidr", "10.244.0.0/31"}, "is too small"},
		{"zero backoff", []string{"--crashloop-backoff-base", "0s"}, "--crashloop-backoff-base must be positive"},
		{"max below base", []string{"--crashloop-backoff-base", "1m", "--crashloop-backoff-max", "10s"}, "--crashloop-backoff-max (10s) must not be less than --crashloop-backoff-base (1m0s)"},
		{"metrics address", []string{"--metrics-addr", "10248"}, `--metrics-addr "10248": want host:port`},
		{"empty data dir", []string{"--data-dir", ""}, "--data-dir must not be empty"},
		{"kubelet port", []string{"--kubelet-port", "70000"}, "--kubelet-port 70000 is not a number from 0 to 65535"},
		{"tls cert without key", []string{"--tls-cert-file", "k.crt", "--client-ca-file", "ca.crt"}, "--tls-cert-file and --tls-private-key-file must be given together"},
		{"tls cert without client CA", []string{"--tls-cert-file", "k.crt", "--tls-private-key-file", "k.key"}, "--tls-cert-file needs --client-ca-file"},
		{"positional argument", []string{"extra"}, `unknown command "extra"`},
		{"unknown config key", []string{"--config", "FILE:node-nmae: x\n"}, `unknown key "node-nmae"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			args := []string{"--node-name", "n1"}
			for _, a := range tt.args {
				if content, ok := strings.CutPrefix(a, "FILE:"); ok {
					a = writeFile(t, content)
				}
				args = append(args, a)
			}
			_, err := parse(t, args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestKubelet_RunsAFakeNodeUntilCancelled(t *testing.T) {
	isolate(t)
	url := apiservertest.Start(t)
	ios, _, _, _ := iostreams.Test()
	f := cmdutil.NewFactory(ios)
	f.Global.Server = url
	cmd := NewCmdKubelet(f, nil)
	cmd.SetArgs([]string{"--node-name", "cli-node", "--runtime", "fake", "--metrics-addr", "0", "--kubelet-port", "0",
		"--capacity", "cpu=2,memory=1Gi,pods=10", "--data-dir", t.TempDir()})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	c, err := client.New(client.Config{Servers: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	nodes := client.NewResource[corev1.Node](c, meta.GroupVersionResource{Version: "v1", Resource: "nodes"}, false)
	deadline := time.Now().Add(15 * time.Second)
	for {
		n, err := nodes.Get(t.Context(), "cli-node")
		if err == nil && corev1.IsNodeReady(n) {
			if pods := n.Status.Capacity[corev1.ResourcePods]; pods.Value() != 10 {
				t.Errorf("pods capacity = %s, want 10", pods.String())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node not registered Ready: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("kl kubelet returned %v after cancel, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("kl kubelet did not stop after cancel")
	}
}
