package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/test/e2e/framework"
)

// kubectlRunner runs the real kubectl against one kl apiserver, with its
// own empty KUBECONFIG and HOME so the user's configuration is neither read
// nor written.
type kubectlRunner struct {
	t       *testing.T
	path    string
	server  string
	env     []string
	timeout time.Duration
}

// newKubectl returns a runner for the kubectl on PATH and skips the test
// when there is none.
func newKubectl(t *testing.T, server string) *kubectlRunner {
	t.Helper()
	path, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not on PATH")
	}
	home := t.TempDir()
	kubeconfig := filepath.Join(home, "kubeconfig")
	if err := os.WriteFile(kubeconfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return &kubectlRunner{
		t: t, path: path, server: server, timeout: 60 * time.Second,
		env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "KUBECONFIG=" + kubeconfig},
	}
}

// run runs kubectl --server URL args... with stdin and returns its stdout,
// stderr and error (an *exec.ExitError for a non-zero exit).
func (k *kubectlRunner) run(stdin string, args ...string) (string, string, error) {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), k.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.path, append([]string{"--server", k.server, "--request-timeout", "30s"}, args...)...)
	cmd.Env = k.env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		k.t.Fatalf("kubectl %s: no answer within %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), k.timeout, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String(), err
}

// kubectlStep is one kubectl invocation and what it must print.
type kubectlStep struct {
	name  string
	stdin string
	args  []string
	// wantErr: kubectl must exit non-zero.
	wantErr bool
	// want: each must start a line of stdout (for wantErr: of stderr),
	// given as its whitespace-separated fields in order, e.g.
	// "default pod/web"; a field ending in * matches by prefix.
	want []string
	// absent: no stdout line may contain one of these.
	absent []string
}

func (k *kubectlRunner) check(s kubectlStep) {
	k.t.Helper()
	stdout, stderr, err := k.run(s.stdin, s.args...)
	cmdline := "kubectl " + strings.Join(s.args, " ")
	switch {
	case s.wantErr && err == nil:
		k.t.Fatalf("%s: %s succeeded, want an error\nstdout:\n%s", s.name, cmdline, stdout)
	case !s.wantErr && err != nil:
		k.t.Fatalf("%s: %s: %v\nstdout:\n%s\nstderr:\n%s", s.name, cmdline, err, stdout, stderr)
	}
	out := stdout
	if s.wantErr {
		out = stderr
	}
	for _, w := range s.want {
		if !hasLineWithFields(out, strings.Fields(w)) {
			k.t.Errorf("%s: %s printed no line %q:\n%s", s.name, cmdline, w, out)
		}
	}
	for _, a := range s.absent {
		if strings.Contains(stdout, a) {
			k.t.Errorf("%s: %s printed %q:\n%s", s.name, cmdline, a, stdout)
		}
	}
}

// hasLineWithFields reports whether a line of out starts with fields,
// compared field by field (column widths vary); a field ending in * is a
// prefix.
func hasLineWithFields(out string, fields []string) bool {
	for _, line := range strings.Split(out, "\n") {
		got := strings.Fields(line)
		if len(got) < len(fields) {
			continue
		}
		match := true
		for i, f := range fields {
			if p, ok := strings.CutSuffix(f, "*"); ok {
				match = match && strings.HasPrefix(got[i], p)
			} else {
				match = match && got[i] == f
			}
		}
		if match {
			return true
		}
	}
	return false
}

const kubectlApp = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: web
    image: nginx:1.27
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: kube-system
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: busybox:1.36
`

const kubectlConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: fast
`

// TestKubectl drives `kl apiserver --insecure` with the real kubectl:
// create, list across namespaces with each kind's columns (the server's
// meta.k8s.io Tables), version and discovery, re-apply (client-side
// apply's three-way patch), server-side apply, scale, delete.
//
// kubectl's default --validate=strict needs the server's OpenAPI v3
// documents, which kl does not serve yet (TestKubectlKnownGaps), so the
// writes here pass --validate=false; kl validates every write itself.
func TestKubectl(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not on PATH")
	}
	_, url := framework.APIServer(t, klBinary, t.TempDir(), "--storage", "memory")
	k := newKubectl(t, url)
	for _, s := range []kubectlStep{
		{name: "create from stdin", stdin: kubectlApp, args: []string{"apply", "-f", "-"},
			want: []string{"pod/web created", "service/web created", "deployment.apps/api created"}},
		{name: "list pods and services in all namespaces", args: []string{"get", "pods,services", "-A"},
			want: []string{"NAMESPACE NAME READY STATUS RESTARTS AGE", "default pod/web 0/1 Pending 0",
				"NAMESPACE NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE", "default service/web ClusterIP 10.96.* <none> 80/TCP"}},
		{name: "pods show the server's columns", args: []string{"get", "pods"},
			want: []string{"NAME READY STATUS RESTARTS AGE", "web 0/1 Pending 0"}},
		{name: "wide columns", args: []string{"get", "pods", "-o", "wide"},
			want: []string{"NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES", "web 0/1 Pending 0 * <none> <none> <none> <none>"}},
		{name: "deployment columns", args: []string{"get", "deployments", "-n", "kube-system"},
			want: []string{"NAME READY UP-TO-DATE AVAILABLE AGE", "api 0/1 0 0"}},
		{name: "one namespace", args: []string{"get", "ns", "default"},
			want: []string{"NAME STATUS AGE", "default Active"}},
		{name: "list names across kinds", args: []string{"get", "pods,services,deployments", "-A", "-o", "name"},
			want: []string{"pod/web", "service/web", "deployment.apps/api"}},
		{name: "server-set fields", args: []string{"get", "pod/web", "service/web", "-o", "jsonpath={range .items[*]}{.kind} {.status.phase}{.spec.clusterIP}{\"\\n\"}{end}"},
			want: []string{"Pod Pending", "Service 10.96.*"}},
		{name: "version", args: []string{"version"}, want: []string{"Server Version: v1.*"}},
		{name: "namespaces", args: []string{"get", "ns"},
			want: []string{"NAME STATUS AGE", "default Active", "kube-system Active", "kube-node-lease Active"}},
		{name: "api-resources", args: []string{"api-resources"},
			want: []string{"pods po v1 true Pod", "services svc v1 true Service", "namespaces ns v1 false Namespace",
				"deployments deploy apps/v1 true Deployment", "leases coordination.k8s.io/v1 true Lease"}},
		{name: "label selector", args: []string{"get", "pods", "-l", "app=web", "-o", "name"}, want: []string{"pod/web"}},
		{name: "re-apply a change", stdin: strings.Replace(kubectlApp, "nginx:1.27", "nginx:1.28", 1),
			args: []string{"apply", "-f", "-"},
			want: []string{"pod/web configured", "service/web unchanged", "deployment.apps/api unchanged"}},
		{name: "the change is stored", args: []string{"get", "pod", "web", "-o", "jsonpath={.spec.containers[0].image}"},
			want: []string{"nginx:1.28"}},
		{name: "scale", args: []string{"scale", "-n", "kube-system", "deployment/api", "--replicas=3"},
			want: []string{"deployment.apps/api scaled"}},
		{name: "scaled", args: []string{"get", "-n", "kube-system", "deploy", "api", "-o", "jsonpath={.spec.replicas}"},
			want: []string{"3"}},
		{name: "server-side apply", stdin: kubectlConfigMap, args: []string{"apply", "--server-side", "-f", "-"},
			want: []string{"configmap/settings serverside-applied"}},
		{name: "server-side re-apply", stdin: strings.Replace(kubectlConfigMap, "fast", "safe", 1),
			args: []string{"apply", "--server-side", "-f", "-"},
			want: []string{"configmap/settings serverside-applied"}},
		{name: "server-side applied data", args: []string{"get", "configmap", "settings", "-o", "jsonpath={.data.mode} {.metadata.managedFields[0].manager}"},
			want: []string{"safe kubectl"}},
		{name: "create of an existing object fails", stdin: kubectlApp, args: []string{"create", "-f", "-"},
			wantErr: true, want: []string{`Error from server (AlreadyExists): error when creating "STDIN": pods "web" already exists`}},
		{name: "the server rejects an unknown field", stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndatta: {a: b}\n",
			args: []string{"apply", "-f", "-"}, wantErr: true, want: []string{`The ConfigMap "bad" is invalid:`}},
		{name: "delete from stdin", stdin: kubectlApp, args: []string{"delete", "-f", "-"},
			want: []string{`pod "web" deleted`, `service "web" deleted`, `deployment.apps "api" deleted`}},
		{name: "delete by name", args: []string{"delete", "configmap", "settings"}, want: []string{`configmap "settings" deleted`}},
		{name: "nothing left", args: []string{"get", "pods,services,deployments,configmaps", "-A", "-o", "name"},
			absent: []string{"pod/web", "service/web", "deployment.apps/api", "configmap/settings"}},
		{name: "get a deleted pod", args: []string{"get", "pod", "web"},
			wantErr: true, want: []string{`Error from server (NotFound): pods "web" not found`}},
	} {
		k.check(s)
		if t.Failed() {
			return
		}
	}
}

// skipKnownGap skips a test of a known difference between kl and
// Kubernetes unless KL_KNOWN_GAPS=1: the test fails today and passes once
// the server is fixed, when the skipKnownGap call is removed.
func skipKnownGap(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("KL_KNOWN_GAPS") != "1" {
		t.Skipf("known gap (run with KL_KNOWN_GAPS=1 to see it fail): %s", what)
	}
}

// TestKubectlKnownGaps holds kubectl commands that work against Kubernetes
// and not yet against kl.
func TestKubectlKnownGaps(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not on PATH")
	}
	for _, tc := range []struct {
		gap  string
		step kubectlStep
	}{
		{"no protobuf: kubectl's generators send protobuf bodies and get 415",
			kubectlStep{name: "create configmap", args: []string{"create", "configmap", "gen", "--from-literal=a=b"},
				want: []string{"configmap/gen created"}}},
	} {
		t.Run(tc.step.name, func(t *testing.T) {
			skipKnownGap(t, tc.gap)
			_, url := framework.APIServer(t, klBinary, t.TempDir(), "--storage", "memory")
			newKubectl(t, url).check(tc.step)
		})
	}
}
