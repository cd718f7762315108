package scale

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/client"
)

func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmdScale(cmdutil.NewFactory(ios), func(o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return got, cmd.Execute()
}

func TestNewCmdScale_ParsesFlags(t *testing.T) {
	o, err := parse(t, "deployment/web", "--replicas", "0")
	if err != nil || o.Replicas != 0 || o.CurrentReplicas != -1 || o.Timeout != 0 || strings.Join(o.Args, " ") != "deployment/web" {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	o, err = parse(t, "deploy", "web", "api", "--replicas", "3", "--current-replicas", "2", "--timeout", "1m")
	if err != nil || o.Replicas != 3 || o.CurrentReplicas != 2 || o.Timeout != time.Minute || strings.Join(o.Args, " ") != "deploy web api" {
		t.Errorf("flags: %+v, %v", o, err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"deployment/web"}, "--replicas is required"},
		{[]string{"deployment/web", "--replicas", "-1"}, "--replicas must be between 0 and"},
		{[]string{"deployment/web", "--replicas", "3000000000"}, "--replicas must be between 0 and"},
		{[]string{"deployment/web", "--replicas", "1", "--current-replicas", "-2"}, "--current-replicas must be between 0 and"},
		{[]string{"deployment/web", "--replicas", "1", "--timeout", "-1s"}, "--timeout must not be negative"},
		{[]string{"--replicas", "1"}, "requires at least 1 arg"},
	} {
		_, err := parse(t, tt.args...)
		var fe *cmdutil.FlagError
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &fe) {
			t.Errorf("%v: got %v, want a usage error %q", tt.args, err, tt.want)
		}
	}
}

var (
	deploymentsGVR = meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	replicaSetsGVR = meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
)

const namespace = "default"

func template(app string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: app, Image: app + ":1"}}},
	}
}

// env is Deployment "web" (1 replica) and ReplicaSet "cache" (2) in a test
// apiserver.
type env struct {
	c *client.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := apiservertest.StartClient(t)
	ctx := context.Background()
	d := &appsv1.Deployment{
		ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: meta.Int32p(1),
			Selector: &meta.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: template("web"),
		},
	}
	if _, err := client.NewResource[appsv1.Deployment](c, deploymentsGVR, true).Create(ctx, d, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Name: "cache", Namespace: namespace},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: meta.Int32p(2),
			Selector: &meta.LabelSelector{MatchLabels: map[string]string{"app": "cache"}},
			Template: template("cache"),
		},
	}
	if _, err := client.NewResource[appsv1.ReplicaSet](c, replicaSetsGVR, true).Create(ctx, rs, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return &env{c: c}
}

func (e *env) opts(args ...string) (*Options, *strings.Builder, *strings.Builder) {
	out, errOut := &strings.Builder{}, &strings.Builder{}
	ios, _, _, _ := iostreams.Test()
	ios.Out, ios.ErrOut = out, errOut
	return &Options{
		IO:              ios,
		Client:          func() (*client.Client, error) { return e.c, nil },
		Namespace:       func() (string, bool, error) { return namespace, false, nil },
		Args:            args,
		CurrentReplicas: -1,
	}, out, errOut
}

func (e *env) replicas(t *testing.T, gvr meta.GroupVersionResource, name string) int32 {
	t.Helper()
	body, err := e.c.Dynamic().Subresource(context.Background(), "GET", gvr, namespace, name, "scale", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sc appsv1.Scale
	if err := json.Unmarshal(body, &sc); err != nil {
		t.Fatal(err)
	}
	return sc.Spec.Replicas
}

func TestRunScale_ScalesThroughTheScaleSubresource(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	opts, out, _ := e.opts("deployment/web", "replicaset/cache")
	opts.Replicas = 4
	if err := runScale(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if out.String() != "deployment.apps/web scaled\nreplicaset.apps/cache scaled\n" {
		t.Errorf("stdout %q", out)
	}
	if n := e.replicas(t, deploymentsGVR, "web"); n != 4 {
		t.Errorf("deployment replicas %d, want 4", n)
	}
	if n := e.replicas(t, replicaSetsGVR, "cache"); n != 4 {
		t.Errorf("replicaset replicas %d, want 4", n)
	}
	// To zero, which JSON would drop if it were omitted.
	opts, _, _ = e.opts("deploy", "web")
	if err := runScale(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if n := e.replicas(t, deploymentsGVR, "web"); n != 0 {
		t.Errorf("deployment replicas %d, want 0", n)
	}
}

func TestRunScale_CurrentReplicasIsAPrecondition(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	opts, out, errOut := e.opts("deployment/web")
	opts.Replicas, opts.CurrentReplicas = 5, 3
	err := runScale(ctx, opts)
	var exit *cmdutil.ExitError
	if !errors.As(err, &exit) || out.Len() != 0 || errOut.String() != "error: Expected replicas to be 3, was 1\n" {
		t.Fatalf("mismatch: err %v stdout %q stderr %q", err, out, errOut)
	}
	if n := e.replicas(t, deploymentsGVR, "web"); n != 1 {
		t.Errorf("replicas %d after a failed precondition, want 1", n)
	}
	opts, out, _ = e.opts("deployment/web")
	opts.Replicas, opts.CurrentReplicas = 5, 1
	if err := runScale(ctx, opts); err != nil || out.String() != "deployment.apps/web scaled\n" {
		t.Fatalf("match: %v, %q", err, out)
	}
	if n := e.replicas(t, deploymentsGVR, "web"); n != 5 {
		t.Errorf("replicas %d, want 5", n)
	}
}

func TestRunScale_WaitsForTheReplicas(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	opts, _, _ := e.opts("deployment/web")
	opts.Replicas, opts.Timeout = 3, time.Minute
	done := make(chan error, 1)
	go func() { done <- runScale(ctx, opts) }()
	// The controller's report; its observedGeneration covers the scale
	// whichever lands first.
	if _, err := client.NewResource[appsv1.Deployment](e.c, deploymentsGVR, true).Namespace(namespace).Patch(ctx, "web", client.MergePatchType,
		[]byte(`{"status":{"observedGeneration":5,"replicas":3}}`), client.PatchOptions{Subresource: "status"}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("scale --timeout did not return after the status was written")
	}

	opts, _, _ = e.opts("deployment/web")
	opts.Replicas, opts.Timeout = 7, 200*time.Millisecond
	if err := runScale(ctx, opts); err == nil || err.Error() != "timed out after 200ms waiting for deployment.apps/web to have 7 replicas" {
		t.Fatalf("got %v", err)
	}
}

func TestRunScale_RefusesOtherKinds(t *testing.T) {
	e := newEnv(t)
	opts, _, _ := e.opts("pods/web")
	opts.Replicas = 1
	if err := runScale(context.Background(), opts); err == nil || err.Error() != "cannot scale pods: kl scale works on deployments and replicasets" {
		t.Fatalf("got %v", err)
	}
}
