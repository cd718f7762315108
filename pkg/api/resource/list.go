package resource

import (
	"errors"
	"fmt"
	"strings"
)

// ResourceName names a resource in a ResourceList ("cpu", "memory", ...).
type ResourceName string

// Resource names kl schedules and accounts for.
const (
	// ResourceCPU is CPU in cores; "500m" is half a core.
	ResourceCPU ResourceName = "cpu"
	// ResourceMemory is memory in bytes.
	ResourceMemory ResourceName = "memory"
	// ResourceEphemeralStorage is node-local scratch storage in bytes.
	ResourceEphemeralStorage ResourceName = "ephemeral-storage"
	// ResourcePods is the number of pods a node can run.
	ResourcePods ResourceName = "pods"
	// ResourceStorage is persistent storage in bytes.
	ResourceStorage ResourceName = "storage"
)

// ResourceList maps resource names to quantities (requests, limits,
// capacity, allocatable).
type ResourceList map[ResourceName]Quantity

// Name returns a copy of the named quantity, or a zero quantity in
// defaultFormat when it is absent.
func (rl ResourceList) Name(name ResourceName, defaultFormat Format) *Quantity {
	if q, ok := rl[name]; ok {
		q = q.DeepCopy()
		return &q
	}
	return &Quantity{Format: defaultFormat}
}

// Cpu returns the "cpu" quantity (zero when absent).
func (rl ResourceList) Cpu() *Quantity { return rl.Name(ResourceCPU, DecimalSI) }

// Memory returns the "memory" quantity (zero when absent).
func (rl ResourceList) Memory() *Quantity { return rl.Name(ResourceMemory, BinarySI) }

// Pods returns the "pods" quantity (zero when absent).
func (rl ResourceList) Pods() *Quantity { return rl.Name(ResourcePods, DecimalSI) }

// StorageEphemeral returns the "ephemeral-storage" quantity (zero when absent).
func (rl ResourceList) StorageEphemeral() *Quantity {
	return rl.Name(ResourceEphemeralStorage, BinarySI)
}

// DeepCopy returns an independent copy of rl (nil stays nil).
func (rl ResourceList) DeepCopy() ResourceList {
	if rl == nil {
		return nil
	}
	out := make(ResourceList, len(rl))
	for k, v := range rl {
		out[k] = v.DeepCopy()
	}
	return out
}

// Equal reports whether rl and other hold the same names with equal
// quantities (formats may differ).
func (rl ResourceList) Equal(other ResourceList) bool {
	if len(rl) != len(other) {
		return false
	}
	for k, v := range rl {
		o, ok := other[k]
		if !ok || !v.Equal(o) {
			return false
		}
	}
	return true
}

// ParseList parses a resource list written "cpu=4,memory=8Gi,pods=110"
// (the form of command-line flags such as --capacity).
func ParseList(s string) (ResourceList, error) {
	rl := ResourceList{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q is not NAME=QUANTITY", item)
		}
		q, err := ParseQuantity(val)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a quantity", name, val)
		}
		if q.Sign() < 0 {
			return nil, fmt.Errorf("%s: %s must not be negative", name, val)
		}
		if _, dup := rl[ResourceName(name)]; dup {
			return nil, fmt.Errorf("%s is given twice", name)
		}
		rl[ResourceName(name)] = q
	}
	if len(rl) == 0 {
		return nil, errors.New("no resources given")
	}
	return rl, nil
}
