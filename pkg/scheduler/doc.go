// Package scheduler is kl's scheduler: it assigns pending pods to nodes,
// as kube-scheduler does, in small.
//
// # What it schedules
//
// Pods with no spec.nodeName whose spec.schedulerName is
// Config.SchedulerName ("default-scheduler") or empty, and that are
// neither finished nor being deleted. Binding a pod is a POST of a core/v1
// Binding to pods/NAME/binding; the apiserver sets spec.nodeName and
// PodScheduled=True.
//
// # How
//
// Two informers (pods, nodes) keep a cache of every node with the pods
// bound to it (internal/cache) and a queue of pending pods
// (internal/queue). One goroutine runs the scheduling loop:
//
//  1. Pop the next pod: highest priority, then oldest.
//  2. Update the cycle's snapshot of the cache (only nodes that changed are
//     copied).
//  3. Filter: run the filter plugins over the nodes, on Parallelism
//     goroutines, starting at a rotating offset; in clusters of 100 nodes
//     or more, stop once PercentageOfNodesToScore of them fit (Kubernetes'
//     percentageOfNodesToScore).
//  4. Score the feasible nodes with the score plugins, weighted, and pick
//     the best (ties at random).
//  5. Assume: count the pod against its node in the cache at once, then
//     bind in a goroutine (at most BindConcurrency in flight) and go on
//     with the next pod. The informer's update of the bound pod replaces
//     the assumption; a failed bind forgets it and retries the pod after a
//     back-off.
//
// A pod no node fits gets the PodScheduled=False condition (reason
// Unschedulable, written only when it changes) and a Warning event
// FailedScheduling with kube-scheduler's message, e.g.
//
//	0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 Insufficient cpu.
//
// and waits in the queue until the cluster changes (a node is added or
// changes its allocatable, labels, taints, cordon or readiness; a bound
// pod is deleted or finishes; a bind fails) or for UnschedulableTimeout.
// The same failure again increments the event's count instead of creating
// another event. Bound pods get a Normal event Scheduled, "Successfully
// assigned NS/NAME to NODE", unless SkipScheduledEvents; as each is a write
// as costly as the bind, they are rate limited (100/s, bursts of 500) and
// a bigger burst of binds goes partly without them.
//
// # Plugins
//
// The framework subpackage defines the plugin interfaces and runs them;
// framework/plugins holds kl's plugins and the default profile. Config.Plugins
// (the plugins section of `kl scheduler --config`) disables, adds and
// re-weighs plugins; an unknown name is an error at New.
//
// # Metrics
//
// Registry holds, in kube-scheduler's names where it has them:
// scheduler_schedule_attempts_total{result=scheduled|unschedulable|error},
// scheduler_e2e_scheduling_duration_seconds{result} (from taking a pod off
// the queue to its bind), scheduler_scheduling_algorithm_duration_seconds,
// scheduler_pending_pods{queue=active|backoff|unschedulable},
// scheduler_events_dropped_total, kl_scheduler_leader and the Go and
// process collectors. With Config.MetricsAddr, Run serves them on /metrics
// (and "ok" on /healthz).
//
// # Leader election
//
// With Config.LeaderElect, Run schedules only while it holds the Lease
// (kube-system/kl-scheduler by default; see package leaderelection). Each
// time it gains the lease it starts from scratch (informers, cache,
// queue); when it loses it, the binds in flight are cancelled before
// another scheduler can take over; on shutdown it releases the lease so the
// next one takes over at once.
package scheduler
