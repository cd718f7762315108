// Package etcd is the kl storage backend on an etcd v3 cluster: the store
// for several apiservers sharing one set of objects (DESIGN.md, "Storage
// contract"; the embedded badger store is the single-machine default).
//
// The contract maps directly onto etcd:
//
//   - a kl key is stored as the etcd key Prefix+key. kl keys already start
//     with /registry/, so with the default empty Prefix the layout is the
//     one Kubernetes uses (/registry/pods/default/web-1); a Prefix such as
//     "/kl" moves it under a prefix of its own;
//   - the storage revision is etcd's revision: a key's ModRevision and
//     CreateRevision are etcd's mod_revision and create_revision, so every
//     apiserver on the cluster sees the same resourceVersions;
//   - Create, and Update or Delete with an expected revision, are single
//     etcd transactions comparing create_revision or mod_revision, so
//     compare-and-swap holds across apiservers;
//   - List reads a key range at one revision (WithRev) in pages (WithLimit
//     from StartKey to the end of the prefix);
//   - Watch is an etcd watch from the requested revision with the previous
//     value of every key (WithPrevKV), which deletes need;
//   - etcd's history is its compaction window: a List or Watch at a
//     compacted revision fails with storage.ErrGone, and so does a watch
//     whose reader falls more than Options.WatchBufferSize events behind.
//
// Open compacts the history every Options.CompactionInterval, keeping at
// least one interval of it (like kube-apiserver). Several apiservers may
// each run the compactor; etcd ignores compactions to an older revision.
//
// Give each kl cluster an etcd cluster of its own. Prefix keeps keys apart,
// but a consistent read (a GET or LIST without resourceVersion) waits until
// the apiserver's watch cache has reached etcd's newest revision, and only
// changes under Prefix+"/registry/" reach that cache: writes by anything
// else to the same etcd move the revision without an event, and such reads
// then wait (up to 3s, then 503) for the cluster's next own write.
//
// The tests start a real three-member etcd cluster (see etcdtest) and run
// the storagetest conformance suite on it.
package etcd
