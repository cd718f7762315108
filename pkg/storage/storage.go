// Package storage defines the revisioned key-value store every kl apiserver
// persists objects in, and the errors its backends return.
//
// The contract (DESIGN.md, "Storage contract"):
//
//   - keys look like /registry/<group>/<resource>/<namespace>/<name>;
//   - one global, strictly increasing revision; every write (create, update,
//     delete) gets the next one, and a key's ModRevision is the revision of its
//     last write (it becomes metadata.resourceVersion);
//   - Create fails with ErrAlreadyExists; Update and Delete take an expected
//     ModRevision (0 means "any") and fail with ErrConflict when it differs;
//   - List returns the items under a prefix and the revision it was read at;
//   - Watch(prefix, fromRevision) delivers every change after fromRevision in
//     revision order, exactly once; when fromRevision is older than the history
//     the backend keeps, it fails with ErrGone.
//
// Values are opaque bytes: the store knows nothing about objects. Backends
// live in subpackages (memory, badger, etcd) and all pass the conformance
// suite in storagetest.
package storage

import (
	"context"
	"errors"
)

// Sentinel errors. Backends wrap them; callers test with errors.Is.
var (
	ErrNotFound      = errors.New("key not found")
	ErrAlreadyExists = errors.New("key already exists")
	ErrConflict      = errors.New("revision conflict")
	ErrGone          = errors.New("requested revision is no longer available")
	ErrClosed        = errors.New("store is closed")
)

// KeyValue is one stored key.
type KeyValue struct {
	Key   string
	Value []byte
	// ModRevision is the revision of the key's last write.
	ModRevision int64
	// CreateRevision is the revision at which the key was created.
	CreateRevision int64
}

// EventType says what happened to a key.
type EventType int

// Event types.
const (
	EventPut EventType = iota + 1 // created or updated
	EventDelete
)

func (t EventType) String() string {
	switch t {
	case EventPut:
		return "PUT"
	case EventDelete:
		return "DELETE"
	}
	return "UNKNOWN"
}

// Event is one change delivered by Watch.
type Event struct {
	Type EventType
	// KV is the key after the change. For a delete, Value is the value the
	// key had before it was deleted and ModRevision is the delete's revision.
	KV KeyValue
	// Created is true when a put created the key (it did not exist before).
	Created bool
	// PrevValue is the value before the change, when the backend knows it
	// (always set for deletes; set for updates).
	PrevValue []byte
}

// ListOptions narrows a List.
type ListOptions struct {
	// Limit caps the number of items returned (0: no limit).
	Limit int64
	// StartKey resumes a paginated list: only keys >= StartKey are returned.
	StartKey string
	// Revision reads the list as of that revision (0: current). Backends may
	// refuse old revisions with ErrGone.
	Revision int64
}

// ListResult is the answer of a List.
type ListResult struct {
	Items []KeyValue
	// Revision is the store revision the list was read at.
	Revision int64
	// More is true when Limit cut the list short; the next key to read is
	// the last item's key followed by "\x00".
	More bool
	// Remaining counts the keys left after the returned page, when known (-1: unknown).
	Remaining int64
}

// WatchResult is delivered on a watch channel: an event, or a terminal error.
type WatchResult struct {
	Event Event
	// Err ends the watch (e.g. ErrGone when the watcher fell too far behind).
	Err error
}

// Interface is the store every backend implements. Every method is safe for
// concurrent use.
type Interface interface {
	// Get returns the key or ErrNotFound.
	Get(ctx context.Context, key string) (KeyValue, error)
	// List returns the keys with the prefix, sorted by key.
	List(ctx context.Context, prefix string, opts ListOptions) (ListResult, error)
	// Create stores a new key and returns its revision, or ErrAlreadyExists.
	Create(ctx context.Context, key string, value []byte) (int64, error)
	// Update replaces an existing key's value when its ModRevision equals
	// expectedRevision (0: unconditional). It returns the new revision, or
	// ErrNotFound / ErrConflict.
	Update(ctx context.Context, key string, value []byte, expectedRevision int64) (int64, error)
	// Delete removes a key when its ModRevision equals expectedRevision (0:
	// unconditional). It returns the deleted key (with its last value) and the
	// revision of the delete, or ErrNotFound / ErrConflict.
	Delete(ctx context.Context, key string, expectedRevision int64) (KeyValue, int64, error)
	// Watch delivers every change under prefix after fromRevision (0: from
	// now) until ctx is cancelled, then closes the channel. An ErrGone result
	// is sent (and the channel closed) when fromRevision is no longer
	// available or the watcher cannot keep up.
	Watch(ctx context.Context, prefix string, fromRevision int64) (<-chan WatchResult, error)
	// CurrentRevision returns the newest revision of the store.
	CurrentRevision(ctx context.Context) (int64, error)
	// Close releases the store's resources.
	Close() error
}

// Counter is an optional capability: backends that can count keys under a
// prefix cheaply implement it.
type Counter interface {
	Count(ctx context.Context, prefix string) (int64, error)
}
