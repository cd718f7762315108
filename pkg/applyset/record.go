package applyset

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
)

// API is the part of the API client the engine uses; *client.Dynamic
// implements it.
type API interface {
	Get(ctx context.Context, gvr meta.GroupVersionResource, namespace, name string) ([]byte, error)
	List(ctx context.Context, gvr meta.GroupVersionResource, namespace string, opts client.ListOptions) ([]byte, error)
	PatchWithResult(ctx context.Context, gvr meta.GroupVersionResource, namespace, name string, pt client.PatchType, data []byte, opts client.PatchOptions) (*client.PatchResult, error)
	Delete(ctx context.Context, gvr meta.GroupVersionResource, namespace, name string, opts meta.DeleteOptions) ([]byte, error)
}

var _ API = (*client.Dynamic)(nil)

// configMapsGVR is where records live.
var configMapsGVR = meta.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// membersKey is the record's data key listing the members.
const membersKey = "members"

// Record is a set's membership as recorded in the cluster.
type Record struct {
	// Exists is false when the set has no record yet.
	Exists  bool
	members map[Member]bool
}

// NewRecord returns a record (not yet stored) with members.
func NewRecord(members ...Member) *Record {
	r := &Record{members: map[Member]bool{}}
	for _, m := range members {
		r.members[m] = true
	}
	return r
}

// Has reports whether m is a recorded member.
func (r *Record) Has(m Member) bool { return r.members[m] }

// Len returns the number of members.
func (r *Record) Len() int { return len(r.members) }

// Members returns the members, sorted.
func (r *Record) Members() []Member {
	out := slices.Collect(maps.Keys(r.members))
	slices.SortFunc(out, Member.compare)
	return out
}

// With returns a copy of r with add added, and whether that changed
// anything.
func (r *Record) With(add ...Member) (*Record, bool) {
	out := &Record{Exists: r.Exists, members: maps.Clone(r.members)}
	changed := false
	for _, m := range add {
		if !out.members[m] {
			out.members[m] = true
			changed = true
		}
	}
	return out, changed
}

// Without returns a copy of r without drop, and whether that changed
// anything.
func (r *Record) Without(drop ...Member) (*Record, bool) {
	out := &Record{Exists: r.Exists, members: maps.Clone(r.members)}
	changed := false
	for _, m := range drop {
		if out.members[m] {
			delete(out.members, m)
			changed = true
		}
	}
	return out, changed
}

// ReadRecord reads set's record; a set without one (or whose namespace
// does not exist yet) has an empty record.
func ReadRecord(ctx context.Context, api API, set Set) (*Record, error) {
	body, err := api.Get(ctx, configMapsGVR, set.Namespace, set.RecordName())
	if meta.IsNotFound(err) {
		return NewRecord(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the record of apply set %s: %w", set, err)
	}
	var cm struct {
		Metadata meta.ObjectMeta   `json:"metadata"`
		Data     map[string]string `json:"data"`
	}
	if err := json.Unmarshal(body, &cm); err != nil {
		return nil, fmt.Errorf("decode the record of apply set %s: %w", set, err)
	}
	if cm.Metadata.Labels[IDLabel] != set.ID {
		return nil, fmt.Errorf("configmap %s/%s is not the record of apply set %s (its label %s is %q); refusing to use it",
			set.Namespace, set.RecordName(), set, IDLabel, cm.Metadata.Labels[IDLabel])
	}
	r := NewRecord()
	r.Exists = true
	for i, line := range strings.Split(cm.Data[membersKey], "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := ParseMember(line)
		if err != nil {
			return nil, fmt.Errorf("record of apply set %s (configmap %s/%s), line %d: %w", set, set.Namespace, set.RecordName(), i+1, err)
		}
		r.members[m] = true
	}
	return r, nil
}

// WriteRecord stores r as set's record, with server-side apply as
// fieldManager (taking the record over from any other manager).
func WriteRecord(ctx context.Context, api API, set Set, r *Record, fieldManager string) error {
	var b strings.Builder
	for _, m := range r.Members() {
		b.WriteString(m.String())
		b.WriteByte('\n')
	}
	cm := map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name":        set.RecordName(),
			"namespace":   set.Namespace,
			"labels":      map[string]any{IDLabel: set.ID},
			"annotations": map[string]any{"applyset.kl.dev/tooling": "kl"},
		},
		"data": map[string]any{membersKey: b.String()},
	}
	body, err := json.Marshal(cm)
	if err != nil {
		return fmt.Errorf("encode the record of apply set %s: %w", set, err)
	}
	force := true
	err = withRetry(ctx, func() error {
		_, err := api.PatchWithResult(ctx, configMapsGVR, set.Namespace, set.RecordName(), client.ApplyPatchType, body,
			client.PatchOptions{FieldManager: fieldManager, Force: &force})
		return err
	})
	if err != nil {
		return fmt.Errorf("write the record of apply set %s (configmap %s/%s): %w", set, set.Namespace, set.RecordName(), err)
	}
	return nil
}
