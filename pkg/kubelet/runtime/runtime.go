package runtime

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"
)

// Labels every sandbox and container carries (see the package doc).
const (
	LabelPodNamespace     = "kl.pod.namespace"
	LabelPodName          = "kl.pod.name"
	LabelPodUID           = "kl.pod.uid"
	LabelContainerName    = "kl.container.name"
	LabelContainerAttempt = "kl.container.attempt"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound: no sandbox, container or image with that ID or name.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a container with the same name and attempt already
	// exists in the sandbox.
	ErrAlreadyExists = errors.New("already exists")
)

// Runtime is a container runtime. Implementations are safe for concurrent
// use; every blocking method honours ctx.
type Runtime interface {
	SandboxManager
	ContainerManager
	ImageManager

	// Version names the runtime: RuntimeName "docker" or "fake" and its
	// version, as shown in a node's containerRuntimeVersion
	// ("docker://27.3.1").
	Version(ctx context.Context) (VersionInfo, error)
	// Status returns nil when the runtime can run containers, else an
	// error saying why not (the node then reports Ready=False).
	Status(ctx context.Context) error
	// Events streams lifecycle events until ctx is cancelled or the stream
	// breaks; then the channel is closed and the caller subscribes again
	// and re-lists, since events may have been missed.
	Events(ctx context.Context) (<-chan Event, error)
	// Close releases the runtime's resources (connections, files). It does
	// not stop sandboxes or containers.
	Close() error
}

// SandboxManager runs pod sandboxes.
type SandboxManager interface {
	// RunPodSandbox creates and starts a sandbox for the pod and returns
	// it, ready, with its IP. Each call creates a new sandbox.
	RunPodSandbox(ctx context.Context, cfg PodSandboxConfig) (*PodSandbox, error)
	// StopPodSandbox stops every container of the sandbox (SIGKILL) and
	// releases its IP; the sandbox becomes NotReady. Idempotent; nil for
	// a sandbox that does not exist.
	StopPodSandbox(ctx context.Context, id string) error
	// RemovePodSandbox removes the sandbox and all its containers,
	// stopping them first. Idempotent; nil for a sandbox that does not
	// exist.
	RemovePodSandbox(ctx context.Context, id string) error
	// ListPodSandboxes returns the sandboxes the filter selects, oldest
	// first.
	ListPodSandboxes(ctx context.Context, filter SandboxFilter) ([]*PodSandbox, error)
}

// ContainerManager runs containers inside sandboxes.
type ContainerManager interface {
	// CreateContainer creates a container in a ready sandbox and returns
	// its ID; it is not started. The image must be present (ErrNotFound
	// otherwise); a container with the same name and attempt in the
	// sandbox is ErrAlreadyExists.
	CreateContainer(ctx context.Context, sandboxID string, cfg ContainerConfig) (string, error)
	// StartContainer starts a created container. It returns once the
	// container runs (or has already exited, for a short-lived one).
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends SIGTERM, waits up to grace for the container to
	// exit, then sends SIGKILL, and returns once it has exited. Idempotent
	// for a container that is not running; ErrNotFound for one that does
	// not exist.
	StopContainer(ctx context.Context, id string, grace time.Duration) error
	// RemoveContainer removes a container, killing it first if it runs.
	// Idempotent; nil for a container that does not exist.
	RemoveContainer(ctx context.Context, id string) error
	// ListContainers returns the containers the filter selects (running
	// and exited), oldest first.
	ListContainers(ctx context.Context, filter ContainerFilter) ([]*Container, error)
	// ContainerStatus returns one container; ErrNotFound if it does not
	// exist.
	ContainerStatus(ctx context.Context, id string) (*Container, error)
	// ContainerLogs returns what the container wrote to stdout and stderr,
	// one line per write of a line, as opts asks. With Follow the reader
	// blocks for more until the container exits or ctx is cancelled.
	ContainerLogs(ctx context.Context, id string, opts LogOptions) (io.ReadCloser, error)
	// ExecSync runs cmd in a running container and returns its output and
	// exit code. A command still running after timeout (0: no limit) is
	// an error wrapping context.DeadlineExceeded.
	ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (stdout, stderr []byte, exitCode int, err error)
	// Exec runs a command in a running container with streams attached
	// (kl exec) and returns its exit code.
	Exec(ctx context.Context, id string, opts ExecOptions) (exitCode int, err error)
}

// ImageManager pulls and lists images.
type ImageManager interface {
	// PullImage pulls image ("nginx:1.27") and returns its image ref, the
	// ID the node's containerStatuses[].imageID shows.
	PullImage(ctx context.Context, image string, auth *AuthConfig) (imageRef string, err error)
	// ImageStatus returns a present image; ErrNotFound when it is not.
	ImageStatus(ctx context.Context, image string) (*Image, error)
	// ListImages returns the images present.
	ListImages(ctx context.Context) ([]*Image, error)
	// RemoveImage removes an image. Idempotent.
	RemoveImage(ctx context.Context, image string) error
}

// VersionInfo names a runtime.
type VersionInfo struct {
	// RuntimeName is "docker" or "fake".
	RuntimeName string
	// RuntimeVersion is the engine's version ("27.3.1").
	RuntimeVersion string
	// RuntimeAPIVersion is the engine's API version, if it has one.
	RuntimeAPIVersion string
}

// String returns "name://version", the node's containerRuntimeVersion.
func (v VersionInfo) String() string { return v.RuntimeName + "://" + v.RuntimeVersion }

// PodSandboxConfig describes a pod's sandbox.
type PodSandboxConfig struct {
	// Name, Namespace and UID identify the pod; they become the kl.pod.*
	// labels of the sandbox and of every container created in it.
	Name      string
	Namespace string
	UID       string
	// Attempt counts the pod's sandboxes (0 for the first).
	Attempt uint32
	// Hostname is the hostname the pod's containers see.
	Hostname string
	// HostNetwork puts the pod in the node's network namespace; its IP is
	// the node's.
	HostNetwork bool
	// Labels are extra labels (the pod's own, for instance).
	Labels map[string]string
	// Ports are the pod's host port mappings.
	Ports []PortMapping
	// DNS configures the pod's resolver; nil keeps the runtime's default.
	DNS *DNSConfig
}

// DNSConfig is the content of a pod's /etc/resolv.conf.
type DNSConfig struct {
	Servers  []string
	Searches []string
	Options  []string
}

// PortMapping maps a container port to a port of the node.
type PortMapping struct {
	// Protocol is TCP (default), UDP or SCTP.
	Protocol      string
	ContainerPort int32
	// HostPort 0 means the port is not published on the node.
	HostPort int32
	// HostIP is the node address to bind ("": all).
	HostIP string
}

// SandboxState is Ready or NotReady.
type SandboxState string

// Sandbox states.
const (
	SandboxReady    SandboxState = "ready"
	SandboxNotReady SandboxState = "notready"
)

// PodSandbox is a sandbox as the runtime reports it.
type PodSandbox struct {
	ID        string
	Name      string
	Namespace string
	UID       string
	Attempt   uint32
	State     SandboxState
	// IP is the pod IP ("" once stopped).
	IP        string
	CreatedAt time.Time
	// Labels include the kl.pod.* labels.
	Labels map[string]string
}

// SandboxFilter selects sandboxes; empty fields match everything.
type SandboxFilter struct {
	ID     string
	PodUID string
	State  SandboxState
	// Labels must all be present with these values.
	Labels map[string]string
}

// Matches reports whether s passes the filter.
func (f SandboxFilter) Matches(s *PodSandbox) bool {
	return (f.ID == "" || f.ID == s.ID) &&
		(f.PodUID == "" || f.PodUID == s.UID) &&
		(f.State == "" || f.State == s.State) &&
		labelsMatch(f.Labels, s.Labels)
}

// ContainerConfig describes a container to create.
type ContainerConfig struct {
	// Name is the container's name in the pod (kl.container.name).
	Name string
	// Attempt is the restart count (kl.container.attempt).
	Attempt uint32
	// Image is the image as the pod spec names it.
	Image string
	// Command replaces the image's entrypoint and Args its arguments
	// ($(VAR) references already expanded).
	Command    []string
	Args       []string
	WorkingDir string
	// Env is the resolved environment, in order.
	Env    []KeyValue
	Mounts []Mount
	Ports  []PortMapping
	// Resources are the container's limits as the runtime applies them.
	Resources       Resources
	SecurityContext *SecurityContext
	// Labels are extra labels; the runtime adds kl.pod.* from the
	// sandbox and kl.container.* from Name and Attempt.
	Labels map[string]string
	Stdin  bool
	TTY    bool
}

// KeyValue is one environment variable.
type KeyValue struct {
	Key   string
	Value string
}

// Mount mounts a node path into a container.
type Mount struct {
	HostPath      string
	ContainerPath string
	ReadOnly      bool
}

// Resources are the resource settings of a container.
type Resources struct {
	// CPURequestMilli weighs CPU shares (0: runtime default).
	CPURequestMilli int64
	// CPULimitMilli caps CPU time (0: unlimited).
	CPULimitMilli int64
	// MemoryLimitBytes caps memory; exceeding it kills the container with
	// reason OOMKilled (0: unlimited).
	MemoryLimitBytes int64
}

// SecurityContext holds the security settings a runtime applies.
type SecurityContext struct {
	RunAsUser              *int64
	RunAsGroup             *int64
	SupplementalGroups     []int64
	Privileged             bool
	ReadOnlyRootFilesystem bool
	CapAdd                 []string
	CapDrop                []string
}

// ContainerState is the lifecycle state of a container.
type ContainerState string

// Container states.
const (
	ContainerCreated ContainerState = "created"
	ContainerRunning ContainerState = "running"
	ContainerExited  ContainerState = "exited"
	ContainerUnknown ContainerState = "unknown"
)

// Container is a container as the runtime reports it.
type Container struct {
	ID        string
	SandboxID string
	// Name and Attempt come from the container's labels.
	Name    string
	Attempt uint32
	// PodName, PodNamespace and PodUID come from the kl.pod.* labels.
	PodName      string
	PodNamespace string
	PodUID       string
	// Image is the image the container was created from, as requested;
	// ImageRef is its resolved ID (containerStatuses[].imageID).
	Image    string
	ImageRef string
	State    ContainerState
	// CreatedAt, StartedAt and FinishedAt are zero until they happen.
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	// ExitCode, Reason and Message describe an exited container. Reason
	// is "Completed" (exit 0), "Error", "OOMKilled" or "ContainerCannotRun".
	ExitCode int32
	Reason   string
	Message  string
	Labels   map[string]string
}

// ContainerFilter selects containers; empty fields match everything.
type ContainerFilter struct {
	ID        string
	SandboxID string
	PodUID    string
	State     ContainerState
	// Labels must all be present with these values.
	Labels map[string]string
}

// Matches reports whether c passes the filter.
func (f ContainerFilter) Matches(c *Container) bool {
	return (f.ID == "" || f.ID == c.ID) &&
		(f.SandboxID == "" || f.SandboxID == c.SandboxID) &&
		(f.PodUID == "" || f.PodUID == c.PodUID) &&
		(f.State == "" || f.State == c.State) &&
		labelsMatch(f.Labels, c.Labels)
}

func labelsMatch(want, have map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// Image is an image present on the node.
type Image struct {
	// ID is the image ref PullImage returns.
	ID          string
	RepoTags    []string
	RepoDigests []string
	Size        int64
}

// AuthConfig holds registry credentials for a pull.
type AuthConfig struct {
	Username      string
	Password      string
	ServerAddress string
	IdentityToken string
	RegistryToken string
}

// LogOptions select what ContainerLogs returns.
type LogOptions struct {
	// Follow keeps the stream open for new output.
	Follow bool
	// TailLines, when not nil, returns only the last N lines.
	TailLines *int64
	// Timestamps prefixes each line with its RFC 3339 nanosecond time and
	// a space, as Kubernetes does.
	Timestamps bool
	// Since, when not zero, returns only lines written after it.
	Since time.Time
	// LimitBytes, when positive, ends the stream after that many bytes.
	LimitBytes int64
}

// ExecOptions are the streams and command of an interactive exec.
type ExecOptions struct {
	Cmd    []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	TTY    bool
}

// EventType is the kind of a runtime event.
type EventType string

// Event types.
const (
	ContainerCreatedEvent EventType = "ContainerCreated"
	ContainerStartedEvent EventType = "ContainerStarted"
	ContainerExitedEvent  EventType = "ContainerExited"
	ContainerRemovedEvent EventType = "ContainerRemoved"
	SandboxStoppedEvent   EventType = "SandboxStopped"
)

// Event is a lifecycle change of a container or sandbox.
type Event struct {
	Type EventType
	// ContainerID is empty for sandbox events.
	ContainerID string
	SandboxID   string
	// PodUID is the kl.pod.uid label of the object.
	PodUID string
	Time   time.Time
}

// PodLabels returns the kl.pod.* labels of a sandbox config merged over
// extra (runtimes use it so every implementation labels alike).
func PodLabels(cfg *PodSandboxConfig) map[string]string {
	out := make(map[string]string, len(cfg.Labels)+3)
	for k, v := range cfg.Labels {
		out[k] = v
	}
	out[LabelPodNamespace] = cfg.Namespace
	out[LabelPodName] = cfg.Name
	out[LabelPodUID] = cfg.UID
	return out
}

// ContainerLabels returns the labels of a container created from cfg in
// a sandbox with sandboxLabels: cfg's labels, the sandbox's kl.pod.*
// labels and kl.container.*.
func ContainerLabels(sandboxLabels map[string]string, cfg *ContainerConfig) map[string]string {
	out := make(map[string]string, len(cfg.Labels)+5)
	for k, v := range cfg.Labels {
		out[k] = v
	}
	for _, k := range []string{LabelPodNamespace, LabelPodName, LabelPodUID} {
		out[k] = sandboxLabels[k]
	}
	out[LabelContainerName] = cfg.Name
	out[LabelContainerAttempt] = strconv.FormatUint(uint64(cfg.Attempt), 10)
	return out
}

// AttemptOf parses the kl.container.attempt label (0 when absent or bad).
func AttemptOf(labels map[string]string) uint32 {
	n, err := strconv.ParseUint(labels[LabelContainerAttempt], 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}
