package history

import (
	"bytes"
	"errors"
	"io"
	"testing"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/rollout/internal/deployutil"
	rt "github.com/kl-dev/kl/pkg/cli/rollout/internal/rollouttest"
)

func TestNewCmdHistory_ValidatesFlags(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr bool
	}{
		{[]string{"deployment/web"}, false},
		{[]string{"deployment/web", "--revision", "2", "-o", "yaml"}, false},
		{[]string{"deployment/web", "-o", "yaml"}, true},
		{[]string{"deployment/web", "--revision", "2", "-o", "wide"}, true},
		{[]string{"deployment/web", "--revision", "-2"}, true},
		{[]string{}, true},
	} {
		ios, _, _, _ := iostreams.Test()
		cmd := NewCmdHistory(cmdutil.NewFactory(ios), func(*Options) error { return nil })
		cmd.SetArgs(tt.args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		var fe *cmdutil.FlagError
		if tt.wantErr != (err != nil) || (err != nil && !errors.As(err, &fe)) {
			t.Errorf("%v: got %v, want a usage error: %v", tt.args, err, tt.wantErr)
		}
	}
}

func TestPrintHistory_ListsRevisionsInOrderWithChangeCause(t *testing.T) {
	d := rt.Deployment(1, "nginx:1")
	r10 := rt.ReplicaSet(d, "c", 10, 1)
	r10.Annotations[appsv1.ChangeCauseAnnotation] = "kl apply -f web.yaml"
	revs := deployutil.Revisions([]*appsv1.ReplicaSet{r10, rt.ReplicaSet(d, "a", 2, 0), rt.ReplicaSet(d, "b", 9, 0)})
	var out bytes.Buffer
	if err := printHistory(&out, "web", revs); err != nil {
		t.Fatal(err)
	}
	want := `deployment.apps/web
REVISION   CHANGE-CAUSE
2          <none>
9          <none>
10         kl apply -f web.yaml
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestDescribeTemplate_ShowsWhatTellsRevisionsApart(t *testing.T) {
	tmpl := rt.Template("nginx:1")
	tmpl.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2025-01-02T03:04:05Z"}
	c := &tmpl.Spec.Containers[0]
	c.Args = []string{"--port", "80"}
	c.Ports = []corev1.ContainerPort{{ContainerPort: 80}, {Name: "admin", ContainerPort: 9000, Protocol: corev1.ProtocolUDP}}
	c.Env = []corev1.EnvVar{
		{Name: "A", Value: "1"},
		{Name: "B", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}},
	}
	c.Env[1].ValueFrom.SecretKeyRef.Name = "s"
	c.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data", ReadOnly: true}}
	tmpl.Spec.Volumes = []corev1.Volume{{Name: "data"}}
	var out bytes.Buffer
	if err := describeTemplate(&out, &tmpl); err != nil {
		t.Fatal(err)
	}
	want := `Pod Template:
  Labels:       app=web
  Annotations:  kubectl.kubernetes.io/restartedAt: 2025-01-02T03:04:05Z
  Containers:
   web:
    Image:  nginx:1
    Port:   80/TCP
            9000/UDP (admin)
    Args:
      --port
      80
    Environment:
      A:     1
      B:     <set to the key 'k' in secret 's'>
    Mounts:  /data from data (ro)
  Volumes:
    data
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
