package controllermanager

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/internal/clitest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/controllertest"
	"github.com/kl-dev/kl/pkg/controller/manager"
)

// isolate gives the test an empty home directory and no KL_* variables.
func isolate(t *testing.T) { clitest.Isolate(t) }

// parse runs `kl controller-manager args` without starting anything and
// returns the options.
func parse(t *testing.T, args ...string) (*Options, error) {
	return clitest.Parse(t, NewCmdControllerManager, args...)
}

func writeFile(t *testing.T, content string) string {
	return clitest.WriteFile(t, "controller-manager.yaml", content)
}

func TestControllerManager_Defaults(t *testing.T) {
	isolate(t)
	opts, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil || opts.Client == nil {
		t.Error("Logger or Client not set")
	}
	opts.Logger = nil
	want := manager.Config{
		Controllers: []string{"*"}, Workers: 10, LeaderElect: true,
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second,
		MetricsAddr:            "127.0.0.1:10257",
		NodeMonitorGracePeriod: 40 * time.Second, PodEvictionTimeout: 5 * time.Minute, NodeMonitorPeriod: 5 * time.Second,
	}
	if got := opts.Config(nil); !reflect.DeepEqual(got, want) {
		t.Errorf("Config() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestControllerManager_FlagsEnvironmentAndConfigFile(t *testing.T) {
	isolate(t)
	t.Setenv("KL_WORKERS", "7")
	file := writeFile(t, "workers: 3\nretry-period: 1s\ncontrollers: [replicaset]\npod-eviction-timeout: 20s\n")
	opts, err := parse(t, "--config", file, "--leader-elect=false", "--lease-duration", "20s", "--renew-deadline", "12s", "--metrics-addr", "0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger = nil
	want := manager.Config{
		Controllers: []string{"replicaset"}, Workers: 7, LeaderElect: false,
		LeaseDuration: 20 * time.Second, RenewDeadline: 12 * time.Second, RetryPeriod: time.Second,
		MetricsAddr:            "0",
		NodeMonitorGracePeriod: 40 * time.Second, PodEvictionTimeout: 20 * time.Second, NodeMonitorPeriod: 5 * time.Second,
	}
	if got := opts.Config(nil); !reflect.DeepEqual(got, want) {
		t.Errorf("Config() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestControllerManager_RejectsInvalidFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown controller", []string{"--controllers", "replicaset,cronjob"}, `unknown controller "cronjob" in --controllers (known: deployment, `},
		{"unknown disabled controller", []string{"--controllers", "*,-cronjob"}, `unknown controller "cronjob"`},
		{"workers", []string{"--workers", "0"}, "--workers must be at least 1"},
		{"renew deadline", []string{"--renew-deadline", "20s"}, "--renew-deadline 20s must be less than --lease-duration 15s"},
		{"retry period", []string{"--retry-period", "10s"}, "--retry-period 10s must be positive and less than --renew-deadline 10s"},
		{"lease duration", []string{"--lease-duration", "500ms", "--renew-deadline", "100ms", "--retry-period", "10ms"}, "--lease-duration 500ms must be at least 1s"},
		{"metrics address", []string{"--metrics-addr", "10257"}, `--metrics-addr "10257": want host:port`},
		{"positional argument", []string{"extra"}, `unknown command "extra"`},
		{"unknown config key", []string{"--config", "FILE:wokers: 3\n"}, `unknown key "wokers"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			var args []string
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
	// Without leader election the lease flags are not checked.
	isolate(t)
	if _, err := parse(t, "--leader-elect=false", "--renew-deadline", "1h"); err != nil {
		t.Errorf("--leader-elect=false with odd lease flags: %v", err)
	}
}

// The command runs the controllers against an apiserver until cancelled.
func TestControllerManager_RunsUntilCancelled(t *testing.T) {
	isolate(t)
	c, url := controllertest.StartAPIServerURL(t)
	ios, _, _, _ := iostreams.Test()
	f := cmdutil.NewFactory(ios)
	f.Global.Server = url
	cmd := NewCmdControllerManager(f, nil)
	cmd.SetArgs([]string{"--metrics-addr", "0", "--retry-period", "100ms", "--renew-deadline", "1s", "--lease-duration", "2s"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	rss := client.NewResource[appsv1.ReplicaSet](c, controller.ReplicaSetsResource, true).Namespace("default")
	labels := map[string]string{"app": "web"}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: meta.Int32p(2), Selector: &meta.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: meta.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img"}}}},
		},
	}
	if _, err := rss.Create(t.Context(), rs, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := rss.Get(t.Context(), "web")
		if err == nil && got.Status.Replicas == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ReplicaSet never got its pods: %+v, %v", got, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("kl controller-manager: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("kl controller-manager did not stop")
	}
	// On the way out it released the lease.
	lease, err := client.NewResource[coordinationv1.Lease](c, controller.LeasesResource, true).Namespace("kube-system").Get(t.Context(), "kl-controller-manager")
	if err != nil {
		t.Fatal(err)
	}
	if h := lease.Holder(); h != "" {
		t.Errorf("lease still held by %q after SIGTERM", h)
	}
}
