package status

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/rollout/internal/deployutil"
	rt "github.com/kl-dev/kl/pkg/cli/rollout/internal/rollouttest"
	"github.com/kl-dev/kl/pkg/client"
)

func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmdStatus(cmdutil.NewFactory(ios), func(o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return got, cmd.Execute()
}

func TestNewCmdStatus_ParsesFlags(t *testing.T) {
	o, err := parse(t, "deployment/web")
	if err != nil || o.Timeout != DefaultTimeout || !o.Watch || o.Revision != 0 || strings.Join(o.Args, " ") != "deployment/web" {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	o, err = parse(t, "deploy", "web", "--timeout", "0", "--watch=false", "--revision", "3")
	if err != nil || o.Timeout != 0 || o.Watch || o.Revision != 3 || strings.Join(o.Args, " ") != "deploy web" {
		t.Errorf("flags: %+v, %v", o, err)
	}
	for _, args := range [][]string{{}, {"deployment/web", "--timeout", "-1s"}, {"deployment/web", "--revision", "-1"}} {
		var fe *cmdutil.FlagError
		if _, err := parse(t, args...); !errors.As(err, &fe) {
			t.Errorf("%v: got %v, want a usage error", args, err)
		}
	}
}

// lines is an io.Writer that hands each complete line to a channel, so a
// test can wait for the command's next message.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan string
}

func newLines() *lines { return &lines{ch: make(chan string, 100)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line) // incomplete: keep it
			return len(p), nil
		}
		l.ch <- strings.TrimSuffix(line, "\n")
	}
}

func (l *lines) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-l.ch:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no output line within 10s")
		return ""
	}
}

// env is a Deployment "web" (2 replicas) with its current ReplicaSet in a
// test apiserver.
type env struct {
	c     *client.Client
	d     *appsv1.Deployment
	newRS *appsv1.ReplicaSet
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	c := apiservertest.StartClient(t)
	d, err := deployutil.Deployments(c, rt.Namespace).Create(ctx, rt.Deployment(2, "nginx:2"), client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := deployutil.ReplicaSets(c, rt.Namespace).Create(ctx, rt.ReplicaSet(d, "new", 1, 2), client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &env{c: c, d: d, newRS: rs}
}

func (e *env) setStatus(t *testing.T, status string) {
	t.Helper()
	_, err := deployutil.Deployments(e.c, rt.Namespace).Patch(context.Background(), "web", client.MergePatchType,
		[]byte(`{"status":`+status+`}`), client.PatchOptions{Subresource: "status"})
	if err != nil {
		t.Fatal(err)
	}
}

// start runs `kl rollout status deployment/web` in the background and
// returns its output lines and its result.
func (e *env) start(t *testing.T, timeout time.Duration) (*lines, <-chan error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	out := newLines()
	ios.Out = out
	cl, ns := rt.Clients(e.c)
	ctx, cancel := context.WithCancel(context.Background())
	done, finished := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(finished)
		done <- runStatus(ctx, &Options{IO: ios, Client: cl, Namespace: ns, Args: []string{"deployment/web"}, Watch: true, Timeout: timeout})
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
	})
	return out, done
}

func result(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("rollout status did not return within 10s")
		return nil
	}
}

func TestRunStatus_PrintsEachChangeUntilComplete(t *testing.T) {
	e := newEnv(t)
	out, done := e.start(t, time.Minute)
	if got := out.next(t); got != "Waiting for deployment spec update to be observed..." {
		t.Fatalf("line 1 = %q", got)
	}
	e.setStatus(t, `{"observedGeneration":1,"replicas":1,"updatedReplicas":1}`)
	if got, want := out.next(t), `Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...`; got != want {
		t.Fatalf("line 2 = %q, want %q", got, want)
	}
	e.setStatus(t, `{"observedGeneration":1,"replicas":2,"updatedReplicas":2,"readyReplicas":2,"availableReplicas":1}`)
	if got, want := out.next(t), `Waiting for deployment "web" rollout to finish: 1 of 2 updated replicas are available...`; got != want {
		t.Fatalf("line 3 = %q, want %q", got, want)
	}
	e.setStatus(t, `{"observedGeneration":1,"replicas":2,"updatedReplicas":2,"readyReplicas":2,"availableReplicas":2}`)
	if got, want := out.next(t), `deployment "web" successfully rolled out`; got != want {
		t.Fatalf("line 4 = %q, want %q", got, want)
	}
	if err := result(t, done); err != nil {
		t.Fatalf("rollout status: %v", err)
	}
}

func TestRunStatus_FailsFastOnCrashLoopingNewPod(t *testing.T) {
	e := newEnv(t)
	e.setStatus(t, `{"observedGeneration":1,"replicas":1,"updatedReplicas":1}`)
	pods := deployutil.Pods(e.c, rt.Namespace)
	ctx := context.Background()
	pod, err := pods.Create(ctx, rt.Pod(e.newRS, "web-new-a"), client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, done := e.start(t, time.Minute)
	out.next(t) // the waiting line: the pod is fine so far
	rt.Waiting(pod, reasonCrashLoopBackOff, "back-off 20s restarting failed container=web", 2)
	if _, err := pods.UpdateStatus(ctx, pod, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = result(t, done)
	want := `deployment "web" rollout is stuck: pod web-new-a is in CrashLoopBackOff (back-off 20s restarting failed container=web)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestRunStatus_FailsWhenTheDeploymentIsDeleted(t *testing.T) {
	e := newEnv(t)
	out, done := e.start(t, time.Minute)
	out.next(t)
	if err := deployutil.Deployments(e.c, rt.Namespace).Delete(context.Background(), "web", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := result(t, done); err == nil || err.Error() != `deployment "web" was deleted` {
		t.Fatalf("got %v", err)
	}
}

func TestRunStatus_TimesOut(t *testing.T) {
	e := newEnv(t)
	_, done := e.start(t, 300*time.Millisecond)
	err := result(t, done)
	if err == nil || err.Error() != `timed out after 300ms waiting for deployment "web" rollout to finish` {
		t.Fatalf("got %v", err)
	}
}

func TestRunStatus_NoWatchPrintsOnce(t *testing.T) {
	e := newEnv(t)
	e.setStatus(t, `{"observedGeneration":1,"replicas":3,"updatedReplicas":2,"readyReplicas":2,"availableReplicas":2}`)
	ios, _, out, _ := iostreams.Test()
	cl, ns := rt.Clients(e.c)
	err := runStatus(context.Background(), &Options{IO: ios, Client: cl, Namespace: ns, Args: []string{"deploy", "web"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...\n"; out.String() != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
}

// A pod of the Deployment whose controller is an old ReplicaSet is not
// held against the rollout even if it crash-loops.
func TestRunStatus_IgnoresOldPods(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	old := rt.ReplicaSet(e.d, "old", 0, 1)
	old.Spec.Template = rt.Template("nginx:1")
	old.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "old"
	oldRS, err := deployutil.ReplicaSets(e.c, rt.Namespace).Create(ctx, old, client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods := deployutil.Pods(e.c, rt.Namespace)
	p, err := pods.Create(ctx, rt.Pod(oldRS, "web-old-a"), client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rt.Waiting(p, reasonCrashLoopBackOff, "", 9)
	if _, err := pods.UpdateStatus(ctx, p, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.setStatus(t, `{"observedGeneration":1,"replicas":3,"updatedReplicas":2,"readyReplicas":2,"availableReplicas":2}`)
	ios, _, out, _ := iostreams.Test()
	cl, ns := rt.Clients(e.c)
	if err := runStatus(ctx, &Options{IO: ios, Client: cl, Namespace: ns, Args: []string{"deployment/web"}}); err != nil {
		t.Fatalf("rollout status: %v", err)
	}
	if !strings.Contains(out.String(), "1 old replicas are pending termination") {
		t.Errorf("stdout = %q", out)
	}
}
