package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// NewControllerRef returns the owner reference a controller puts on the
// objects it creates or adopts: controller and blockOwnerDeletion true.
func NewControllerRef(owner meta.Object, apiVersion, kind string) meta.OwnerReference {
	m := owner.GetObjectMeta()
	return meta.OwnerReference{
		APIVersion:         apiVersion,
		Kind:               kind,
		Name:               m.Name,
		UID:                m.UID,
		Controller:         meta.Boolp(true),
		BlockOwnerDeletion: meta.Boolp(true),
	}
}

// Claimer decides which objects a controller owns, as Kubernetes'
// ControllerRefManager does: objects it controls that still match its
// selector are kept; objects it controls that no longer match are released
// (its owner reference removed); orphans that match are adopted (its
// controller reference added). Objects controlled by someone else are left
// alone. A controller being deleted neither adopts nor releases.
type Claimer[PT meta.Object] struct {
	// Owner is the controller object (a ReplicaSet, a Deployment).
	Owner meta.Object
	// Selector is the owner's label selector.
	Selector meta.Selector
	// CanAdopt, if set, is called once before the first adoption; an
	// error stops adoptions. Controllers use it to re-read the owner from
	// the apiserver and make sure it is not being deleted, so that they
	// never adopt for a dead owner on the strength of a stale cache.
	CanAdopt func(ctx context.Context) error
	// Adopt and Release write the change (see AdoptPatch, ReleasePatch).
	// A NotFound error from them means the object is gone: it is skipped.
	Adopt   func(ctx context.Context, obj PT) error
	Release func(ctx context.Context, obj PT) error
}

// RecheckOwner returns a Claimer.CanAdopt that re-reads the owner with get
// and refuses adoptions when it is gone (another UID under its name) or
// being deleted. kind names the owner in errors.
func RecheckOwner[PT meta.Object](owner meta.Object, kind string, get func(ctx context.Context, namespace, name string) (PT, error)) func(context.Context) error {
	m := owner.GetObjectMeta()
	return func(ctx context.Context) error {
		fresh, err := get(ctx, m.Namespace, m.Name)
		if err != nil {
			return fmt.Errorf("re-read %s %s/%s before adopting: %w", kind, m.Namespace, m.Name, err)
		}
		fm := fresh.GetObjectMeta()
		if fm.UID != m.UID {
			return fmt.Errorf("%s %s/%s is gone: got uid %s, wanted %s", kind, m.Namespace, m.Name, fm.UID, m.UID)
		}
		if fm.DeletionTimestamp != nil {
			return fmt.Errorf("%s %s/%s is being deleted", kind, m.Namespace, m.Name)
		}
		return nil
	}
}

// Claim returns the objects of objs the owner owns after adopting and
// releasing. Failed adoptions and releases are returned as one error, with
// the objects that could be claimed.
func (c *Claimer[PT]) Claim(ctx context.Context, objs []PT) ([]PT, error) {
	owner := c.Owner.GetObjectMeta()
	var (
		claimed  []PT
		errs     []error
		adoptErr error
		checked  bool
	)
	canAdopt := func() error {
		if !checked {
			checked = true
			if c.CanAdopt != nil {
				adoptErr = c.CanAdopt(ctx)
			}
		}
		return adoptErr
	}
	for _, obj := range objs {
		m := obj.GetObjectMeta()
		match := c.Selector.Matches(m.Labels)
		if ref := meta.GetControllerOf(m); ref != nil {
			if ref.UID != owner.UID {
				continue // someone else's
			}
			if match {
				claimed = append(claimed, obj)
				continue
			}
			if owner.DeletionTimestamp != nil || c.Release == nil {
				continue
			}
			if err := c.Release(ctx, obj); err != nil && !meta.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("release %s: %w", m.Name, err))
			}
			continue
		}
		// An orphan.
		if !match || owner.DeletionTimestamp != nil || m.DeletionTimestamp != nil || m.Namespace != owner.Namespace || c.Adopt == nil {
			continue
		}
		if err := canAdopt(); err != nil {
			errs = append(errs, fmt.Errorf("adopt %s: %w", m.Name, err))
			continue
		}
		if err := c.Adopt(ctx, obj); err != nil {
			if !meta.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("adopt %s: %w", m.Name, err))
			}
			continue
		}
		claimed = append(claimed, obj)
	}
	return claimed, errors.Join(errs...)
}

// SameOwnerRef reports whether a and b name the same owner (both nil
// counts as the same).
func SameOwnerRef(a, b *meta.OwnerReference) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UID == b.UID && a.Name == b.Name && a.Kind == b.Kind && a.APIVersion == b.APIVersion
}

// AdoptPatch is the strategic merge patch that adds ref to the owner
// references of the object with the given uid. The uid makes it fail
// (Conflict) if the object was replaced by another of the same name.
func AdoptPatch(ref meta.OwnerReference, uid string) []byte {
	p := map[string]any{"metadata": map[string]any{
		"ownerReferences": []meta.OwnerReference{ref},
		"uid":             uid,
	}}
	data, err := json.Marshal(p)
	if err != nil {
		panic(err) // plain maps and strings always marshal
	}
	return data
}

// ReleasePatch is the strategic merge patch that removes the owner
// reference with ownerUID from the object with the given uid.
func ReleasePatch(ownerUID, uid string) []byte {
	p := map[string]any{"metadata": map[string]any{
		"ownerReferences": []map[string]any{{"$patch": "delete", "uid": ownerUID}},
		"uid":             uid,
	}}
	data, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return data
}
