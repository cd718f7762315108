package framework

// StateKey names a value in a CycleState; plugins use their own name or
// a key derived from it.
type StateKey string

// CycleState is the scratch space of one scheduling cycle (one pod). It
// carries the pod's PodInfo, computed once for the whole cycle, and values
// that PreFilter and PreScore store for Filter and Score to read, so that
// per-pod work is not repeated per node.
//
// Writes happen only in PreFilter and PreScore, which run one at a time;
// Filter and Score run concurrently over nodes and only read. So
// CycleState needs no locking.
type CycleState struct {
	pod  *PodInfo
	data map[StateKey]any
}

// NewCycleState returns the state of a cycle scheduling pi's pod.
func NewCycleState(pi *PodInfo) *CycleState {
	return &CycleState{pod: pi, data: map[StateKey]any{}}
}

// PodInfo returns the PodInfo of the pod being scheduled.
func (c *CycleState) PodInfo() *PodInfo { return c.pod }

// Write stores v under key. Call it from PreFilter or PreScore only.
func (c *CycleState) Write(key StateKey, v any) { c.data[key] = v }

// Read returns the value stored under key.
func (c *CycleState) Read(key StateKey) (any, bool) {
	v, ok := c.data[key]
	return v, ok
}

// ReadAs returns the value stored under key if it is a T.
func ReadAs[T any](c *CycleState, key StateKey) (T, bool) {
	v, ok := c.data[key].(T)
	return v, ok
}
