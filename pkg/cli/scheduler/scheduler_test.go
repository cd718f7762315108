package scheduler

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/internal/clitest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/leaderelection"
	"github.com/kl-dev/kl/pkg/scheduler"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
	"github.com/kl-dev/kl/pkg/scheduler/framework/plugins"
)

// isolate gives the test an empty home directory and no KL_* variables.
func isolate(t *testing.T) { clitest.Isolate(t) }

// parse runs `kl scheduler args` without starting anything and returns
// the options it would run with.
func parse(t *testing.T, args ...string) (*Options, error) {
	return clitest.Parse(t, NewCmdScheduler, args...)
}

func writeFile(t *testing.T, content string) string {
	return clitest.WriteFile(t, "scheduler.yaml", content)
}

func TestScheduler_DefaultsFollowDesign(t *testing.T) {
	isolate(t)
	opts, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger = nil
	want := scheduler.Config{
		SchedulerName: "default-scheduler", Parallelism: 2,
		LeaderElect: true, LeaseNamespace: "kube-system", LeaseName: "kl-scheduler",
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second,
		MetricsAddr: "127.0.0.1:10259",
	}
	if got := opts.Config(nil); !reflect.DeepEqual(got, want) {
		t.Errorf("Config() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestScheduler_EveryFlagReachesConfig(t *testing.T) {
	isolate(t)
	opts, err := parse(t,
		"--scheduler-name", "batch", "--percentage-of-nodes-to-score", "30", "--parallelism", "4",
		"--scheduled-events=false", "--metrics-addr", "0",
		"--leader-elect=true", "--lease-namespace", "infra", "--lease-name", "sched",
		"--lease-duration", "30s", "--renew-deadline", "20s", "--retry-period", "5s",
	)
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger = nil
	want := scheduler.Config{
		SchedulerName: "batch", PercentageOfNodesToScore: 30, Parallelism: 4, SkipScheduledEvents: true,
		LeaderElect: true, LeaseNamespace: "infra", LeaseName: "sched",
		LeaseDuration: 30 * time.Second, RenewDeadline: 20 * time.Second, RetryPeriod: 5 * time.Second,
		MetricsAddr: "0",
	}
	if got := opts.Config(nil); !reflect.DeepEqual(got, want) {
		t.Errorf("Config() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestScheduler_FlagBeatsEnvBeatsConfigFile(t *testing.T) {
	const file = `
percentage-of-nodes-to-score: 20
lease-duration: 20s
leader-elect: false
plugins:
  filter:
    disabled: [NodePorts]
  score:
    enabled: [{name: LeastAllocated, weight: 3}]
`
	tests := []struct {
		name        string
		env         map[string]string
		args        []string
		wantPct     int
		wantLease   time.Duration
		wantElect   bool
		wantPlugins bool
	}{
		{name: "defaults", wantPct: 0, wantLease: 15 * time.Second, wantElect: true},
		{name: "config file", args: []string{"--config", "FILE"}, wantPct: 20, wantLease: 20 * time.Second, wantPlugins: true},
		{name: "env over file", env: map[string]string{"KL_PERCENTAGE_OF_NODES_TO_SCORE": "40", "KL_LEADER_ELECT": "true"},
			args: []string{"--config", "FILE"}, wantPct: 40, wantLease: 20 * time.Second, wantElect: true, wantPlugins: true},
		{name: "flag over env and file", env: map[string]string{"KL_PERCENTAGE_OF_NODES_TO_SCORE": "40"},
			args: []string{"--config", "FILE", "--percentage-of-nodes-to-score", "60"}, wantPct: 60, wantLease: 20 * time.Second, wantPlugins: true},
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
			if opts.PercentageOfNodesToScore != tt.wantPct || opts.LeaseDuration != tt.wantLease || opts.LeaderElect != tt.wantElect {
				t.Errorf("percentage %d, lease %v, leader-elect %v; want %d, %v, %v",
					opts.PercentageOfNodesToScore, opts.LeaseDuration, opts.LeaderElect, tt.wantPct, tt.wantLease, tt.wantElect)
			}
			if !tt.wantPlugins {
				return
			}
			fw, err := framework.New(plugins.NewInTreeRegistry(), plugins.DefaultPlugins(), opts.Plugins)
			if err != nil {
				t.Fatal(err)
			}
			if got := fw.FilterPlugins(); slicesContain(got, "NodePorts") {
				t.Errorf("filters %v still include NodePorts", got)
			}
			if got := fw.ScorePlugins()[0]; got != (framework.PluginRef{Name: "LeastAllocated", Weight: 3}) {
				t.Errorf("first score plugin %+v, want LeastAllocated weight 3", got)
			}
		})
	}
}

func slicesContain(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func TestScheduler_BadFlagsAndConfigAreErrorsNamingTheCulprit(t *testing.T) {
	tests := []struct {
		name string
		file string
		args []string
		want string
	}{
		{name: "unknown key", file: "leader-elect: true\nparalelism: 3\n",
			want: `unknown key "paralelism" (keys are the command's flag names without dashes, e.g. leader-elect, and plugins)`},
		{name: "unknown plugin", file: "plugins:\n  filter:\n    disabled: [NodeAffinity]\n",
			want: `plugins.filter: unknown plugin "NodeAffinity"`},
		{name: "misspelt plugins field", file: "plugins:\n  filter:\n    disable: [NodePorts]\n",
			want: `plugins: json: unknown field "disable"`},
		{name: "bad value in file", file: "lease-duration: soon\n",
			want: `invalid value for --lease-duration from config file`},
		{name: "renew deadline not below lease duration", args: []string{"--lease-duration", "10s", "--renew-deadline", "10s"},
			want: "--renew-deadline 10s must be less than --lease-duration 10s"},
		{name: "percentage", args: []string{"--percentage-of-nodes-to-score", "101"}, want: "--percentage-of-nodes-to-score 101: want 0 (adaptive) to 100"},
		{name: "metrics address", args: []string{"--metrics-addr", "localhost"}, want: `--metrics-addr "localhost": want host:port`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, tt.file))
			}
			_, err := parse(t, args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestScheduler_HelpListsEveryPlugin(t *testing.T) {
	cmd := NewCmdScheduler(cmdutil.NewFactory(&iostreams.IOStreams{}), nil)
	for _, name := range plugins.NewInTreeRegistry().Names() {
		if !strings.Contains(cmd.Long, name) {
			t.Errorf("help does not mention plugin %s", name)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRunScheduler_LeadsSchedulesServesMetricsAndReleases runs the command's
// run function against an in-process apiserver: it takes the lease,
// binds a pod, serves /metrics and /healthz, and on cancel (SIGTERM)
// releases the lease and returns nil.
func TestRunScheduler_LeadsSchedulesServesMetricsAndReleases(t *testing.T) {
	isolate(t)
	c := apiservertest.StartClient(t)
	ctx := context.Background()
	node := &corev1.Node{
		ObjectMeta: meta.ObjectMeta{Name: "n1"},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("10")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
	if _, err := client.NewResource[corev1.Node](c, meta.GroupVersionResource{Version: "v1", Resource: "nodes"}, false).Create(ctx, node, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := client.NewResource[corev1.Pod](c, meta.GroupVersionResource{Version: "v1", Resource: "pods"}, true).Namespace("default")
	pod := &corev1.Pod{ObjectMeta: meta.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:1"}}}}
	if _, err := pods.Create(ctx, pod, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	opts, err := parse(t, "--metrics-addr", "127.0.0.1:0", "--retry-period", "100ms")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	opts.Client = func() (*client.Client, error) { return c, nil }
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runScheduler(runCtx, opts) }()
	var stopOnce sync.Once
	var runErr error
	stop := func() error { // SIGTERM, and wait for runScheduler to return
		stopOnce.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(10 * time.Second):
				t.Error("runScheduler did not return after cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })

	waitFor(t, "the pod to be bound", func() bool {
		p, err := pods.Get(ctx, "web")
		return err == nil && p.Spec.NodeName == "n1"
	})
	addr := regexp.MustCompile(`msg="serving metrics" url=http://(\S+)/metrics`).FindStringSubmatch(logs.String())
	if addr == nil {
		t.Fatalf("no metrics address in the logs:\n%s", logs.String())
	}
	get := func(path string) string {
		resp, err := http.Get("http://" + addr[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := get("/healthz"); got != "ok" {
		t.Errorf("/healthz = %q, want ok", got)
	}
	waitFor(t, "the bind to be counted", func() bool {
		return strings.Contains(get("/metrics"), `scheduler_schedule_attempts_total{result="scheduled"} 1`)
	})
	m := get("/metrics")
	for _, want := range []string{"kl_scheduler_leader 1", `scheduler_pending_pods{queue="active"} 0`, "scheduler_e2e_scheduling_duration_seconds_bucket"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	leases := client.NewResource[coordinationv1.Lease](c, leaderelection.LeasesGVR, true).Namespace("kube-system")
	lease, err := leases.Get(ctx, "kl-scheduler")
	if err != nil || lease.Holder() == "" {
		t.Fatalf("lease kube-system/kl-scheduler: %v, holder %q", err, lease.Holder())
	}

	if err := stop(); err != nil {
		t.Errorf("runScheduler after cancel = %v, want nil", err)
	}
	if lease, err = leases.Get(ctx, "kl-scheduler"); err != nil || lease.Holder() != "" {
		t.Errorf("after stopping, lease holder %q (%v), want released", lease.Holder(), err)
	}
}
