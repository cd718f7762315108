package logs_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/internal/clitest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet/kubelettest"
)

// syncBuffer is a buffer a command writes to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type result struct {
	code           int
	stdout, stderr string
}

// isolate keeps the developer's KL_* variables and home out of the test.
func isolate(t *testing.T) { clitest.Isolate(t) }

// kl runs kl against the cluster as a user would.
func kl(ctx context.Context, c *kubelettest.Cluster, stdout, stderr *syncBuffer, args ...string) int {
	ios := &iostreams.IOStreams{In: strings.NewReader(""), Out: stdout, ErrOut: stderr}
	return cli.Run(ctx, cmdutil.NewFactory(ios), append([]string{"--server", c.URL}, args...))
}

func run(t *testing.T, c *kubelettest.Cluster, args ...string) result {
	t.Helper()
	var out, errOut syncBuffer
	code := kl(t.Context(), c, &out, &errOut, args...)
	return result{code, out.String(), errOut.String()}
}

// fixture: pod web (containers app and sidecar, lines in app's log), the
// deployment and replica set web selecting it.
func fixture(t *testing.T) (*kubelettest.Cluster, *corev1.Pod) {
	t.Helper()
	isolate(t)
	c := kubelettest.Start(t)
	c.Create(t, c.Pod("web", "app", "sidecar"))
	web := c.WaitRunning(t, "web")
	c.WriteLog(t, web, "app", "starting", "listening on :80", "GET /healthz 200")

	sel := &meta.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	tmpl := corev1.PodTemplateSpec{
		ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
	}
	deployments := client.NewResource[appsv1.Deployment](c.Client, meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, true)
	if _, err := deployments.Create(t.Context(), &appsv1.Deployment{
		ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       appsv1.DeploymentSpec{Selector: sel, Template: tmpl},
	}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	replicaSets := client.NewResource[appsv1.ReplicaSet](c.Client, meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}, true)
	if _, err := replicaSets.Create(t.Context(), &appsv1.ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Name: "web-1", Namespace: "default"},
		Spec:       appsv1.ReplicaSetSpec{Selector: sel, Template: tmpl},
	}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return c, web
}

func TestKlLogs(t *testing.T) {
	c, _ := fixture(t)
	all := "starting\nlistening on :80\nGET /healthz 200\n"
	defaulted := `Defaulted container "app" out of: app, sidecar` + "\n"
	tests := []struct {
		name string
		args []string
		want result
	}{
		{name: "pod", args: []string{"logs", "web"}, want: result{0, all, defaulted}},
		{name: "container", args: []string{"logs", "web", "-c", "sidecar"}, want: result{0, "", ""}},
		{name: "container argument", args: []string{"logs", "web", "app"}, want: result{0, all, ""}},
		{name: "tail", args: []string{"logs", "web", "-c", "app", "--tail", "1"}, want: result{0, "GET /healthz 200\n", ""}},
		{name: "limit bytes", args: []string{"logs", "pod/web", "-c", "app", "--limit-bytes", "5"}, want: result{0, "start", ""}},
		{name: "deployment", args: []string{"logs", "deployment/web", "-c", "app", "--tail", "2"}, want: result{0, "listening on :80\nGET /healthz 200\n", ""}},
		{name: "replica set", args: []string{"logs", "rs/web-1", "--tail", "1"}, want: result{0, "GET /healthz 200\n", defaulted}},
		{name: "selector with prefix", args: []string{"logs", "-l", "app=web", "--all-containers", "--prefix", "--tail", "2"},
			want: result{0, "[pod/web/app] listening on :80\n[pod/web/app] GET /healthz 200\n", ""}},
		{name: "selector without pods", args: []string{"logs", "-l", "app=none"}, want: result{0, "", "No resources found in default namespace.\n"}},
		{name: "no previous attempt", args: []string{"logs", "web", "-c", "app", "--previous"},
			want: result{1, "", `Error from server (BadRequest): previous terminated container "app" in pod "web" not found` + "\n"}},
		{name: "unknown container", args: []string{"logs", "web", "-c", "db"},
			want: result{1, "", "Error from server (BadRequest): container db is not valid for pod web\n"}},
		{name: "unknown pod", args: []string{"logs", "nope"},
			want: result{1, "", `Error from server (NotFound): pods "nope" not found` + "\n"}},
		{name: "unsupported kind", args: []string{"logs", "namespace/default"},
			want: result{1, "", "error: cannot pick a pod of namespaces: kl logs and kl exec work on pods, deployments, replicasets and services\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(t, c, tt.args...); got != tt.want {
				t.Errorf("kl %s =\n%+v\nwant\n%+v", strings.Join(tt.args, " "), got, tt.want)
			}
		})
	}
}

// kl logs -f prints lines as the container writes them, until
// interrupted.
func TestKlLogsFollow(t *testing.T) {
	c, web := fixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- kl(ctx, c, &out, &errOut, "logs", "-f", "web", "-c", "app", "--tail", "1") }()
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(kubelettest.WaitTimeout)
		for out.String() != want {
			if time.Now().After(deadline) {
				t.Fatalf("output = %q, want %q (stderr %q)", out.String(), want, errOut.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("GET /healthz 200\n")
	c.WriteLog(t, web, "app", "GET /index.html 200")
	waitFor("GET /healthz 200\nGET /index.html 200\n")
	cancel()
	select {
	case code := <-done:
		if code != 130 || errOut.String() != "" {
			t.Errorf("interrupted kl logs -f = exit %d, stderr %q; want 130 and nothing", code, errOut.String())
		}
	case <-time.After(kubelettest.WaitTimeout):
		t.Fatal("kl logs -f did not stop when interrupted")
	}
}

// --previous shows the attempt that exited before the current one.
func TestKlLogsPrevious(t *testing.T) {
	c, web := fixture(t)
	if err := c.Runtime.StopContainer(t.Context(), kubelettest.ContainerID(web, "app"), 0); err != nil {
		t.Fatal(err)
	}
	web = c.WaitPod(t, "web", "restarted", func(p *corev1.Pod) bool {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name == "app" {
				return cs.RestartCount == 1 && cs.State.Running != nil
			}
		}
		return false
	})
	c.WriteLog(t, web, "app", "second life")
	if got := run(t, c, "logs", "web", "-c", "app", "-p"); got != (result{0, "starting\nlistening on :80\nGET /healthz 200\n", ""}) {
		t.Errorf("kl logs -p = %+v", got)
	}
	if got := run(t, c, "logs", "web", "-c", "app"); got != (result{0, "second life\n", ""}) {
		t.Errorf("kl logs = %+v", got)
	}
}
