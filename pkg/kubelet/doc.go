// Package kubelet is kl's node agent: it registers a Node, keeps its status
// and Lease current, and runs the pods bound to it through a container
// runtime (pkg/kubelet/runtime: Docker, or the fake that simulates nodes).
//
// # Shape
//
// New(cfg) builds a Kubelet, Run(ctx) runs it until ctx is cancelled. One
// Kubelet hosts one node, or with Config.SimulateNodes N nodes named
// NAME-0..NAME-(N-1), each with its own registration, lease, fake runtime
// and pod range, sharing one pod informer, one event recorder and one API
// client (for scale runs: 100 simulated nodes in one process).
//
// # Pods
//
// The informer watches the pods bound to the hosted nodes (fieldSelector
// spec.nodeName). Each pod gets a worker goroutine, as in Kubernetes'
// kubelet, woken by the pod's updates, its containers' runtime events,
// probe verdicts, back-off timers and a periodic resync (Config.
// ResyncInterval); there is no polling per pod. A sync:
//
//  1. creates the pod's sandbox if it has no ready one;
//  2. runs the init containers one after another, each to completion;
//  3. starts the app containers, pulling images as imagePullPolicy says,
//     restarting exited ones as restartPolicy says (Always, OnFailure,
//     Never) with Kubernetes' per-container back-off (the first restart at
//     once, then Config.CrashLoopBackOffBase doubling up to
//     CrashLoopBackOffMax, shown as waiting reason CrashLoopBackOff), and
//     killing containers whose liveness or startup probe failed;
//  4. computes the pod status (phase, conditions with lastTransitionTime
//     kept, container statuses with state, lastState, ready, started,
//     restartCount, image and container IDs, pod and host IPs) and writes
//     it through pods/status only when it changed.
//
// A pod with metadata.deletionTimestamp has its containers stopped within
// its grace period (SIGTERM, then SIGKILL), its sandbox and containers
// removed, and is then deleted for good (gracePeriodSeconds=0 with a UID
// precondition). A pod that disappears from the API (force-deleted) has
// its containers killed and removed.
//
// # Volumes and environment
//
// Before a pod's containers are created its volumes are made ready on the
// node's disk and handed to the runtime as bind mounts (volumes.go):
// emptyDir is DATA_DIR/pods/UID/volumes/emptydir/NAME (mode 0777, kept
// across container restarts; medium Memory is a plain directory too);
// configMap and secret volumes are DATA_DIR/pods/UID/volumes/{configmap,
// secret}/NAME holding the object's keys as files (or the items listed,
// with key, path and mode; defaultMode 0644), always mounted read-only;
// hostPath is the node's path after the check its type asks for
// (Directory, DirectoryOrCreate, File, FileOrCreate, Socket, CharDevice,
// BlockDevice). A subPath mounts a path inside a volume. ConfigMap and
// Secret files are written as Kubernetes' AtomicWriter does: each version
// in a timestamped directory, a ..data symlink switched to it in one
// rename and one symlink per key into ..data, so containers never see a
// half-written update. The objects are read with GETs by name (the node
// authorizer lets a node read only those its pods use; no list or watch),
// kept per pod and read again every Config.ObjectSyncPeriod; a change
// wakes the pods that use it, which rewrite their volumes. A missing
// object (not optional) or key stops the containers from being created:
// they wait with reason CreateContainerConfigError and the message, and a
// FailedMount event names the volume. A pod's directory is removed once the
// pod is gone (and, at start, those of pods deleted meanwhile).
//
// The environment is resolved as Kubernetes does: envFrom (ConfigMaps and
// Secrets, with prefix) first, then env in order with $(VAR) expansion;
// valueFrom reads ConfigMap and Secret keys (from the same cache), the
// downward API (metadata.name, namespace, uid, labels['k'],
// annotations['k'], spec.nodeName, spec.serviceAccountName, status.podIP,
// status.hostIP) and container resources (resourceFieldRef). A missing
// object or key is CreateContainerConfigError with Kubernetes' message
// ("configmap \"app\" not found", "couldn't find key url in ConfigMap
// default/app").
//
// # Kubelet server: logs and exec
//
// The kubelet server (server.go) listens on Config.ServerAddress (the node
// IP) and Config.ServerPort, published in the node's
// status.daemonEndpoints.kubeletEndpoint.Port; the apiserver proxies
// pods/log and pods/exec to it. GET /containerLogs/NS/POD/CONTAINER
// streams a container's logs (follow, tailLines, timestamps, previous,
// sinceSeconds, sinceTime, limitBytes); POST /exec/NS/POD/CONTAINER
// ?command=...&command=... runs a command without a terminal and answers
// an ExecResult (JSON: stdout, stderr, exitCode). With
// Config.ClientCAFile it speaks HTTPS and serves only clients with a
// certificate of that CA naming kube-apiserver; otherwise plain HTTP, for
// --insecure clusters.
//
// # Restarts of the kubelet
//
// The kubelet keeps no state of its own: everything is in the runtime,
// labelled with the pod and container it belongs to (see
// pkg/kubelet/runtime). A kubelet that starts lists the runtime, removes
// what belongs to pods no longer bound to its node and lets each pod's
// worker adopt what is there, so running pods stay running, without
// duplicates. The fake runtime keeps its state in DATA_DIR/fake/NODE.json
// for exactly this.
//
// # Probes
//
// Each probe (liveness, readiness, startup) of each running container has
// a goroutine that probes every periodSeconds through a prober.Prober and
// turns successThreshold/failureThreshold runs into a verdict: readiness
// drives the Ready conditions, liveness and startup failures restart the
// container. On the fake runtime the fake answers probes (by image).
//
// # Events and metrics
//
// Events (Pulling, Pulled, Created, Started, Killing, BackOff, Unhealthy,
// Failed, ...) are written with source component "kubelet" and the node as
// host; repeats are counted on one Event, and writes are rate-limited and
// dropped beyond a bounded queue so a crash loop cannot flood the
// apiserver. Metrics (kubelet_running_pods, kubelet_running_containers,
// kubelet_pod_start_duration_seconds, kubelet_sync_errors_total) are on
// the kubelet's own registry, served with /healthz on
// Config.MetricsAddress.
//
// # Node
//
// The node is created (or, if it exists, brought up to date) with
// capacity and allocatable from Config.Capacity or the machine, addresses,
// nodeInfo and the conditions Ready, MemoryPressure, DiskPressure and
// PIDPressure. Its status is recomputed every NodeStatusUpdateFrequency
// and posted when it changed or every NodeStatusReportFrequency; its Lease
// in kube-node-lease is renewed every quarter of NodeLeaseDuration.
package kubelet
