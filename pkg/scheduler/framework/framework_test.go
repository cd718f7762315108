package framework_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/scheduler/framework"
	"github.com/kl-dev/kl/pkg/scheduler/framework/plugins"
)

func TestRegistry_DuplicateRegistrationPanics(t *testing.T) {
	r := plugins.NewInTreeRegistry()
	defer func() {
		msg, _ := recover().(string)
		if want := `scheduler plugin "NodePorts" registered twice`; msg != want {
			t.Errorf("panic = %q, want %q", msg, want)
		}
	}()
	r.Register(plugins.NodePortsName, func() (framework.Plugin, error) { return plugins.NodePorts{}, nil })
}

// decode parses the plugins section of a scheduler config file.
func decode(t *testing.T, y string) framework.Plugins {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	p, err := framework.DecodePlugins(j)
	if err != nil {
		t.Fatalf("DecodePlugins: %v", err)
	}
	return p
}

func TestNew_ConfigChangesTheDefaultProfile(t *testing.T) {
	tests := []struct {
		name        string
		config      string
		wantFilters []string
		wantScores  []framework.PluginRef
	}{
		{
			name:        "defaults",
			config:      "{}",
			wantFilters: []string{"NodeUnschedulable", "NodeReady", "NodeSelector", "TaintToleration", "NodeResourcesFit", "NodePorts"},
			wantScores:  []framework.PluginRef{{Name: "LeastAllocated", Weight: 1}, {Name: "BalancedAllocation", Weight: 1}, {Name: "SelectorSpread", Weight: 2}},
		},
		{
			name: "disable by name or object, reweigh a default",
			config: `
filter:
  disabled: [NodePorts, {name: NodeReady}]
score:
  disabled: [{name: SelectorSpread}]
  enabled: [{name: LeastAllocated, weight: 5}]
`,
			wantFilters: []string{"NodeUnschedulable", "NodeSelector", "TaintToleration", "NodeResourcesFit"},
			wantScores:  []framework.PluginRef{{Name: "LeastAllocated", Weight: 5}, {Name: "BalancedAllocation", Weight: 1}},
		},
		{
			name: "star disables every default",
			config: `
filter:
  disabled: ["*"]
  enabled: [NodeResourcesFit]
score:
  disabled: ["*"]
  enabled: [SelectorSpread]
`,
			wantFilters: []string{"NodeResourcesFit"},
			wantScores:  []framework.PluginRef{{Name: "SelectorSpread", Weight: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fw, err := framework.New(plugins.NewInTreeRegistry(), plugins.DefaultPlugins(), decode(t, tt.config))
			if err != nil {
				t.Fatal(err)
			}
			if got := fw.FilterPlugins(); !reflect.DeepEqual(got, tt.wantFilters) {
				t.Errorf("filters = %v, want %v", got, tt.wantFilters)
			}
			if got := fw.ScorePlugins(); !reflect.DeepEqual(got, tt.wantScores) {
				t.Errorf("scores = %v, want %v", got, tt.wantScores)
			}
		})
	}
}

func TestNew_RejectsUnknownAndMisplacedPlugins(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"unknown enabled", "filter: {enabled: [NodeAffinity]}",
			`plugins.filter: unknown plugin "NodeAffinity" (known plugins: BalancedAllocation, LeastAllocated, NodePorts, NodeReady, NodeResourcesFit, NodeSelector, NodeUnschedulable, SelectorSpread, TaintToleration)`},
		{"unknown disabled", "score: {disabled: [ImageLocality]}", `plugins.score: unknown plugin "ImageLocality"`},
		{"score plugin as filter", "filter: {enabled: [LeastAllocated]}", "plugins.filter: LeastAllocated is not a filter plugin"},
		{"filter plugin as score", "score: {enabled: [NodePorts]}", "plugins.score: NodePorts is not a score plugin"},
		{"negative weight", "score: {enabled: [{name: LeastAllocated, weight: -1}]}", "weight -1 must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := framework.New(plugins.NewInTreeRegistry(), plugins.DefaultPlugins(), decode(t, tt.config))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDecodePlugins_RejectsUnknownFields(t *testing.T) {
	for _, in := range []string{
		`{"filter":{"disable":["NodePorts"]}}`,
		`{"score":{"enabled":[{"name":"LeastAllocated","wieght":2}]}}`,
		`{"prefilter":{}}`,
	} {
		if _, err := framework.DecodePlugins([]byte(in)); err == nil {
			t.Errorf("DecodePlugins(%s) = nil error, want unknown field", in)
		}
	}
}

func TestFitError_MessageIsKubeSchedulers(t *testing.T) {
	st := framework.NewStatus
	tests := []struct {
		name string
		err  framework.FitError
		want string
	}{
		{"reasons counted per node and sorted as strings", framework.FitError{NumAllNodes: 3, Diagnosis: framework.Diagnosis{NodeToStatus: map[string]*framework.Status{
			"a": st(framework.Unschedulable, "Insufficient cpu"),
			"b": st(framework.Unschedulable, "Insufficient cpu"),
			"c": st(framework.UnschedulableAndUnresolvable, "node(s) didn't match Pod's node affinity/selector"),
		}}}, "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu."},
		{"several reasons on one node", framework.FitError{NumAllNodes: 2, Diagnosis: framework.Diagnosis{NodeToStatus: map[string]*framework.Status{
			"a": st(framework.Unschedulable, "Insufficient cpu", "Insufficient memory"),
			"b": st(framework.Unschedulable, "Too many pods"),
		}}}, "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods."},
		{"taints, cordons, ports", framework.FitError{NumAllNodes: 4, Diagnosis: framework.Diagnosis{NodeToStatus: map[string]*framework.Status{
			"a": st(framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint {dedicated: gpu}"),
			"b": st(framework.UnschedulableAndUnresolvable, "node(s) were unschedulable"),
			"c": st(framework.Unschedulable, "node(s) didn't have free ports for the requested pod ports"),
			"d": st(framework.UnschedulableAndUnresolvable, "node(s) were unschedulable"),
		}}}, "0/4 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) were unschedulable."},
		{"no nodes", framework.FitError{}, "no nodes available to schedule pods"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// constScore scores every node the same.
type constScore struct {
	name  string
	score int64
}

func (c constScore) Name() string { return c.name }
func (c constScore) Score(context.Context, *framework.CycleState, *corev1.Pod, *framework.NodeInfo) (int64, *framework.Status) {
	return c.score, nil
}

func TestRunScorePlugins_WeighsAndChecksRange(t *testing.T) {
	reg := framework.Registry{}
	reg.Register("Ten", func() (framework.Plugin, error) { return constScore{"Ten", 10}, nil })
	reg.Register("TooHigh", func() (framework.Plugin, error) { return constScore{"TooHigh", 101}, nil })
	nodes := []*framework.NodeInfo{framework.NewNodeInfo(&corev1.Node{}), framework.NewNodeInfo(&corev1.Node{})}

	fw, err := framework.New(reg, framework.Plugins{}, framework.Plugins{Score: framework.PluginSet{Enabled: []framework.PluginRef{{Name: "Ten", Weight: 3}}}})
	if err != nil {
		t.Fatal(err)
	}
	totals, st := fw.RunScorePlugins(context.Background(), framework.NewCycleState(framework.NewPodInfo(&corev1.Pod{})), &corev1.Pod{}, nodes)
	if !st.IsSuccess() || !reflect.DeepEqual(totals, []int64{30, 30}) {
		t.Errorf("totals = %v (%v), want [30 30]", totals, st.Message())
	}

	fw, err = framework.New(reg, framework.Plugins{}, framework.Plugins{Score: framework.PluginSet{Enabled: []framework.PluginRef{{Name: "TooHigh"}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, st = fw.RunScorePlugins(context.Background(), framework.NewCycleState(framework.NewPodInfo(&corev1.Pod{})), &corev1.Pod{}, nodes)
	if st.Code() != framework.Error || st.Plugin() != "TooHigh" {
		t.Errorf("out-of-range score: status %v from %q, want Error from TooHigh", st.Code(), st.Plugin())
	}
}
