package docker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// inspect returns a container's inspection; ErrNotFound when it does not
// exist.
func (r *Runtime) inspect(ctx context.Context, id string) (*container.InspectResponse, error) {
	if id == "" {
		return nil, fmt.Errorf("no container ID: %w", runtime.ErrNotFound)
	}
	res, err := r.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", short(id), notFound(err))
	}
	c := res.Container
	if c.State != nil {
		r.cache.put(c.ID, string(c.State.Status), labelType(&c), &c)
	}
	return &c, nil
}

// inspectOwned is inspect for this runtime's objects of kind typ: any
// other container (not kl's, another node's, the other kind) is
// ErrNotFound.
func (r *Runtime) inspectOwned(ctx context.Context, id, typ string) (*container.InspectResponse, error) {
	c, err := r.inspect(ctx, id)
	if err != nil {
		return nil, err
	}
	if !r.owned(configLabels(c), typ) {
		return nil, fmt.Errorf("%s %s of node %s: %w", typ, short(id), r.cfg.NodeName, runtime.ErrNotFound)
	}
	return c, nil
}

// list returns this runtime's objects of kind typ that carry labels (and
// have ID id, if not empty), inspected: only inspection has the exit code,
// the timestamps and the IP. Inspections of running and exited containers
// are cached until their state changes, so relisting a node costs one
// list call and an inspection per changed container.
func (r *Runtime) list(ctx context.Context, typ string, labels map[string]string, id string) ([]*container.InspectResponse, error) {
	f := r.ownFilters(typ)
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	if id != "" {
		f.Add("id", id)
	}
	res, err := r.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	out := make([]*container.InspectResponse, 0, len(res.Items))
	seen := make(map[string]bool, len(res.Items))
	for _, s := range res.Items {
		if id != "" && s.ID != id {
			continue // the id filter matches prefixes
		}
		seen[s.ID] = true
		if c, ok := r.cache.get(s.ID, string(s.State)); ok {
			out = append(out, c)
			continue
		}
		c, err := r.inspect(ctx, s.ID)
		if errors.Is(err, runtime.ErrNotFound) {
			continue // removed since the list
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(labels) == 0 && id == "" {
		r.cache.retain(typ, seen)
	}
	return out, nil
}

// configLabels returns a container's labels (nil-safe).
func configLabels(c *container.InspectResponse) map[string]string {
	if c.Config == nil {
		return nil
	}
	return c.Config.Labels
}

func labelType(c *container.InspectResponse) string { return configLabels(c)[LabelType] }

// parseTime parses an engine timestamp; zero for "0001-01-01T00:00:00Z",
// "" or garbage.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// inspectCache keeps the inspections of running and exited containers:
// nothing in them changes until the state does (kl never restarts a
// container), and the list call says the state.
type inspectCache struct {
	mu sync.Mutex
	m  map[string]cacheEntry
}

// maxCached bounds the inspect cache (a node runs at most a few hundred
// containers).
const maxCached = 4096

type cacheEntry struct {
	state string
	typ   string
	c     *container.InspectResponse
}

// stable says which states are cached.
func stable(state string) bool {
	return state == string(container.StateRunning) || state == string(container.StateExited) || state == string(container.StateDead)
}

// get returns the cached inspection of id if it was taken in state.
func (c *inspectCache) get(id, state string) (*container.InspectResponse, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || e.state != state {
		return nil, false
	}
	return e.c, true
}

func (c *inspectCache) put(id, state, typ string, ins *container.InspectResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !stable(state) {
		delete(c.m, id)
		return
	}
	if len(c.m) >= maxCached {
		// Containers removed behind the runtime's back are dropped only
		// by a full list; never let them pile up.
		clear(c.m)
	}
	c.m[id] = cacheEntry{state: state, typ: typ, c: ins}
}

func (c *inspectCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// retain drops the entries of kind typ that a full list did not return.
func (c *inspectCache) retain(typ string, ids map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, e := range c.m {
		if e.typ == typ && !ids[id] {
			delete(c.m, id)
		}
	}
}
