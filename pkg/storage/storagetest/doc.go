// Package storagetest is the conformance suite every kl storage backend runs
// unchanged (DESIGN.md, "Storage contract"; the model is Kubernetes'
// apiserver/pkg/storage/testing/store_tests.go).
//
// A backend's test calls:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Interface {
//			return memory.New(memory.Options{})
//		})
//	}
//
// Run covers the contract of storage.Interface: create/get/update/delete with
// compare-and-swap, one global increasing revision, sorted prefix lists with
// pagination and reads at older revisions, watches (replay, prefix isolation,
// ordering under concurrent writers and watchers, cancellation) and Close.
// newStore must return an empty store whose watch history (or compaction
// window) holds at least 10,000 events, which the backends' defaults do. Run
// closes each store it makes; Close must be idempotent, so newStore may also
// register a cleanup that closes it.
//
// Two more entry points cover what not every backend has:
//
//   - RunHistory, for backends with a bounded in-memory watch history of a
//     configurable size (memory, badger): ErrGone for revisions older than
//     the history, exact lists at every revision inside it, and a watcher
//     that stops reading being ended with ErrGone instead of blocking writers.
//   - RunReopen, for persistent backends: data, revisions and the revision
//     counter survive Close and reopening the same directory.
//
// Values the suite writes are small JSON-like byte strings, plus one value
// of 512 KiB; keys look like /registry/<resource>/<namespace>/<name>.
package storagetest
