package proxy

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/internal/clitest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/proxy"
)

// isolate gives the test an empty home directory and no KL_* variables, so
// the developer's or CI's environment cannot change results.
func isolate(t *testing.T) { clitest.Isolate(t) }

// parse runs `kl proxy args` without starting anything and returns the
// options the proxy would get.
func parse(t *testing.T, args ...string) (*Options, error) {
	return clitest.Parse(t, NewCmdProxy, args...)
}

func writeFile(t *testing.T, content string) string {
	return clitest.WriteFile(t, "proxy.yaml", content)
}

func TestProxy_Defaults(t *testing.T) {
	isolate(t)
	opts, err := parse(t, "--node-name", "node-1")
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger = nil
	want := proxy.Config{
		NodeName:       "node-1",
		ClusterIPMode:  proxy.ClusterIPModeAuto,
		InterfaceName:  "kl-svc0",
		DialTimeout:    time.Second,
		MetricsAddress: "127.0.0.1:10249",
	}
	got := opts.Config(nil)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Config() =\n%+v\nwant\n%+v", got, want)
	}
	if a := got.NodePortAddresses(); len(a) != 1 || a[0] != netip.IPv4Unspecified() {
		t.Errorf("NodePorts listen on %v, want 0.0.0.0", a)
	}
}

func TestProxy_EveryFlagReachesConfig(t *testing.T) {
	isolate(t)
	opts, err := parse(t,
		"--node-name", "node-2",
		"--node-ip", "10.0.0.7",
		"--bind-address", "10.0.0.8",
		"--metrics-addr", "0",
		"--cluster-ip-mode", "dummy-interface",
		"--service-interface", "kl-svc9",
		"--endpoint-dial-timeout", "250ms",
	)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil || opts.Client == nil {
		t.Error("Logger or Client not set")
	}
	opts.Logger = nil
	want := proxy.Config{
		NodeName:      "node-2",
		NodeIP:        netip.MustParseAddr("10.0.0.7"),
		BindAddress:   netip.MustParseAddr("10.0.0.8"),
		ClusterIPMode: proxy.ClusterIPModeDummyInterface,
		InterfaceName: "kl-svc9",
		DialTimeout:   250 * time.Millisecond,
	}
	if got := opts.Config(nil); !reflect.DeepEqual(got, want) {
		t.Errorf("Config() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestProxy_FlagBeatsEnvBeatsConfigFile(t *testing.T) {
	const file = "node-name: from-file\ncluster-ip-mode: \"off\"\n"
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantNode string
		wantMode string
	}{
		{name: "config file", args: []string{"--config", "FILE"}, wantNode: "from-file", wantMode: "off"},
		{name: "env over config file", env: map[string]string{"KL_NODE_NAME": "from-env"}, args: []string{"--config", "FILE"}, wantNode: "from-env", wantMode: "off"},
		{name: "flag over env", env: map[string]string{"KL_NODE_NAME": "from-env", "KL_CLUSTER_IP_MODE": "auto"}, args: []string{"--config", "FILE", "--node-name", "from-flag"}, wantNode: "from-flag", wantMode: "auto"},
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
			if opts.NodeName != tt.wantNode || opts.ClusterIPMode != tt.wantMode {
				t.Errorf("node-name, cluster-ip-mode = %s, %s; want %s, %s", opts.NodeName, opts.ClusterIPMode, tt.wantNode, tt.wantMode)
			}
		})
	}
}

func TestProxy_RejectsInvalidFlagsBeforeStarting(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"bad node name", []string{"--node-name", "Node_1"}, `--node-name "Node_1": must be a lowercase DNS subdomain`},
		{"node ip", []string{"--node-ip", "node-1"}, `--node-ip "node-1" is not an IP address`},
		{"bind address", []string{"--bind-address", "10.0.0.0/8"}, `--bind-address "10.0.0.0/8" is not an IP address`},
		{"cluster ip mode", []string{"--cluster-ip-mode", "iptables"}, `--cluster-ip-mode "iptables": want auto, dummy-interface or off`},
		{"interface name too long", []string{"--service-interface", "kl-services-interface"}, `--service-interface "kl-services-interface": want an interface name of 1 to 15 characters`},
		{"dial timeout", []string{"--endpoint-dial-timeout", "0s"}, "--endpoint-dial-timeout must be positive"},
		{"metrics address", []string{"--metrics-addr", "10249"}, `--metrics-addr "10249": want host:port`},
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

func TestProxy_ServesANodePortUntilCancelled(t *testing.T) {
	isolate(t)
	url := apiservertest.Start(t)

	// A backend, and a NodePort Service whose Endpoints point at it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello from the backend")
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = backend.Serve(ln) }()
	t.Cleanup(func() { _ = backend.Close() })
	c, err := client.New(client.Config{Servers: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	nodePort := freeNodePort(t)
	svcs := client.NewResource[corev1.Service](c, meta.GroupVersionResource{Version: "v1", Resource: "services"}, true).Namespace("default")
	if _, err := svcs.Create(t.Context(), &corev1.Service{
		ObjectMeta: meta.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80, NodePort: nodePort}}},
	}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eps := client.NewResource[corev1.Endpoints](c, meta.GroupVersionResource{Version: "v1", Resource: "endpoints"}, true).Namespace("default")
	if _, err := eps.Create(t.Context(), &corev1.Endpoints{
		ObjectMeta: meta.ObjectMeta{Name: "web"},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: "127.0.0.1"}},
			Ports:     []corev1.EndpointPort{{Port: int32(ln.Addr().(*net.TCPAddr).Port)}},
		}},
	}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	ios, _, _, _ := iostreams.Test()
	f := cmdutil.NewFactory(ios)
	f.Global.Server = url
	cmd := NewCmdProxy(f, nil)
	cmd.SetArgs([]string{"--node-name", "cli-node", "--bind-address", "127.0.0.1", "--cluster-ip-mode", "off", "--metrics-addr", "0"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	addr := "http://127.0.0.1:" + strconv.Itoa(int(nodePort)) + "/"
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := hc.Get(addr)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "hello from the backend" {
				t.Errorf("NodePort answered %q", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("NodePort %d not served: %v", nodePort, err)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("kl proxy returned %v after cancel, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("kl proxy did not stop after cancel")
	}
}

// freeNodePort returns a port of the NodePort range free on 127.0.0.1.
func freeNodePort(t *testing.T) int32 {
	t.Helper()
	for range 100 {
		port := 30000 + rand.IntN(2768)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			ln.Close()
			return int32(port)
		}
	}
	t.Fatal("no free port in 30000-32767")
	return 0
}
