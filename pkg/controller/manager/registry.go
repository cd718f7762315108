package manager

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/clock"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/record"
)

// Registration names a controller and how to build it.
type Registration struct {
	// Name is the controller's name in --controllers ("replicaset").
	Name string
	// New builds the controller from the manager's shared pieces. It
	// should only wire things up (informers, handlers): Run starts it.
	New func(Context) (controller.Controller, error)
	// DisabledByDefault leaves the controller off unless --controllers
	// names it ("*" does not include it).
	DisabledByDefault bool
}

// Context is what a controller gets from the manager: the API client, the
// shared informers (started after every controller is built), an event
// recorder per component, the clock and a logger. A new Context, and new
// informers, are made each time the manager starts leading.
type Context struct {
	Client    *client.Client
	Informers *controller.Informers
	Clock     clock.Clock
	Logger    *slog.Logger
	// Node lifecycle timings (Config's).
	NodeMonitorGracePeriod time.Duration
	PodEvictionTimeout     time.Duration
	NodeMonitorPeriod      time.Duration

	recorders *recorders
}

// Recorder returns an event recorder reporting as component (Kubernetes'
// names: "replicaset-controller", "deployment-controller", ...). Its
// events are written while the manager leads.
func (c Context) Recorder(component string) record.Recorder {
	if c.recorders == nil {
		return &record.Fake{}
	}
	return c.recorders.get(component)
}

// recorders makes one event broadcaster per component and runs each
// until the leader's context ends (those asked for after start at once).
type recorders struct {
	client *client.Client
	log    *slog.Logger
	mu     sync.Mutex
	all    map[string]*record.Broadcaster
	ctx    context.Context
	wg     sync.WaitGroup
}

func newRecorders(c *client.Client, log *slog.Logger) *recorders {
	return &recorders{client: c, log: log, all: map[string]*record.Broadcaster{}}
}

func (r *recorders) get(component string) *record.Broadcaster {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.all[component]; ok {
		return b
	}
	b := record.New(record.Config{Client: r.client, Component: component, Logger: r.log})
	r.all[component] = b
	if r.ctx != nil {
		r.runLocked(b)
	}
	return b
}

// start runs the broadcasters until ctx ends.
func (r *recorders) start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ctx = ctx
	for _, b := range r.all {
		r.runLocked(b)
	}
}

func (r *recorders) runLocked(b *record.Broadcaster) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		b.Run(r.ctx)
	}()
}

// wait waits for the broadcasters to stop.
func (r *recorders) wait() { r.wg.Wait() }

// Selection is a parsed --controllers list: "*" turns on every controller
// that is on by default, "name" turns one on, "-name" turns one off; an
// explicit name wins over "*", as in kube-controller-manager.
type Selection []string

// ParseSelection checks list against the registry; an empty list means
// "*".
func ParseSelection(list []string, registry []Registration) (Selection, error) {
	if len(list) == 0 {
		return Selection{"*"}, nil
	}
	known := make([]string, len(registry))
	for i, r := range registry {
		known[i] = r.Name
	}
	var sel Selection
	for _, item := range list {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name := strings.TrimPrefix(item, "-")
		if item != "*" && !slices.Contains(known, name) {
			slices.Sort(known)
			return nil, fmt.Errorf("unknown controller %q in --controllers (known: %s)", name, strings.Join(known, ", "))
		}
		sel = append(sel, item)
	}
	if len(sel) == 0 {
		return Selection{"*"}, nil
	}
	return sel, nil
}

// Enabled reports whether the selection runs r.
func (s Selection) Enabled(r Registration) bool {
	star := false
	for _, item := range s {
		switch item {
		case r.Name:
			return true
		case "-" + r.Name:
			return false
		case "*":
			star = true
		}
	}
	return star && !r.DisabledByDefault
}

// Names returns the names of the registrations the selection runs, in
// registry order.
func (s Selection) Names(registry []Registration) []string {
	var out []string
	for _, r := range registry {
		if s.Enabled(r) {
			out = append(out, r.Name)
		}
	}
	return out
}
