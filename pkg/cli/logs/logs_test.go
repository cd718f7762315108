package logs

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmdLogs(cmdutil.NewFactory(ios), func(o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return got, cmd.Execute()
}

func TestNewCmdLogs_ParsesFlagsIntoTheLogQuery(t *testing.T) {
	tests := []struct {
		args      []string
		target    string
		container string
		query     string
	}{
		{args: []string{"web"}, target: "web", query: ""},
		{args: []string{"web", "sidecar"}, target: "web", container: "sidecar", query: ""},
		{args: []string{"deployment/web", "-c", "app", "-f", "-p", "--tail", "20", "--timestamps", "--since", "90s", "--limit-bytes", "100"},
			target: "deployment/web", container: "app",
			query: "follow=true&limitBytes=100&previous=true&sinceSeconds=90&tailLines=20&timestamps=true"},
		{args: []string{"web", "--since", "1500ms"}, target: "web", query: "sinceSeconds=2"},
		{args: []string{"web", "--since-time", "2024-05-01T12:00:00Z"}, target: "web", query: "sinceTime=2024-05-01T12%3A00%3A00Z"},
		{args: []string{"-l", "app=web"}, query: "tailLines=10"},
		{args: []string{"-l", "app=web", "--tail", "-1"}, query: ""},
	}
	for _, tt := range tests {
		o, err := parse(t, tt.args...)
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if o.Target != tt.target || o.Container != tt.container || o.query().Encode() != tt.query {
			t.Errorf("%v: target %q container %q query %q; want %q %q %q", tt.args, o.Target, o.Container, o.query().Encode(), tt.target, tt.container, tt.query)
		}
	}
}

func TestNewCmdLogs_RejectsBadUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "a pod name, TYPE/NAME or -l/--selector is required"},
		{[]string{"web", "-l", "app=web"}, "only one of -l/--selector or a pod name"},
		{[]string{"web", "app", "-c", "app"}, "only one of -c or a container argument"},
		{[]string{"web", "--all-containers", "-c", "app"}, "--all-containers cannot be combined"},
		{[]string{"web", "--tail", "-2"}, "--tail must be -1"},
		{[]string{"web", "--since", "-1s"}, "--since must not be negative"},
		{[]string{"web", "--since", "1s", "--since-time", "2024-05-01T12:00:00Z"}, "only one of --since or --since-time"},
		{[]string{"web", "--since-time", "yesterday"}, `--since-time "yesterday" is not an RFC 3339 time`},
		{[]string{"web", "a", "b"}, "accepts at most 2 arg(s)"},
	} {
		_, err := parse(t, tt.args...)
		var fe *cmdutil.FlagError
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &fe) {
			t.Errorf("%v: got %v, want a usage error %q", tt.args, err, tt.want)
		}
	}
}

// kubectl's podutils.ByLogging decides which pod of a workload logs and
// exec use.
func TestPickPodFollowsKubectlByLogging(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	mk := func(name, node string, ph corev1.PodPhase, readySince time.Duration, restarts int32, age time.Duration) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: meta.ObjectMeta{Name: name, CreationTimestamp: meta.NewTime(now.Add(-age))},
			Spec:       corev1.PodSpec{NodeName: node},
			Status:     corev1.PodStatus{Phase: ph, ContainerStatuses: []corev1.ContainerStatus{{RestartCount: restarts}}},
		}
		if readySince > 0 {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: meta.NewTime(now.Add(-readySince))}}
		}
		return p
	}
	tests := []struct {
		name string
		pods []*corev1.Pod
		want string
	}{
		{"bound before unbound", []*corev1.Pod{mk("a", "", corev1.PodPending, 0, 0, time.Hour), mk("b", "n1", corev1.PodPending, 0, 0, time.Minute)}, "b"},
		{"running before pending", []*corev1.Pod{mk("a", "n1", corev1.PodPending, 0, 0, time.Hour), mk("b", "n1", corev1.PodRunning, 0, 0, time.Minute)}, "b"},
		{"ready before not ready", []*corev1.Pod{mk("a", "n1", corev1.PodRunning, 0, 0, time.Hour), mk("b", "n1", corev1.PodRunning, time.Second, 0, time.Minute)}, "b"},
		{"ready longest", []*corev1.Pod{mk("a", "n1", corev1.PodRunning, time.Minute, 0, time.Hour), mk("b", "n1", corev1.PodRunning, time.Hour, 0, time.Hour)}, "b"},
		{"most restarts", []*corev1.Pod{mk("a", "n1", corev1.PodRunning, 0, 1, time.Hour), mk("b", "n1", corev1.PodRunning, 0, 5, time.Minute)}, "b"},
		{"oldest", []*corev1.Pod{mk("a", "n1", corev1.PodRunning, 0, 0, time.Minute), mk("b", "n1", corev1.PodRunning, 0, 0, time.Hour)}, "b"},
	}
	for _, tt := range tests {
		if got := PickPod(tt.pods, now).Name; got != tt.want {
			t.Errorf("%s: picked %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestDefaultContainer(t *testing.T) {
	pod := func(annotation string, init []string, names ...string) *corev1.Pod {
		p := &corev1.Pod{}
		if annotation != "" {
			p.Annotations = map[string]string{DefaultContainerAnnotation: annotation}
		}
		for _, n := range names {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n})
		}
		for _, n := range init {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: n})
		}
		return p
	}
	tests := []struct {
		pod          *corev1.Pod
		name, notice string
	}{
		{pod("", nil, "app"), "app", ""},
		{pod("", nil, "app", "sidecar"), "app", `Defaulted container "app" out of: app, sidecar`},
		{pod("", []string{"setup"}, "app"), "app", `Defaulted container "app" out of: app, setup (init)`},
		{pod("sidecar", nil, "app", "sidecar"), "sidecar", ""},
		{pod("nope", nil, "app", "sidecar"), "app", `Defaulted container "app" out of: app, sidecar`},
	}
	for _, tt := range tests {
		name, notice := DefaultContainer(tt.pod)
		if name != tt.name || notice != tt.notice {
			t.Errorf("DefaultContainer = %q, %q; want %q, %q", name, notice, tt.name, tt.notice)
		}
	}
}

func TestLineWriterPrefixesWholeLines(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := newLineWriter(&out, &mu, "[pod/web/app] ")
	for _, chunk := range []string{"one\ntw", "o\n", "", "three"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	w.flush()
	want := "[pod/web/app] one\n[pod/web/app] two\n[pod/web/app] three\n"
	if out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
}

func TestPodPath(t *testing.T) {
	if got := PodPath("default", "web", "log"); got != "/api/v1/namespaces/default/pods/web/log" {
		t.Errorf("PodPath = %s", got)
	}
}
