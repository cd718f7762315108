// Package runtime is the contract between the kubelet and a container
// runtime: the part of a node that runs pod sandboxes and containers. It is
// shaped after Kubernetes' Container Runtime Interface (CRI), trimmed to what
// kl needs, and sized for a real engine: the Docker runtime
// (pkg/kubelet/runtime/docker, on github.com/moby/moby/client) and the
// in-memory fake (pkg/kubelet/runtime/fake) implement the same Runtime, and
// both pass the conformance suite in pkg/kubelet/runtime/runtimetest.
//
// # Model
//
// A pod runs in a sandbox (RunPodSandbox): the network namespace (one IP)
// its containers share. In Docker a sandbox is a "pause" container; in the
// fake it is a record with an IP from the node's pod range. Containers are
// created into a sandbox (CreateContainer), started (StartContainer), stopped
// with a grace period (StopContainer: SIGTERM, then SIGKILL when the grace
// period ends) and removed (RemoveContainer). An exited container keeps its
// exit code, reason and timestamps until it is removed, which is how the
// kubelet reports lastState and counts restarts.
//
// # Labels: state lives in the runtime
//
// The kubelet keeps no state of its own that it cannot rebuild. Every
// sandbox and container carries the labels
//
//	kl.pod.namespace, kl.pod.name, kl.pod.uid       (sandboxes and containers)
//	kl.container.name, kl.container.attempt          (containers)
//
// set by the runtime from PodSandboxConfig and ContainerConfig, so a kubelet
// that restarts lists the runtime (ListPodSandboxes, ListContainers), adopts
// what belongs to pods bound to its node and removes the rest. The attempt
// is the container's restart count: attempt N is the Nth restart. A runtime
// refuses a second container with the same name and attempt in one sandbox
// (ErrAlreadyExists), the last guard against duplicates.
//
// # Events
//
// Events streams container lifecycle changes (created, started, exited,
// removed) so the kubelet reacts to an exit at once instead of polling each
// pod. Events may be lost when a stream breaks; a kubelet re-subscribes and
// re-lists, as Kubernetes' PLEG does.
//
// # Errors
//
// ErrNotFound (no such sandbox, container or image) and ErrAlreadyExists are
// the sentinels callers test with errors.Is; every other failure is an
// error naming the object. Stop and remove operations are idempotent: they
// succeed on something already stopped or gone.
//
// # Optional capabilities
//
// A runtime may implement more than Runtime; the kubelet finds extra
// capabilities by type assertion. The fake implements prober.Prober, so
// probes of fake containers are answered by the fake (see its package doc)
// rather than by real HTTP, TCP or exec checks.
package runtime
