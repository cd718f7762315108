package deployutil

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
)

// FieldManager is the field manager of rollout's writes.
const FieldManager = "kl-rollout"

// maxConflicts bounds the read-check-patch attempts of Update.
const maxConflicts = 5

// Patch is a change to one object, computed from the state it was read in.
type Patch struct {
	Type client.PatchType
	Data []byte
}

// MergePatch returns a JSON merge patch of fields that the apiserver
// applies only if the object is still at resourceVersion rv (otherwise it
// answers Conflict).
func MergePatch(rv string, fields map[string]any) (*Patch, error) {
	body := map[string]any{}
	for k, v := range fields {
		body[k] = v
	}
	md, _ := body["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
	}
	md["resourceVersion"] = rv
	body["metadata"] = md
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode merge patch: %w", err)
	}
	return &Patch{Type: client.MergePatchType, Data: data}, nil
}

// JSONPatchOp is one operation of a JSON patch (RFC 6902).
type JSONPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// JSONPatch returns a JSON patch of ops that the apiserver applies only if
// the object is still at resourceVersion rv (otherwise it answers
// Conflict).
func JSONPatch(rv string, ops ...JSONPatchOp) (*Patch, error) {
	all := append([]JSONPatchOp{{Op: "add", Path: "/metadata/resourceVersion", Value: rv}}, ops...)
	data, err := json.Marshal(all)
	if err != nil {
		return nil, fmt.Errorf("encode JSON patch: %w", err)
	}
	return &Patch{Type: client.JSONPatchType, Data: data}, nil
}

// ChangeFunc computes the patch to send from the Deployment's current
// state. It returns a nil patch when there is nothing to change, and an
// error to give up (the deployment is paused, ...).
type ChangeFunc func(d *appsv1.Deployment) (*Patch, error)

// Update reads Deployment name, asks change for a patch and sends it. The
// patch carries the resourceVersion it was computed from, so a concurrent
// write makes it fail with Conflict; then Update reads again and retries,
// a few times. It returns the Deployment as written, or as read when
// change had nothing to do.
func Update(ctx context.Context, c *client.Client, ns, name string, change ChangeFunc) (*appsv1.Deployment, error) {
	deps := Deployments(c, ns)
	var err error
	for range maxConflicts {
		var d *appsv1.Deployment
		if d, err = deps.Get(ctx, name); err != nil {
			return nil, err
		}
		var p *Patch
		if p, err = change(d); err != nil || p == nil {
			return d, err
		}
		d, err = deps.Patch(ctx, name, p.Type, p.Data, client.PatchOptions{FieldManager: FieldManager})
		if !meta.IsConflict(err) {
			return d, err
		}
	}
	return nil, err
}
