package framework

import (
	"context"
	"errors"
	"fmt"
	"strings"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
)

// Framework runs the enabled plugins of one profile. It is built once and
// is safe for concurrent use.
type Framework struct {
	filters    []FilterPlugin
	preFilters []PreFilterPlugin
	scores     []weightedScore
	preScores  []PreScorePlugin
}

type weightedScore struct {
	ScorePlugin
	weight     int64
	normalizer ScoreNormalizer // nil if the plugin has none
}

// New builds the framework for defaults changed by custom (see Plugins),
// making each plugin once with reg's factory. A name reg does not know, or
// a plugin enabled at an extension point it does not implement, is an
// error that lists what is available.
func New(reg Registry, defaults, custom Plugins) (*Framework, error) {
	var errs []error
	points := []struct {
		name string
		set  PluginSet
	}{{"filter", custom.Filter}, {"score", custom.Score}}
	for _, point := range points {
		for _, ref := range append(append([]PluginRef(nil), point.set.Enabled...), point.set.Disabled...) {
			if _, ok := reg[ref.Name]; !ok && ref.Name != "*" {
				errs = append(errs, fmt.Errorf("plugins.%s: unknown plugin %q (known plugins: %s)", point.name, ref.Name, strings.Join(reg.Names(), ", ")))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	filterRefs, err := merge("filter", defaults.Filter, custom.Filter)
	if err != nil {
		return nil, err
	}
	scoreRefs, err := merge("score", defaults.Score, custom.Score)
	if err != nil {
		return nil, err
	}

	instances := map[string]Plugin{}
	instance := func(name string) (Plugin, error) {
		if p, ok := instances[name]; ok {
			return p, nil
		}
		factory, ok := reg[name]
		if !ok {
			return nil, fmt.Errorf("unknown plugin %q (known plugins: %s)", name, strings.Join(reg.Names(), ", "))
		}
		p, err := factory()
		if err != nil {
			return nil, fmt.Errorf("plugin %s: %w", name, err)
		}
		instances[name] = p
		return p, nil
	}

	f := &Framework{}
	for _, ref := range filterRefs {
		p, err := instance(ref.Name)
		if err != nil {
			return nil, err
		}
		fp, ok := p.(FilterPlugin)
		if !ok {
			return nil, fmt.Errorf("plugins.filter: %s is not a filter plugin", ref.Name)
		}
		f.filters = append(f.filters, fp)
		if pf, ok := p.(PreFilterPlugin); ok {
			f.preFilters = append(f.preFilters, pf)
		}
	}
	for _, ref := range scoreRefs {
		p, err := instance(ref.Name)
		if err != nil {
			return nil, err
		}
		sp, ok := p.(ScorePlugin)
		if !ok {
			return nil, fmt.Errorf("plugins.score: %s is not a score plugin", ref.Name)
		}
		ws := weightedScore{ScorePlugin: sp, weight: int64(ref.Weight)}
		ws.normalizer, _ = p.(ScoreNormalizer)
		f.scores = append(f.scores, ws)
		if ps, ok := p.(PreScorePlugin); ok {
			f.preScores = append(f.preScores, ps)
		}
	}
	return f, nil
}

// FilterPlugins returns the names of the filter plugins, in the order they
// run.
func (f *Framework) FilterPlugins() []string {
	out := make([]string, len(f.filters))
	for i, p := range f.filters {
		out[i] = p.Name()
	}
	return out
}

// ScorePlugins returns the score plugins and their weights.
func (f *Framework) ScorePlugins() []PluginRef {
	out := make([]PluginRef, len(f.scores))
	for i, p := range f.scores {
		out[i] = PluginRef{Name: p.Name(), Weight: int32(p.weight)}
	}
	return out
}

// HasScorePlugins reports whether any score plugin is enabled.
func (f *Framework) HasScorePlugins() bool { return len(f.scores) > 0 }

// RunPreFilterPlugins runs every PreFilter; the first status that is not
// Success ends the cycle for the pod on every node.
func (f *Framework) RunPreFilterPlugins(ctx context.Context, state *CycleState, pod *corev1.Pod) *Status {
	for _, p := range f.preFilters {
		if st := p.PreFilter(ctx, state, pod); !st.IsSuccess() {
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunFilterPlugins runs the filters on one node, in order, and returns the
// first status that is not Success (nil if the pod fits), as Kubernetes
// does: a node's failure message names one plugin's reasons.
func (f *Framework) RunFilterPlugins(ctx context.Context, state *CycleState, pod *corev1.Pod, node *NodeInfo) *Status {
	for _, p := range f.filters {
		if st := p.Filter(ctx, state, pod, node); !st.IsSuccess() {
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunPreScorePlugins runs every PreScore with the feasible nodes.
func (f *Framework) RunPreScorePlugins(ctx context.Context, state *CycleState, pod *corev1.Pod, nodes []*NodeInfo) *Status {
	for _, p := range f.preScores {
		if st := p.PreScore(ctx, state, pod, nodes); !st.IsSuccess() {
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunScorePlugins scores nodes with every score plugin, normalizes each
// plugin's scores, and returns each node's weighted sum (totals[i] is
// nodes[i]'s). A plugin failing, or a score outside [MinNodeScore,
// MaxNodeScore] after normalizing, is an Error status.
func (f *Framework) RunScorePlugins(ctx context.Context, state *CycleState, pod *corev1.Pod, nodes []*NodeInfo) ([]int64, *Status) {
	totals := make([]int64, len(nodes))
	scores := make([]int64, len(nodes))
	for _, p := range f.scores {
		for i, n := range nodes {
			s, st := p.Score(ctx, state, pod, n)
			if !st.IsSuccess() {
				return nil, st.WithPlugin(p.Name())
			}
			scores[i] = s
		}
		if p.normalizer != nil {
			if st := p.normalizer.NormalizeScore(ctx, state, pod, scores); !st.IsSuccess() {
				return nil, st.WithPlugin(p.Name())
			}
		}
		for i, s := range scores {
			if s < MinNodeScore || s > MaxNodeScore {
				return nil, NewStatus(Error, fmt.Sprintf("plugin %s scored node %s %d, outside [%d, %d]",
					p.Name(), nodes[i].Name(), s, MinNodeScore, MaxNodeScore)).WithPlugin(p.Name())
			}
			totals[i] += s * p.weight
		}
	}
	return totals, nil
}
