package fieldmanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// TestApplyInvariants runs seeded random sequences of applies (by two
// appliers, with and without force) and updates (by two other managers) on
// a Deployment-shaped object and checks after every write what server-side
// apply promises:
//   - every config value is in the merged object, owned by the applier;
//   - what the applier applied before, dropped now, and nobody else owned
//     is gone;
//   - every path any entry owns exists in the object;
//   - a conflict names a field its manager owns, and leaves state alone;
//   - re-applying is a no-op; managedFields always validate.
func TestApplyInvariants(t *testing.T) {
	for seed := uint64(1); seed <= 150; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		m := &Manager{Now: func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }}
		var live map[string]any
		var managed []meta.ManagedFieldsEntry
		var history []string
		for i := 0; i < 10; i++ {
			if live == nil || r.IntN(3) > 0 {
				manager := []string{"a", "b"}[r.IntN(2)]
				force := r.IntN(4) == 0
				config := genConfig(r)
				history = append(history, fmt.Sprintf("apply %s force=%v %s", manager, force, mustJSON(config)))
				live, managed = checkApply(t, m, live, managed, config, manager, force, history)
			} else {
				manager := []string{"kl-scale", "kl-edit"}[r.IntN(2)]
				next := deepCopy(live).(map[string]any)
				mutate(r, next)
				history = append(history, fmt.Sprintf("update %s %s", manager, mustJSON(next)))
				managed = m.Update(live, next, managed, manager, "apps/v1")
				live = next
				checkOwnedExist(t, m, live, managed, history)
			}
			if t.Failed() {
				return
			}
		}
	}
}

func checkApply(t *testing.T, m *Manager, live map[string]any, managed []meta.ManagedFieldsEntry, config map[string]any, manager string, force bool, history []string) (map[string]any, []meta.ManagedFieldsEntry) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s\nafter:\n%s", fmt.Sprintf(format, args...), strings.Join(history, "\n"))
	}
	before, _ := decodeEntries(managed, true)
	merged, mf, err := m.Apply(live, managed, config, manager, "apps/v1", force)
	var ce *ConflictError
	if errors.As(err, &ce) {
		if force || len(ce.Conflicts) == 0 {
			fail("conflict with force=%v: %v", force, err)
		}
		for _, c := range ce.Conflicts {
			owned := false
			for _, e := range before {
				for _, p := range e.set.Leaves() {
					if e.orig.Manager == c.Manager && p.String() == c.Field {
						owned = true
					}
				}
			}
			if !owned || c.Manager == manager {
				fail("conflict %+v names a field its manager does not own", c)
			}
		}
		return live, managed
	}
	if err != nil {
		fail("apply: %v", err)
		return live, managed
	}
	if err := ValidateManagedFields(mf); err != nil {
		fail("invalid managedFields: %v", err)
	}
	after, _ := decodeEntries(mf, true)
	cfgSet := FromValue(stripIgnored(config), m.keys())
	var own *FieldSet
	for _, e := range after {
		if e.is(manager, OperationApply) {
			own = e.set
		}
	}
	if !own.Equal(cfgSet) {
		fail("applier owns\n%s\nwant\n%s", own, cfgSet)
	}
	for _, p := range cfgSet.Leaves() {
		want, _ := valueAt(m.keys(), stripIgnored(config), p)
		got, ok := valueAt(m.keys(), merged, p)
		if !ok {
			fail("config field %s missing from the merged object %s", p, mustJSON(merged))
			continue
		}
		if _, isMap := want.(map[string]any); !isMap && !isKeyed(p) && !Equal(got, want) {
			fail("config field %s is %s in the merged object, want %s", p, mustJSON(got), mustJSON(want))
		}
	}
	var prev *FieldSet
	others := &FieldSet{}
	for _, e := range before {
		if e.is(manager, OperationApply) {
			prev = e.set
		} else {
			others = others.Union(e.set)
		}
	}
	for _, p := range prev.Difference(cfgSet).Difference(others).Leaves() {
		if _, ok := valueAt(m.keys(), merged, p); ok {
			fail("%s was applied before, dropped now and owned by nobody else, but is still in %s", p, mustJSON(merged))
		}
	}
	checkOwnedExist(t, m, merged, mf, history)

	again, mf2, err := m.Apply(merged, mf, config, manager, "apps/v1", false)
	if err != nil || !Equal(again, merged) || !reflect.DeepEqual(mf2, mf) {
		fail("re-apply is not a no-op: %v\n%s\n%s", err, mustJSON(again), mustJSON(merged))
	}
	return merged, mf
}

func checkOwnedExist(t *testing.T, m *Manager, obj map[string]any, managed []meta.ManagedFieldsEntry, history []string) {
	t.Helper()
	entries, err := decodeEntries(managed, true)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	for _, e := range entries {
		for _, p := range e.set.Leaves() {
			if _, ok := valueAt(m.keys(), stripIgnored(obj), p); !ok {
				t.Errorf("%s/%s owns %s, which is not in %s\nafter:\n%s", e.orig.Manager, e.orig.Operation, p, mustJSON(obj), strings.Join(history, "\n"))
			}
		}
	}
}

func isKeyed(p Path) bool { return len(p) > 0 && strings.HasPrefix(p[len(p)-1], "k:") }

// valueAt returns the value at path p of obj.
func valueAt(keys ListKeyFunc, obj map[string]any, p Path) (any, bool) {
	var cur any = obj
	var names []string
	for _, e := range p {
		switch {
		case strings.HasPrefix(e, "f:"):
			mm, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = mm[e[2:]]; !ok {
				return nil, false
			}
			names = append(names, e[2:])
		case strings.HasPrefix(e, "k:"):
			l, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			elems, keyed := listElems(keys, names, l)
			i := slices.Index(elems, e)
			if !keyed || i < 0 {
				return nil, false
			}
			cur = l[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func num(r *rand.Rand, n int) any {
	if r.IntN(2) == 0 {
		return json.Number(fmt.Sprint(n))
	}
	return float64(n)
}

// genConfig makes a random Deployment configuration from a small
// vocabulary, so that configs, updates and live objects overlap.
func genConfig(r *rand.Rand) map[string]any {
	md := map[string]any{"name": "web"}
	labels := map[string]any{}
	for _, k := range []string{"app", "tier", "env"} {
		switch r.IntN(4) {
		case 0:
			labels[k] = pick(r, "x", "y")
		case 1:
			labels[k] = nil
		}
	}
	if len(labels) > 0 {
		md["labels"] = labels
	}
	spec := map[string]any{}
	switch r.IntN(3) {
	case 0:
		spec["replicas"] = num(r, 1+r.IntN(3))
	case 1:
		spec["paused"] = pick[any](r, true, nil)
	}
	if r.IntN(4) == 0 {
		spec["strategy"] = map[string]any{"type": pick(r, "Recreate", "RollingUpdate")}
	}
	var containers []any
	for _, name := range []string{"web", "api", "side"} {
		if r.IntN(2) == 0 {
			continue
		}
		c := map[string]any{"name": name}
		if r.IntN(3) > 0 {
			c["image"] = pick(r, "v1", "v2")
		}
		if r.IntN(3) == 0 {
			c["args"] = []any{pick(r, "x", "y")}
		}
		if r.IntN(3) == 0 {
			var env []any
			for _, n := range []string{"A", "B"} {
				if r.IntN(2) == 0 {
					env = append(env, map[string]any{"name": n, "value": pick[any](r, "1", "2", nil)})
				}
			}
			c["env"] = env
		}
		if r.IntN(3) == 0 {
			ports := []any{map[string]any{"containerPort": num(r, 80)}}
			if r.IntN(2) == 0 {
				ports = append(ports, map[string]any{"containerPort": num(r, 53), "protocol": pick(r, "UDP", "TCP")})
			}
			c["ports"] = ports
		}
		containers = append(containers, c)
	}
	if containers != nil || r.IntN(2) == 0 {
		if containers == nil {
			containers = []any{}
		}
		spec["template"] = map[string]any{"spec": map[string]any{"containers": containers}}
	}
	cfg := map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": md}
	if len(spec) > 0 {
		cfg["spec"] = spec
	}
	if r.IntN(5) == 0 {
		cfg["status"] = map[string]any{"replicas": num(r, 9)}
	}
	return cfg
}

// mutate makes one random write a non-apply manager could make.
func mutate(r *rand.Rand, o map[string]any) {
	child := func(m map[string]any, k string) map[string]any {
		c, ok := m[k].(map[string]any)
		if !ok {
			c = map[string]any{}
			m[k] = c
		}
		return c
	}
	spec := child(o, "spec")
	tspec := child(child(spec, "template"), "spec")
	containers, _ := tspec["containers"].([]any)
	switch r.IntN(8) {
	case 0:
		spec["replicas"] = num(r, 1+r.IntN(5))
	case 1:
		child(child(o, "metadata"), "labels")[pick(r, "app", "tier", "env")] = pick(r, "x", "z")
	case 2:
		delete(child(child(o, "metadata"), "labels"), pick(r, "app", "tier", "env"))
	case 3:
		if len(containers) > 0 {
			if c, ok := containers[r.IntN(len(containers))].(map[string]any); ok {
				c["image"] = pick(r, "v1", "v3")
			}
		}
	case 4:
		name := pick(r, "side", "debug")
		for _, c := range containers {
			if cm, ok := c.(map[string]any); ok && cm["name"] == name {
				return
			}
		}
		tspec["containers"] = append(containers, map[string]any{"name": name, "image": "v9"})
	case 5:
		if len(containers) > 0 {
			i := r.IntN(len(containers))
			tspec["containers"] = append(containers[:i:i], containers[i+1:]...)
		}
	case 6:
		child(o, "status")["replicas"] = num(r, r.IntN(5))
	case 7:
		if len(containers) > 0 {
			if c, ok := containers[r.IntN(len(containers))].(map[string]any); ok {
				c["env"] = []any{map[string]any{"name": "A", "value": pick(r, "1", "3")}}
			}
		}
	}
}
