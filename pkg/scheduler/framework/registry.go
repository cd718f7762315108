package framework

import (
	"fmt"
	"maps"
	"slices"
)

// Factory makes a plugin. Plugins are built once per scheduler and shared
// by every scheduling cycle, so they must be safe for concurrent use
// (usually: stateless).
type Factory func() (Plugin, error)

// Registry maps plugin names to their factories. Adding a plugin to kl is
// writing its type and registering it in plugins.NewInTreeRegistry;
// out-of-tree plugins are registered on the registry given to
// scheduler.Config.
type Registry map[string]Factory

// Register adds a plugin. An empty name, a nil factory or a name already
// registered is a programming error: Register panics, as Caddy's module
// registration does, so the mistake shows up at start-up.
func (r Registry) Register(name string, f Factory) {
	if name == "" {
		panic("scheduler plugin registered without a name")
	}
	if f == nil {
		panic(fmt.Sprintf("scheduler plugin %q registered without a factory", name))
	}
	if _, dup := r[name]; dup {
		panic(fmt.Sprintf("scheduler plugin %q registered twice", name))
	}
	r[name] = f
}

// Names returns the registered names, sorted.
func (r Registry) Names() []string {
	return slices.Sorted(maps.Keys(r))
}
