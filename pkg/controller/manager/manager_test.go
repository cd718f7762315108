package manager_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/controllertest"
	"github.com/kl-dev/kl/pkg/controller/manager"
)

// stub is a controller that records whether it ran.
type stub struct {
	name string
	ran  chan struct{}
}

func (s *stub) Name() string { return s.name }

func (s *stub) Run(ctx context.Context, _ int) error {
	close(s.ran)
	<-ctx.Done()
	return nil
}

func registry(names ...string) []manager.Registration {
	var out []manager.Registration
	for _, n := range names {
		out = append(out, manager.Registration{Name: n, New: func(manager.Context) (controller.Controller, error) {
			return &stub{name: n, ran: make(chan struct{})}, nil
		}, DisabledByDefault: strings.HasPrefix(n, "opt")})
	}
	return out
}

// --controllers as kube-controller-manager reads it.
func TestSelection(t *testing.T) {
	reg := registry("replicaset", "deployment", "endpoints", "optional")
	tests := []struct {
		list []string
		want []string
	}{
		{nil, []string{"replicaset", "deployment", "endpoints"}},
		{[]string{"*"}, []string{"replicaset", "deployment", "endpoints"}},
		{[]string{"*", "-deployment"}, []string{"replicaset", "endpoints"}},
		{[]string{"-deployment", "*"}, []string{"replicaset", "endpoints"}},
		{[]string{"replicaset"}, []string{"replicaset"}},
		{[]string{"*", "optional"}, []string{"replicaset", "deployment", "endpoints", "optional"}},
		{[]string{"deployment", "-deployment"}, []string{"deployment"}}, // the first mention wins
		{[]string{" replicaset ", ""}, []string{"replicaset"}},
	}
	for _, tt := range tests {
		sel, err := manager.ParseSelection(tt.list, reg)
		if err != nil {
			t.Errorf("%q: %v", tt.list, err)
			continue
		}
		if got := sel.Names(reg); !slices.Equal(got, tt.want) {
			t.Errorf("%q runs %v, want %v", tt.list, got, tt.want)
		}
	}
	if _, err := manager.ParseSelection([]string{"cronjob"}, reg); err == nil || !strings.Contains(err.Error(), `unknown controller "cronjob"`) {
		t.Errorf("unknown name: %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	c, err := client.New(client.Config{Servers: []string{"http://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	dup := append(registry("a"), registry("a")...)
	tests := []struct {
		name string
		cfg  manager.Config
		want string
	}{
		{"no client", manager.Config{}, "no API client"},
		{"duplicate registration", manager.Config{Client: c, Registry: dup}, `duplicate registration "a"`},
		{"unknown controller", manager.Config{Client: c, Controllers: []string{"b"}, Registry: registry("a")}, `unknown controller "b"`},
		{"bad lease timing", manager.Config{Client: c, LeaderElect: true, LeaseDuration: time.Second, RenewDeadline: 2 * time.Second}, "renew deadline"},
		{"bad metrics address", manager.Config{Client: c, MetricsAddr: "256.0.0.1:1"}, "--metrics-addr"},
		{"shared informers and leader election", manager.Config{Client: c, LeaderElect: true, Informers: controller.NewInformers(c, nil)}, "shared informers cannot be used with leader election"},
	}
	for _, tt := range tests {
		if _, err := manager.New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

// Only the selected controllers run; a constructor's error stops Run.
func TestManagerRunsSelectedControllers(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	built := map[string]*stub{}
	reg := []manager.Registration{}
	for _, n := range []string{"a", "b"} {
		reg = append(reg, manager.Registration{Name: n, New: func(cc manager.Context) (controller.Controller, error) {
			if cc.Client == nil || cc.Informers == nil || cc.Recorder("x") == nil {
				return nil, errors.New("incomplete context")
			}
			s := &stub{name: n, ran: make(chan struct{})}
			built[n] = s
			return s, nil
		}})
	}
	m, stop := startManager(t, manager.Config{Client: c, Registry: reg, Controllers: []string{"*", "-b"}})
	e := newEnv(t, c)
	e.eventually("a runs", func() error {
		if !m.IsLeader() {
			return fmt.Errorf("not running")
		}
		return nil
	})
	stop()
	if _, ok := built["b"]; ok {
		t.Error("a disabled controller was built")
	}
	select {
	case <-built["a"].ran:
	default:
		t.Error("controller a never ran")
	}

	failing := []manager.Registration{{Name: "bad", New: func(manager.Context) (controller.Controller, error) {
		return nil, errors.New("no way")
	}}}
	m2, err := manager.New(manager.Config{Client: c, Registry: failing})
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "build the bad controller: no way") {
		t.Errorf("Run = %v, want the constructor's error", err)
	}
}

func TestMetricsAndHealthz(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	m, _ := startManager(t, manager.Config{Client: c, MetricsAddr: "127.0.0.1:0"})
	e := newEnv(t, c)
	e.create(deploymentSpec("web", 1, "nginx:1"))
	base := "http://" + m.MetricsAddr()
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	e.eventually("reconcile metrics", func() error {
		_, body := get("/metrics")
		for _, want := range []string{
			`kl_controller_reconcile_total{controller="deployment",result="success"}`,
			`kl_controller_reconcile_total{controller="replicaset",result="success"}`,
			`kl_controller_reconcile_duration_seconds_bucket{controller="replicaset"`,
			`kl_controller_queue_depth{controller="deployment"} 0`,
			"kl_controller_manager_leader 1",
			"go_goroutines",
		} {
			if !strings.Contains(body, want) {
				return fmt.Errorf("/metrics lacks %s", want)
			}
		}
		return nil
	})
}

// With Informers given, the controllers get those (the process shares
// them) and the manager leaves starting them to their owner.
func TestManagerUsesSharedInformers(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	shared := controller.NewInformers(c, nil)
	got := make(chan *controller.Informers, 1)
	reg := []manager.Registration{{Name: "a", New: func(cc manager.Context) (controller.Controller, error) {
		got <- cc.Informers
		cc.Informers.Pods()
		return &stub{name: "a", ran: make(chan struct{})}, nil
	}}}
	m, stop := startManager(t, manager.Config{Client: c, Registry: reg, Informers: shared})
	defer stop()
	e := newEnv(t, c)
	e.eventually("a runs", func() error {
		if !m.IsLeader() {
			return fmt.Errorf("not running")
		}
		return nil
	})
	if inf := <-got; inf != shared {
		t.Fatalf("controllers got informers %p, want the shared ones %p", inf, shared)
	}
	if shared.Pods().HasSynced() {
		t.Fatal("the manager started informers it does not own")
	}
	ctx, cancel := context.WithCancel(context.Background())
	shared.Start(ctx)
	defer func() { cancel(); shared.Wait() }()
	e.eventually("the owner's start fills the shared cache", func() error {
		if !shared.Pods().HasSynced() {
			return fmt.Errorf("pods not synced")
		}
		return nil
	})
}
