// Package framework is the scheduler's plugin framework, Kubernetes'
// scheduling framework in small: the plugin interfaces, the Status they
// return, the per-cycle CycleState, the NodeInfo they look at, the Registry
// that maps plugin names to factories, and Framework, which runs the
// enabled plugins of a profile.
//
// A scheduling cycle for one pod runs:
//
//	PreFilter (once)  -> Filter (per node, in parallel) -> PreScore (once)
//	                  -> Score (per feasible node) -> NormalizeScore (per plugin)
//
// Filter and Score are the two extension points a profile configures
// (plugins.filter and plugins.score of the --config file). PreFilter,
// PreScore and NormalizeScore are optional capabilities: a filter plugin
// that also implements PreFilterPlugin gets its PreFilter called, a score
// plugin that implements PreScorePlugin or ScoreNormalizer gets those
// called, as Caddy finds a module's optional interfaces by type assertion.
//
// Plugins must not modify the pod or the NodeInfo they are given; they
// share them with the scheduler's cache.
package framework

import (
	"context"
	"errors"
	"strings"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
)

// Score bounds: every Score (after NormalizeScore, if any) is in
// [MinNodeScore, MaxNodeScore].
const (
	MinNodeScore int64 = 0
	MaxNodeScore int64 = 100
)

// Plugin is what every plugin is.
type Plugin interface {
	// Name is the plugin's name in the registry and the config file.
	Name() string
}

// FilterPlugin rules out nodes the pod cannot run on.
type FilterPlugin interface {
	Plugin
	// Filter returns nil (or a Success status) if pod fits node, or an
	// Unschedulable status whose reasons say why not, in the words users
	// see in "0/3 nodes are available: ..." messages.
	Filter(ctx context.Context, state *CycleState, pod *corev1.Pod, node *NodeInfo) *Status
}

// PreFilterPlugin is an optional capability of a FilterPlugin: PreFilter
// runs once per cycle before any Filter, typically to compute what Filter
// needs from the pod and store it in state.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *corev1.Pod) *Status
}

// ScorePlugin ranks the nodes that passed every filter.
type ScorePlugin interface {
	Plugin
	// Score returns the node's score: from MinNodeScore to MaxNodeScore,
	// unless the plugin is a ScoreNormalizer that maps its raw scores into
	// that range.
	Score(ctx context.Context, state *CycleState, pod *corev1.Pod, node *NodeInfo) (int64, *Status)
}

// PreScorePlugin is an optional capability of a ScorePlugin: PreScore runs
// once per cycle with the feasible nodes, before any Score.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *corev1.Pod, nodes []*NodeInfo) *Status
}

// ScoreNormalizer is an optional capability of a ScorePlugin: it rewrites
// the raw scores of all feasible nodes (scores[i] is nodes[i]'s) into
// [MinNodeScore, MaxNodeScore].
type ScoreNormalizer interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *corev1.Pod, scores []int64) *Status
}

// Code is the outcome of a plugin call.
type Code int

// The codes a plugin can return.
const (
	// Success: the pod fits (Filter) or the call worked.
	Success Code = iota
	// Error: something went wrong; the pod is retried after a back-off.
	Error
	// Unschedulable: the pod does not fit this node now, but might after
	// the cluster changes (resources freed).
	Unschedulable
	// UnschedulableAndUnresolvable: the pod does not fit this node and no
	// change of other pods will help (selector, taints).
	UnschedulableAndUnresolvable
)

func (c Code) String() string {
	switch c {
	case Success:
		return "Success"
	case Error:
		return "Error"
	case Unschedulable:
		return "Unschedulable"
	case UnschedulableAndUnresolvable:
		return "UnschedulableAndUnresolvable"
	}
	return "Unknown"
}

// Status is a plugin's verdict. A nil *Status means Success.
type Status struct {
	code    Code
	reasons []string
	err     error
	plugin  string
}

// NewStatus returns a Status with code and the reasons users see.
func NewStatus(code Code, reasons ...string) *Status {
	return &Status{code: code, reasons: reasons}
}

// AsStatus wraps err as an Error status (nil for a nil err).
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{code: Error, reasons: []string{err.Error()}, err: err}
}

// Code returns the status code (Success for nil).
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// IsSuccess reports whether s is nil or has code Success.
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsUnschedulable reports whether the code is Unschedulable or
// UnschedulableAndUnresolvable.
func (s *Status) IsUnschedulable() bool {
	c := s.Code()
	return c == Unschedulable || c == UnschedulableAndUnresolvable
}

// Reasons returns the reasons, as given to NewStatus.
func (s *Status) Reasons() []string {
	if s == nil {
		return nil
	}
	return s.reasons
}

// Message joins the reasons with ", ".
func (s *Status) Message() string {
	return strings.Join(s.Reasons(), ", ")
}

// Plugin returns the name of the plugin that returned the status, as set
// by the framework.
func (s *Status) Plugin() string {
	if s == nil {
		return ""
	}
	return s.plugin
}

// WithPlugin records the plugin that returned s and returns s.
func (s *Status) WithPlugin(name string) *Status {
	if s != nil {
		s.plugin = name
	}
	return s
}

// AsError returns nil for a Success status, and otherwise an error with
// the status's message (the wrapped error of an AsStatus status).
func (s *Status) AsError() error {
	if s.IsSuccess() {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	return errors.New(s.Message())
}
