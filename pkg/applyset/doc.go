// Package applyset is the engine of `kl apply` and `kl diff`: which
// objects form an apply set, how its membership is recorded in the
// cluster, which objects pruning may delete, and the dependency-ordered,
// concurrent server-side apply of many objects.
//
// # Apply sets
//
// An apply set is the group of objects applied together from the same
// manifests. Its identity (Set) comes from --applyset NAME or, by default,
// from a hash of the absolute paths given with -f and the namespace, so
// that `kl apply -f deploy/` run twice from anywhere names the same set.
// The model is Kubernetes' ApplySet KEP (KEP-3659), simplified:
//
//   - every object applied through the set carries the label
//     applyset.kl.dev/part-of=<id> (PartOfLabel);
//   - the set's members (group, kind, namespace and name of each) are
//     recorded in a ConfigMap kl-applyset-<id> in the set's namespace (the
//     -n namespace, else the context's), one member a line in data.members;
//   - the record grows when objects are applied (Record.With) and shrinks when
//     they are pruned or found gone (Record.Without).
//
// # Pruning
//
// PlanPrune selects what `--prune` deletes: recorded members that are no
// longer in the manifests AND still carry the set's label in the cluster
// (both must hold, so an object that was relabelled, or never applied
// through this set, is never deleted), optionally narrowed by a label
// selector. Plan.CheckSafe refuses a prune that would delete every member
// of a set (an empty selection, a mistyped path with --applyset) unless
// forced.
//
// # Applying
//
// Prepare turns manifest objects into Objects (REST mapping, effective
// namespace, the body to send with the set's label). Apply sends them with
// server-side apply in manifest.ApplyOrder: objects of one class
// (Namespaces; ConfigMaps, Secrets, ServiceAccounts; Services; workloads;
// others) are applied concurrently (bounded), classes one after the other.
// It needs no GET before applying: the apiserver's X-Kl-Apply-Result header
// says whether the object was created, configured or unchanged. An apply
// is idempotent, so one the server gave up on (5xx, 429, "too many
// concurrent writers, try again") is sent again, a few times, with
// back-off; a field-manager conflict is not.
//
// In a server dry run, objects in a namespace that the same apply creates
// cannot be dry-run by the server (the namespace does not exist yet); Apply
// predicts them from the manifest instead, marked Predicted, so that `kl
// diff` and `kl apply --dry-run=server` show them as new rather than fail
// as kubectl does.
package applyset
