package applyset

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/manifest"
)

// Candidate is an object pruning deletes.
type Candidate struct {
	Member  Member
	Mapping resource.Mapping
	// Object is the live object.
	Object []byte
}

// Ref returns "TYPE/NAME": "service/old".
func (c *Candidate) Ref() string { return c.Mapping.Ref(c.Member.Name) }

// Plan is what pruning a set would do.
type Plan struct {
	// Set is the set pruned.
	Set Set
	// Prune are the objects to delete, sorted by member.
	Prune []*Candidate
	// Gone are recorded members that no longer exist, or no longer carry
	// the set's label (someone else took them over): they leave the
	// record, and are not deleted.
	Gone []Member
	// Unknown are recorded members of kinds the server does not serve
	// (any more); they stay in the record.
	Unknown []Member
	// Members is the number of recorded members; Remaining the number of
	// them still in the manifests.
	Members, Remaining int
}

// PlanPrune selects the objects pruning set deletes: recorded members that
// are not in keep (the manifests' objects) and that still carry the set's
// label in the cluster, narrowed to those whose live labels match sel. It
// reads the cluster (one list per kind and namespace) and writes nothing.
func PlanPrune(ctx context.Context, api API, mapper Mapper, set Set, rec *Record, keep map[Member]bool, sel meta.Selector) (*Plan, error) {
	p := &Plan{Set: set, Members: rec.Len()}
	type group struct {
		mapping resource.Mapping
		ns      string
	}
	byGroup := map[group][]Member{}
	var order []group
	mappings, err := mapper.Mappings(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range rec.Members() {
		if keep[m] {
			p.Remaining++
			continue
		}
		mapping, ok := mappingOf(mappings, m)
		if !ok {
			p.Unknown = append(p.Unknown, m)
			continue
		}
		g := group{mapping, m.Namespace}
		if _, seen := byGroup[g]; !seen {
			order = append(order, g)
		}
		byGroup[g] = append(byGroup[g], m)
	}
	for _, g := range order {
		live, err := listMembers(ctx, api, g.mapping, g.ns, set)
		if err != nil {
			return nil, err
		}
		for _, m := range byGroup[g] {
			obj, ok := live[m.Name]
			if !ok {
				p.Gone = append(p.Gone, m)
				continue
			}
			if !sel.Empty() && !sel.Matches(obj.labels) {
				continue
			}
			p.Prune = append(p.Prune, &Candidate{Member: m, Mapping: g.mapping, Object: obj.raw})
		}
	}
	slices.SortFunc(p.Prune, func(a, b *Candidate) int { return a.Member.compare(b.Member) })
	return p, nil
}

// UnsafePruneError is a prune refused because it would delete every
// member of the set.
type UnsafePruneError struct {
	Set Set
	// N is the number of objects that would be deleted.
	N int
	// NothingApplied is true when no object was selected for applying at
	// all (an empty selection), false when objects were but none of them
	// is a member (a mistyped path, another set's name).
	NothingApplied bool
}

func (e *UnsafePruneError) Error() string {
	why := "none of the manifests' objects is one of its members (wrong directory or --applyset name?)"
	if e.NothingApplied {
		why = "no manifests left"
	}
	return fmt.Sprintf("refusing to prune all %d objects of apply set %s: %s; use --force to prune them", e.N, e.Set, why)
}

// CheckSafe returns an *UnsafePruneError when the plan deletes objects and
// would leave the set with no member of those recorded: nothing is being
// applied (applying is 0), or none of the applied objects was a member.
func (p *Plan) CheckSafe(applying int) error {
	if len(p.Prune) == 0 {
		return nil
	}
	if applying == 0 || p.Remaining == 0 {
		return &UnsafePruneError{Set: p.Set, N: len(p.Prune), NothingApplied: applying == 0}
	}
	return nil
}

// PruneResult is the outcome of deleting one candidate.
type PruneResult struct {
	Candidate *Candidate
	// Err is why it could not be deleted; an object already gone is not an
	// error.
	Err error
}

// Prune deletes the candidates in reverse apply order (workloads before
// Services before ConfigMaps before Namespaces), each class concurrently.
// With DryRunServer the deletes are sent with dryRun=All; with DryRunClient
// nothing is sent. Results are in the order of cands.
func Prune(ctx context.Context, api API, cands []*Candidate, dryRun DryRun, concurrency int) []*PruneResult {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	results := make([]*PruneResult, len(cands))
	ms := make([]*manifest.Object, len(cands))
	index := make(map[*manifest.Object]int, len(cands))
	for i, c := range cands {
		ms[i] = &manifest.Object{APIVersion: c.Mapping.APIVersion(), Kind: c.Mapping.Kind}
		index[ms[i]] = i
	}
	groups := groupByClass(manifest.ApplyOrder(ms), func(m *manifest.Object) int { return index[m] })
	slices.Reverse(groups)
	policy := meta.DeletePropagationBackground
	opts := meta.DeleteOptions{PropagationPolicy: &policy}
	if dryRun == DryRunServer {
		opts.DryRun = []string{"All"}
	}
	for _, g := range groups {
		ForEach(ctx, len(g), concurrency, func(k int) {
			c := cands[g[k]]
			r := &PruneResult{Candidate: c}
			if dryRun != DryRunClient {
				err := withRetry(ctx, func() error {
					_, err := api.Delete(ctx, c.Mapping.GVR, c.Member.Namespace, c.Member.Name, opts)
					return err
				})
				if err != nil && !meta.IsNotFound(err) {
					r.Err = err
				}
			}
			results[g[k]] = r
		})
	}
	for i, r := range results {
		if r == nil {
			results[i] = &PruneResult{Candidate: cands[i], Err: ctx.Err()}
		}
	}
	return results
}

// mappingOf finds the REST mapping of a member's group and kind.
func mappingOf(mappings []resource.Mapping, m Member) (resource.Mapping, bool) {
	for _, mp := range mappings {
		if mp.Kind == m.Kind && mp.GVR.Group == m.Group && mp.Namespaced == (m.Namespace != "") {
			return mp, true
		}
	}
	return resource.Mapping{}, false
}

type liveObject struct {
	raw    []byte
	labels map[string]string
}

// listMembers lists the objects of mapping in ns that carry set's label,
// by name.
func listMembers(ctx context.Context, api API, mapping resource.Mapping, ns string, set Set) (map[string]liveObject, error) {
	out := map[string]liveObject{}
	opts := client.ListOptions{LabelSelector: set.Selector(), Limit: 500}
	for {
		body, err := api.List(ctx, mapping.GVR, ns, opts)
		if err != nil {
			return nil, fmt.Errorf("list the %s of apply set %s: %w", mapping.GVR.Resource, set, err)
		}
		var l struct {
			Metadata meta.ListMeta     `json:"metadata"`
			Items    []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(body, &l); err != nil {
			return nil, fmt.Errorf("decode the %s of apply set %s: %w", mapping.GVR.Resource, set, err)
		}
		for _, raw := range l.Items {
			obj, err := resource.NewObject(mapping, raw)
			if err != nil {
				return nil, err
			}
			md, err := obj.Meta()
			if err != nil {
				return nil, err
			}
			// The server filtered by label; check again, it costs nothing
			// and pruning must never delete a non-member.
			if md.Labels[PartOfLabel] != set.ID {
				continue
			}
			out[md.Name] = liveObject{raw: obj.Raw, labels: md.Labels}
		}
		if l.Metadata.Continue == "" {
			return out, nil
		}
		opts.Continue = l.Metadata.Continue
	}
}
