// Package docker is kl's container runtime on a Docker Engine: it
// implements runtime.Runtime with the Engine API
// (github.com/moby/moby/client), negotiating the API version with the
// engine (API 1.40 or later: Docker Engine 19.03 and newer).
//
// # Sandboxes and the network
//
// A pod's sandbox is a small "pause" container that holds the pod's
// network and IPC namespaces; every container of the pod joins them
// (NetworkMode and IpcMode "container:<sandbox ID>"), so the pod's
// containers share one IP and localhost, as in Kubernetes. Sandboxes sit
// on a Docker bridge network that kl creates and owns (Config.Network,
// default "kl", on Config.Subnet, labelled kl.managed=true); the
// sandbox's address on it is the pod IP, reachable from the node. A
// hostNetwork pod's sandbox and containers use the host's network and
// the pod IP is Config.NodeIP. Host ports are published on the sandbox.
// DNS settings of the pod apply to the sandbox, whose resolv.conf the
// containers share.
//
// # The sandbox image
//
// No registry is needed: the sandbox image (Config.SandboxImage, default
// kl.local/pause:<kl version>) is made by kl itself from a static program
// (Config.PauseBinary, default the running kl binary, /proc/self/exe) as
// a one-layer image FROM scratch with the entrypoint ["/kl", "pause"],
// loaded into the engine with ImageLoad (see package imagearchive). It is
// made once: when an image of that name is present it is used as is.
// `kl pause` is Main of package pause.
//
// # Labels and adoption
//
// Everything kl creates carries kl.managed=true, kl.node=<node name> and
// kl.type=sandbox or container, besides the runtime's kl.pod.* and
// kl.container.* labels; a container also names its sandbox
// (kl.sandbox.id). The runtime lists, inspects, stops and removes only
// objects labelled with its own node name, so several kubelets (nodes)
// can share one engine, and a restarted kubelet finds its sandboxes and
// containers again by listing. Containers are named
// kl_<container>_<pod>_<namespace>_<sandbox>_<attempt>, which makes a
// second container of the same name and attempt in a sandbox impossible
// (runtime.ErrAlreadyExists).
//
// # Containers
//
// Command replaces the image's ENTRYPOINT and Args its CMD, as in
// Kubernetes; mounts are bind mounts of host paths the kubelet prepared;
// CPU and memory limits become NanoCPUs and Memory (with no swap); the
// security context becomes User, GroupAdd, Privileged, ReadonlyRootfs,
// CapAdd and CapDrop. Logs go to the json-file driver (rotated at 10 MiB,
// three files) and are read back with the engine's logs API. An exited
// container reports reason OOMKilled (killed by the memory limit),
// ContainerCannotRun (its process could not be started), Completed (exit
// 0) or Error. Containers are never restarted by the engine: restarts are
// the kubelet's, counted by the attempt label.
//
// # Events
//
// Events follows the engine's event stream, filtered to this node's
// objects: create, start, die and destroy of containers, and die of
// sandboxes.
package docker
