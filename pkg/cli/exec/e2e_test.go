package exec_test

import (
	"bytes"
	"strings"
	"testing"

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

type result struct {
	code           int
	stdout, stderr string
}

// isolate keeps the developer's KL_* variables and home out of the test.
func isolate(t *testing.T) { clitest.Isolate(t) }

// run runs kl against the cluster as a user would.
func run(t *testing.T, c *kubelettest.Cluster, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	ios := &iostreams.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code := cli.Run(t.Context(), cmdutil.NewFactory(ios), append([]string{"--server", c.URL}, args...))
	return result{code, out.String(), errOut.String()}
}

// fixture: pod web (containers app and sidecar) and the deployment web
// selecting it; pod done, completed.
func fixture(t *testing.T) *kubelettest.Cluster {
	t.Helper()
	isolate(t)
	c := kubelettest.Start(t)
	c.Create(t, c.Pod("web", "app", "sidecar"))
	done := c.Pod("done", "app")
	done.Spec.RestartPolicy = corev1.RestartPolicyNever
	done.Spec.Containers[0].Command = []string{"true"}
	c.Create(t, done)
	c.WaitRunning(t, "web")
	c.WaitPod(t, "done", "Succeeded", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	sel := &meta.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	deployments := client.NewResource[appsv1.Deployment](c.Client, meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, true)
	if _, err := deployments.Create(t.Context(), &appsv1.Deployment{
		ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Selector: sel, Template: corev1.PodTemplateSpec{
			ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
		}},
	}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestKlExec(t *testing.T) {
	c := fixture(t)
	defaulted := `Defaulted container "app" out of: app, sidecar` + "\n"
	tests := []struct {
		name string
		args []string
		want result
	}{
		{name: "output", args: []string{"exec", "web", "--", "echo", "hello", "world"}, want: result{0, "hello world\n", defaulted}},
		{name: "container", args: []string{"exec", "web", "-c", "sidecar", "--", "hostname"}, want: result{0, "web\n", ""}},
		{name: "exit code", args: []string{"exec", "web", "-c", "app", "--", "sh", "-c", "exit 3"},
			want: result{3, "", "command terminated with exit code 3\n"}},
		{name: "quiet", args: []string{"exec", "-q", "web", "--", "false"}, want: result{1, "", ""}},
		{name: "stderr", args: []string{"exec", "web", "-c", "app", "--", "sleep"},
			want: result{1, "", "sleep: missing operand\ncommand terminated with exit code 1\n"}},
		{name: "deployment", args: []string{"exec", "deployment/web", "-c", "app", "--", "echo", "ok"}, want: result{0, "ok\n", ""}},
		{name: "unknown container", args: []string{"exec", "web", "-c", "db", "--", "ls"},
			want: result{1, "", "Error from server (BadRequest): container db is not valid for pod web\n"}},
		{name: "unknown pod", args: []string{"exec", "nope", "--", "ls"},
			want: result{1, "", `Error from server (NotFound): pods "nope" not found` + "\n"}},
		{name: "no dash", args: []string{"exec", "web", "ls", "/etc/app dir"},
			want: result{1, "", "error: put the command after --: kl exec web -- ls '/etc/app dir'\nRun 'kl exec --help' for usage.\n"}},
		{name: "completed pod", args: []string{"exec", "done", "--", "ls"},
			want: result{1, "", "error: cannot exec into a container in a completed pod; current phase is Succeeded\n"}},
		{name: "interactive", args: []string{"exec", "-it", "web", "--", "sh"},
			want: result{1, "", "error: kl exec is not interactive: -i/--stdin and -t/--tty are not supported\nRun 'kl exec --help' for usage.\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(t, c, tt.args...); got != tt.want {
				t.Errorf("kl %s =\n%+v\nwant\n%+v", strings.Join(tt.args, " "), got, tt.want)
			}
		})
	}
}
