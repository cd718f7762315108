// Package client is how every kl component and the CLI talk to the kl
// apiserver. The apiserver speaks Kubernetes' REST wire protocol (DESIGN.md,
// "API wire contract"), and so does this client:
//
//   - paths /api/v1/namespaces/{ns}/{resource}[/{name}[/{subresource}]],
//     /api/v1/{resource}/{name} for cluster-scoped resources, and
//     /apis/{group}/{version}/... for named groups (ResourcePath);
//   - list responses {"kind":"...List","metadata":{"resourceVersion",
//     "continue"},"items":[...]}, paged with limit and continue;
//   - watch with ?watch=true&resourceVersion=N, a stream of one JSON event
//     per line, {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":...};
//   - errors as Status bodies, returned as *meta.APIError so that
//     meta.IsNotFound, meta.IsConflict, meta.IsGone, ... work;
//   - the Kubernetes query parameters (ListOptions, CreateOptions,
//     UpdateOptions, PatchOptions, meta.DeleteOptions) and patch types.
//
// # Layers
//
// Client (New) holds the connection pool and the list of apiservers. Its
// Do and Stream send one request by path; use them for discovery and other
// non-resource paths.
//
// Resource is the typed client of one resource, generic over the kind's
// struct: NewResource[corev1.Pod](c, gvr, true).Namespace("default").Get(ctx,
// "web-1"). It works for any type whose pointer implements meta.Object
// (embedding meta.TypeMeta and meta.ObjectMeta).
//
// Dynamic (Client.Dynamic) offers the same operations on raw JSON, naming
// the resource, namespace and object on every call, for the CLI.
//
// Watch streams events; RetryWatch resumes a watch after disconnects from
// the last resourceVersion seen and reports 410 Gone so the caller can
// re-list. The informer subpackage builds a list+watch cache on top, and
// workqueue is the queue controllers feed from it.
//
// # Failover
//
// Config.Servers may name several apiservers (sharing one etcd). A request
// goes to the server that last answered; if it cannot be reached, the next
// is tried, each once per request. A request that failed while connecting
// (nothing was sent) is always tried on the next server; one that failed
// later (connection reset, per-attempt Timeout, closed before a response) is
// tried again only if it is idempotent (GET, PUT, DELETE): a POST or PATCH
// may have been carried out, so it fails instead. When no server answers,
// the error is an *UnreachableError whose message names every server, e.g.
// "cannot reach the kl apiserver at http://127.0.0.1:6443: connection
// refused".
//
// # Errors
//
// Server-side failures are *meta.APIError values, not wrapped, since the
// Status message already names the object ("pods \"web\" not found");
// unreachable servers give *UnreachableError; a cancelled ctx gives an error
// wrapping ctx.Err(); anything else (encoding, a missing namespace) is a
// plain error naming the resource.
//
// # Concurrency and performance
//
// A Client, its Resources and Dynamic are safe for concurrent use. The
// transport keeps up to 128 idle HTTP/1.1 connections per host, enough for
// 64 concurrent callers plus their watches. List decodes the items straight
// into a []T, and each watch line is decoded once into its envelope and
// once into the object's final type.
package client
