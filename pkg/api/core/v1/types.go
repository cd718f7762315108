package v1

import (
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
)

// ResourceName names a resource ("cpu", "memory", ...). It is the type of
// the resource package, so values flow between the two without conversion.
type ResourceName = resource.ResourceName

// ResourceList maps resource names to quantities.
type ResourceList = resource.ResourceList

// Resource names kl schedules and accounts for.
const (
	ResourceCPU              = resource.ResourceCPU
	ResourceMemory           = resource.ResourceMemory
	ResourceEphemeralStorage = resource.ResourceEphemeralStorage
	ResourcePods             = resource.ResourcePods
	ResourceStorage          = resource.ResourceStorage
)

// ---------------------------------------------------------------------------
// References

// ObjectReference points at another object, by kind, namespace, name and
// optionally uid: the object an Event is about, the target of a Binding, the
// pod behind an endpoint address, a service account's secrets.
type ObjectReference struct {
	// Kind of the referent, for example Pod.
	Kind string `json:"kind,omitempty"`
	// Namespace of the referent; empty for cluster-scoped kinds.
	Namespace string `json:"namespace,omitempty"`
	// Name of the referent.
	Name string `json:"name,omitempty"`
	// UID of the referent.
	UID string `json:"uid,omitempty"`
	// APIVersion of the referent, for example v1 or apps/v1.
	APIVersion string `json:"apiVersion,omitempty"`
	// ResourceVersion of the referent the reference was made from, if
	// any.
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// FieldPath names a part of the referent rather than the whole
	// object, for example spec.containers{web} for one container of a pod
	// (Events use it).
	FieldPath string `json:"fieldPath,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// Name of the referent, in the same namespace.
	Name string `json:"name,omitempty"`
}

// ConditionStatus is the status of a condition: True, False or Unknown.
type ConditionStatus string

// Condition statuses.
const (
	ConditionTrue    ConditionStatus = "True"
	ConditionFalse   ConditionStatus = "False"
	ConditionUnknown ConditionStatus = "Unknown"
)

// Protocol is a network protocol.
type Protocol string

// Protocols.
const (
	ProtocolTCP  Protocol = "TCP"
	ProtocolUDP  Protocol = "UDP"
	ProtocolSCTP Protocol = "SCTP"
)

// ---------------------------------------------------------------------------
// Namespace

// Namespace is a scope for names: namespaced objects live in one, and their
// names must be unique within it. Deleting a namespace deletes everything in
// it.
type Namespace struct {
	meta.TypeMeta `json:",inline"`
	// Metadata is the standard object metadata: name, namespace, labels,
	// annotations, owner references and the fields the server maintains.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Spec holds the namespace's finalizers.
	Spec NamespaceSpec `json:"spec,omitempty"`
	// Status is the observed state of the namespace: its phase and, while
	// it is being deleted, conditions. Read-only.
	Status NamespaceStatus `json:"status,omitempty"`
}

// NamespaceSpec holds the finalizers that must run before the namespace is
// removed.
type NamespaceSpec struct {
	// Finalizers must be empty before the namespace is removed from
	// storage. The namespace controller removes "kubernetes" once
	// everything in the namespace has been deleted.
	Finalizers []FinalizerName `json:"finalizers,omitempty"`
}

// FinalizerName names a namespace finalizer.
type FinalizerName string

// FinalizerKubernetes is the finalizer the namespace controller removes once
// the namespace is empty.
const FinalizerKubernetes FinalizerName = "kubernetes"

// NamespaceStatus is the observed state of a namespace.
type NamespaceStatus struct {
	// Phase is Active, or Terminating once the namespace has been deleted
	// and its content is being removed. Defaults to Active.
	Phase NamespacePhase `json:"phase,omitempty"`
	// Conditions are the latest observations of the namespace's state,
	// reported while it is being deleted (for example
	// NamespaceContentRemaining).
	Conditions []NamespaceCondition `json:"conditions,omitempty"`
}

// NamespacePhase is Active or Terminating.
type NamespacePhase string

// Namespace phases.
const (
	NamespaceActive      NamespacePhase = "Active"
	NamespaceTerminating NamespacePhase = "Terminating"
)

// NamespaceConditionType names a namespace condition.
type NamespaceConditionType string

// Namespace condition types (set while a namespace is being deleted).
const (
	NamespaceDeletionDiscoveryFailure NamespaceConditionType = "NamespaceDeletionDiscoveryFailure"
	NamespaceDeletionContentFailure   NamespaceConditionType = "NamespaceDeletionContentFailure"
	NamespaceDeletionGVParsingFailure NamespaceConditionType = "NamespaceDeletionGroupVersionParsingFailure"
	NamespaceContentRemaining         NamespaceConditionType = "NamespaceContentRemaining"
	NamespaceFinalizersRemaining      NamespaceConditionType = "NamespaceFinalizersRemaining"
)

// NamespaceCondition is one observation about a namespace, set while it is
// being deleted.
type NamespaceCondition struct {
	// Type of the condition, for example NamespaceContentRemaining or
	// NamespaceFinalizersRemaining.
	Type NamespaceConditionType `json:"type"`
	// Status of the condition: True, False or Unknown.
	Status ConditionStatus `json:"status"`
	// LastTransitionTime is the last time the condition changed from one
	// status to another.
	LastTransitionTime meta.Time `json:"lastTransitionTime,omitempty"`
	// Reason is a one-word CamelCase reason for the condition's last
	// transition.
	Reason string `json:"reason,omitempty"`
	// Message is a human-readable explanation of the last transition.
	Message string `json:"message,omitempty"`
}

// NamespaceList is a list of namespaces.
type NamespaceList struct {
	meta.TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata: the resourceVersion the
	// list was read at and, for a paginated list, the continue token.
	meta.ListMeta `json:"metadata,omitempty"`
	// Items are the namespaces.
	Items []Namespace `json:"items"`
}

// ---------------------------------------------------------------------------
// Pod

// Pod is a group of containers that share a network namespace (one IP) and
// volumes, scheduled together onto one node, where the kubelet runs them
// through the container runtime.
type Pod struct {
	meta.TypeMeta `json:",inline"`
	// Metadata is the standard object metadata: name, namespace, labels,
	// annotations, owner references and the fields the server maintains.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the pod.
	Spec PodSpec `json:"spec,omitempty"`
	// Status is the most recently observed state of the pod, written by
	// the scheduler and the kubelet. Read-only.
	Status PodStatus `json:"status,omitempty"`
}

// PodList is a list of pods.
type PodList struct {
	meta.TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata: the resourceVersion the
	// list was read at and, for a paginated list, the continue token.
	meta.ListMeta `json:"metadata,omitempty"`
	// Items are the pods.
	Items []Pod `json:"items"`
}

// PodTemplateSpec describes the pods a workload controller (a ReplicaSet, and
// through it a Deployment) creates.
type PodTemplateSpec struct {
	// Metadata of the pods created from the template: their labels, which
	// must match the controller's selector, and annotations.
	meta.ObjectMeta `json:"metadata,omitempty"`
	// Spec is the desired state of the pods created from the template.
	Spec PodSpec `json:"spec,omitempty"`
}

// PodSpec is the desired state of a pod: its containers, volumes, and how and
// where it runs.
type PodSpec struct {
	// Volumes are the volumes the pod's containers can mount, each with a
	// name unique in the pod and one source. kl supports the sources
	// emptyDir, configMap, secret and hostPath; a volume with another
	// source (persistentVolumeClaim, projected, ...) is rejected.
	Volumes []Volume `json:"volumes,omitempty"`
	// InitContainers run one after another, each to successful
	// completion, before the app containers start. A failed init
	// container is restarted as restartPolicy says (Never fails the pod).
	InitContainers []Container `json:"initContainers,omitempty"`
	// Containers are the pod's app containers, started together once the
	// init containers have completed. There must be at least one;
	// containers cannot be added or removed after the pod is created.
	Containers []Container `json:"containers"`
	// RestartPolicy says when the kubelet restarts the pod's containers
	// after they exit: Always, OnFailure or Never. Defaults to Always,
	// the only value a Deployment or ReplicaSet template allows.
	RestartPolicy RestartPolicy `json:"restartPolicy,omitempty"`
	// TerminationGracePeriodSeconds is how long the containers have to
	// stop after being sent SIGTERM, when the pod is deleted, before they
	// are killed with SIGKILL. 0 kills them at once. Defaults to 30.
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
	// ActiveDeadlineSeconds is how long the pod may be active on its
	// node, counted from its start time, before the system fails it; a
	// positive integer. Not allowed in Deployment and ReplicaSet
	// templates. kl validates it but does not enforce the deadline.
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`
	// DNSPolicy says how the pod's DNS is configured: ClusterFirst,
	// ClusterFirstWithHostNet, Default or None. Defaults to ClusterFirst.
	// kl runs no cluster DNS server, so Service names do not resolve in
	// pods whatever the policy.
	DNSPolicy DNSPolicy `json:"dnsPolicy,omitempty"`
	// NodeSelector is a map of labels a node must have (all of them) for
	// the pod to be scheduled onto it.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// ServiceAccountName is the name of the ServiceAccount the pod runs
	// as.
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// serviceAccount is a deprecated alias of serviceAccountName; use
	// serviceAccountName. The server keeps the two equal.
	DeprecatedServiceAccount string `json:"serviceAccount,omitempty"`
	// AutomountServiceAccountToken says whether a token of the pod's
	// service account should be mounted into its containers. kl does not
	// mount service account tokens.
	AutomountServiceAccountToken *bool `json:"automountServiceAccountToken,omitempty"`
	// NodeName is the node the pod runs on. The scheduler sets it by
	// binding the pod; a pod created with nodeName set bypasses the
	// scheduler and goes straight to that node's kubelet.
	NodeName string `json:"nodeName,omitempty"`
	// HostNetwork runs the pod in the node's network namespace: the
	// containers use the node's IP and ports, and each container port's
	// hostPort defaults to its containerPort. Defaults to false.
	HostNetwork bool `json:"hostNetwork,omitempty"`
	// SecurityContext holds pod-level security settings (user, group,
	// supplemental groups) that apply to every container unless its own
	// securityContext overrides them. Defaults to empty.
	SecurityContext *PodSecurityContext `json:"securityContext,omitempty"`
	// ImagePullSecrets names Secrets in the pod's namespace that hold
	// registry credentials for pulling the containers' images.
	ImagePullSecrets []LocalObjectReference `json:"imagePullSecrets,omitempty"`
	// Hostname is the pod's hostname, as its containers see it. Defaults
	// to the pod's name.
	Hostname string `json:"hostname,omitempty"`
	// Subdomain, with hostname, gives the pod the DNS name
	// <hostname>.<subdomain>.<namespace>.svc.<cluster domain> in
	// Kubernetes. kl runs no cluster DNS: the Endpoints of the Service
	// named subdomain carry the pod's hostname, nothing more.
	Subdomain string `json:"subdomain,omitempty"`
	// SchedulerName is the scheduler that places the pod; a scheduler
	// only binds pods that name it. Defaults to default-scheduler.
	SchedulerName string `json:"schedulerName,omitempty"`
	// Tolerations let the pod be scheduled onto nodes, and keep running
	// on nodes, whose taints they match.
	Tolerations []Toleration `json:"tolerations,omitempty"`
	// PriorityClassName names the pod's PriorityClass. kl serves no
	// PriorityClass kind and does not resolve it into priority.
	PriorityClassName string `json:"priorityClassName,omitempty"`
	// Priority is the pod's scheduling priority: the scheduler tries pods
	// of higher priority first. Kubernetes fills it from
	// priorityClassName; in kl it is used as given (default 0).
	Priority *int32 `json:"priority,omitempty"`
	// PreemptionPolicy says whether the pod may preempt pods of lower
	// priority to make room: PreemptLowerPriority (the default) or Never.
	// kl's scheduler does not preempt pods.
	PreemptionPolicy *PreemptionPolicy `json:"preemptionPolicy,omitempty"`
	// EnableServiceLinks says whether the services of the pod's namespace
	// are made known to its containers as environment variables, as
	// Docker links do (NAME_SERVICE_HOST, NAME_SERVICE_PORT, ...).
	// Defaults to true. kl does not inject these variables.
	EnableServiceLinks *bool `json:"enableServiceLinks,omitempty"`
}

// RestartPolicy says when the kubelet restarts a pod's containers.
type RestartPolicy string

// Restart policies.
const (
	RestartPolicyAlways    RestartPolicy = "Always"
	RestartPolicyOnFailure RestartPolicy = "OnFailure"
	RestartPolicyNever     RestartPolicy = "Never"
)

// DNSPolicy says how a pod's DNS is configured.
type DNSPolicy string

// DNS policies.
const (
	DNSClusterFirstWithHostNet DNSPolicy = "ClusterFirstWithHostNet"
	DNSClusterFirst            DNSPolicy = "ClusterFirst"
	DNSDefault                 DNSPolicy = "Default"
	DNSNone                    DNSPolicy = "None"
)

// PreemptionPolicy says whether a pod may preempt lower-priority pods.
type PreemptionPolicy string

// Preemption policies.
const (
	PreemptLowerPriority PreemptionPolicy = "PreemptLowerPriority"
	PreemptNever         PreemptionPolicy = "Never"
)

// Defaults Kubernetes applies.
const (
	// DefaultSchedulerName is the scheduler pods get when they name none.
	DefaultSchedulerName = "default-scheduler"
	// DefaultTerminationGracePeriodSeconds is the default grace period.
	DefaultTerminationGracePeriodSeconds = 30
	// DefaultEnableServiceLinks is the default of PodSpec.EnableServiceLinks.
	DefaultEnableServiceLinks = true
	// TerminationMessagePathDefault is the default TerminationMessagePath.
	TerminationMessagePathDefault = "/dev/termination-log"
)

// PodSecurityContext holds security settings for every container of a pod. A
// container's securityContext overrides the settings it also sets.
type PodSecurityContext struct {
	// RunAsUser is the UID the containers' processes run as. Defaults to
	// the user the image specifies.
	RunAsUser *int64 `json:"runAsUser,omitempty"`
	// RunAsGroup is the primary GID the containers' processes run as.
	// Defaults to the runtime's default.
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`
	// RunAsNonRoot, if true, requires the containers to run as a user
	// other than root (UID 0); a container that would run as root fails
	// to start. kl does not enforce it.
	RunAsNonRoot *bool `json:"runAsNonRoot,omitempty"`
	// SupplementalGroups are GIDs added to each container's first
	// process, in addition to its primary GID.
	SupplementalGroups []int64 `json:"supplementalGroups,omitempty"`
	// FSGroup is a supplemental group applied to every container; volumes
	// that support ownership management are made owned and writable by
	// it. kl does not apply it.
	FSGroup *int64 `json:"fsGroup,omitempty"`
}

// Toleration lets a pod be scheduled onto, or keep running on, a node with a
// matching taint. A toleration matches a taint when key and effect match and,
// with operator Equal, the value too.
type Toleration struct {
	// Key is the taint key the toleration applies to. Empty means every
	// key, which requires operator Exists.
	Key string `json:"key,omitempty"`
	// Operator is the key's relationship to the value: Exists (any value;
	// the toleration's value must be empty) or Equal. Defaults to Equal.
	Operator TolerationOperator `json:"operator,omitempty"`
	// Value is the taint value the toleration matches with operator
	// Equal; empty with Exists.
	Value string `json:"value,omitempty"`
	// Effect is the taint effect to match: NoSchedule, PreferNoSchedule
	// or NoExecute. Empty matches every effect.
	Effect TaintEffect `json:"effect,omitempty"`
	// TolerationSeconds is how long a pod tolerating a NoExecute taint
	// stays bound to the node after the taint is added; it is evicted
	// afterwards. Unset means forever, 0 and negative values mean evict
	// at once. Only for effect NoExecute.
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty"`
}

// TolerationOperator is Exists or Equal (the default).
type TolerationOperator string

// Toleration operators.
const (
	TolerationOpExists TolerationOperator = "Exists"
	TolerationOpEqual  TolerationOperator = "Equal"
)

// Container is one container of a pod: an image, the process to run in it,
// and its ports, environment, resources, volume mounts and probes.
type Container struct {
	// Name of the container, a DNS label unique within the pod. Cannot be
	// updated.
	Name string `json:"name"`
	// Image is the container image reference, for example nginx:1.27 or
	// registry.example.com/app@sha256:<digest>.
	Image string `json:"image,omitempty"`
	// Command is the entrypoint array, run without a shell. Defaults to
	// the image's ENTRYPOINT. $(VAR) references are expanded from the
	// container's environment; $$ escapes a $. Cannot be updated.
	Command []string `json:"command,omitempty"`
	// Args are the arguments to the entrypoint. Defaults to the image's
	// CMD. $(VAR) references are expanded from the container's
	// environment; $$ escapes a $. Cannot be updated.
	Args []string `json:"args,omitempty"`
	// WorkingDir is the container's working directory. Defaults to the
	// image's. Cannot be updated.
	WorkingDir string `json:"workingDir,omitempty"`
	// Ports lists the ports the container exposes. Listing a port is
	// mostly informational: a process listening on 0.0.0.0 is reachable
	// on the pod's IP whether its port is listed or not. Cannot be
	// updated.
	Ports []ContainerPort `json:"ports,omitempty"`
	// EnvFrom imports every key of ConfigMaps or Secrets as environment
	// variables. When a key appears in several sources the last one wins;
	// variables in env take precedence. Cannot be updated.
	EnvFrom []EnvFromSource `json:"envFrom,omitempty"`
	// Env lists environment variables to set in the container. Cannot be
	// updated.
	Env []EnvVar `json:"env,omitempty"`
	// Resources are the compute resources the container requests (used by
	// the scheduler) and is limited to (enforced by the runtime).
	Resources ResourceRequirements `json:"resources,omitempty"`
	// VolumeMounts mount the pod's volumes into the container's
	// filesystem. Cannot be updated.
	VolumeMounts []VolumeMount `json:"volumeMounts,omitempty"`
	// LivenessProbe periodically checks that the container is alive; the
	// container is restarted when the probe fails. Cannot be updated.
	LivenessProbe *Probe `json:"livenessProbe,omitempty"`
	// ReadinessProbe periodically checks that the container is ready for
	// traffic; an unready container makes the pod unready and removes it
	// from Services' endpoints. Cannot be updated.
	ReadinessProbe *Probe `json:"readinessProbe,omitempty"`
	// StartupProbe checks that the container has started; until it
	// succeeds, the other probes are not run, and if it fails the
	// container is restarted. Cannot be updated.
	StartupProbe *Probe `json:"startupProbe,omitempty"`
	// TerminationMessagePath is the file in the container whose content
	// becomes the termination message (at most 4096 bytes). Defaults to
	// /dev/termination-log. Cannot be updated.
	TerminationMessagePath string `json:"terminationMessagePath,omitempty"`
	// TerminationMessagePolicy says where the termination message comes
	// from: File (terminationMessagePath only) or FallbackToLogsOnError
	// (the end of the log when the file is empty and the container
	// failed). Defaults to File. Cannot be updated.
	TerminationMessagePolicy TerminationMessagePolicy `json:"terminationMessagePolicy,omitempty"`
	// ImagePullPolicy says when the kubelet pulls the image: Always,
	// Never (the image must be present) or IfNotPresent. Defaults to
	// Always when the image has the tag :latest or no tag, IfNotPresent
	// otherwise, as in Kubernetes; with Always every start pulls, which
	// fails for a locally built image when no registry serves it. Cannot
	// be updated.
	ImagePullPolicy PullPolicy `json:"imagePullPolicy,omitempty"`
	// SecurityContext holds the container's security settings; those it
	// sets override the pod's securityContext.
	SecurityContext *SecurityContext `json:"securityContext,omitempty"`
	// Stdin, if true, keeps a buffer for the container's stdin, so that
	// it can be attached to; otherwise reads from stdin get EOF. Defaults
	// to false.
	Stdin bool `json:"stdin,omitempty"`
	// StdinOnce, if true with stdin, closes the stdin channel after the
	// first attach session ends. Defaults to false.
	StdinOnce bool `json:"stdinOnce,omitempty"`
	// TTY, if true with stdin, allocates a terminal for the container.
	// Defaults to false.
	TTY bool `json:"tty,omitempty"`
}

// PullPolicy says when the kubelet pulls a container image.
type PullPolicy string

// Pull policies.
const (
	PullAlways       PullPolicy = "Always"
	PullNever        PullPolicy = "Never"
	PullIfNotPresent PullPolicy = "IfNotPresent"
)

// TerminationMessagePolicy says where a container's termination message
// comes from.
type TerminationMessagePolicy string

// Termination message policies.
const (
	TerminationMessageReadFile              TerminationMessagePolicy = "File"
	TerminationMessageFallbackToLogsOnError TerminationMessagePolicy = "FallbackToLogsOnError"
)

// ContainerPort is a network port of a container.
type ContainerPort struct {
	// Name of the port, an IANA service name (at most 15 lower-case
	// letters, digits and '-') unique within the pod. Services can refer
	// to the port by this name in targetPort.
	Name string `json:"name,omitempty"`
	// HostPort is the port on the node that forwards to this container
	// port; most pods do not need one. With hostNetwork it must equal
	// containerPort, to which it defaults. A node runs at most one pod
	// using a given hostIP, hostPort and protocol.
	HostPort int32 `json:"hostPort,omitempty"`
	// ContainerPort is the port number on the pod's IP, 1-65535.
	ContainerPort int32 `json:"containerPort"`
	// Protocol of the port: TCP, UDP or SCTP. Defaults to TCP.
	Protocol Protocol `json:"protocol,omitempty"`
	// HostIP is the node address the hostPort binds to. Defaults to all
	// of them.
	HostIP string `json:"hostIP,omitempty"`
}

// EnvVar is one environment variable of a container.
type EnvVar struct {
	// Name of the environment variable.
	Name string `json:"name"`
	// Value of the variable. $(VAR) references to variables defined
	// earlier (in env or by envFrom) are expanded, $$ is a literal $, and
	// references to undefined variables are left as they are. Defaults to
	// "".
	Value string `json:"value,omitempty"`
	// ValueFrom takes the value from a field of the pod, a resource of a
	// container, or a key of a ConfigMap or Secret. Cannot be used when
	// value is not empty.
	ValueFrom *EnvVarSource `json:"valueFrom,omitempty"`
}

// EnvVarSource is where an environment variable's value comes from.
type EnvVarSource struct {
	// FieldRef selects a field of the pod: metadata.name,
	// metadata.namespace, metadata.uid, metadata.labels['KEY'],
	// metadata.annotations['KEY'], spec.nodeName,
	// spec.serviceAccountName, status.hostIP, status.hostIPs,
	// status.podIP or status.podIPs.
	FieldRef *ObjectFieldSelector `json:"fieldRef,omitempty"`
	// ResourceFieldRef selects a limit or request of a container:
	// limits.cpu, limits.memory, limits.ephemeral-storage, requests.cpu,
	// requests.memory or requests.ephemeral-storage.
	ResourceFieldRef *ResourceFieldSelector `json:"resourceFieldRef,omitempty"`
	// ConfigMapKeyRef selects a key of a ConfigMap in the pod's
	// namespace.
	ConfigMapKeyRef *ConfigMapKeySelector `json:"configMapKeyRef,omitempty"`
	// SecretKeyRef selects a key of a Secret in the pod's namespace.
	SecretKeyRef *SecretKeySelector `json:"secretKeyRef,omitempty"`
}

// ObjectFieldSelector selects a field of the pod (downward API).
type ObjectFieldSelector struct {
	// APIVersion of the schema the fieldPath is written in. Defaults to
	// v1.
	APIVersion string `json:"apiVersion,omitempty"`
	// FieldPath is the path of the field to select, for example
	// metadata.name.
	FieldPath string `json:"fieldPath"`
}

// ResourceFieldSelector selects a container's resource request or limit
// (downward API).
type ResourceFieldSelector struct {
	// ContainerName is the container whose resources are selected.
	// Defaults to the container the variable belongs to.
	ContainerName string `json:"containerName,omitempty"`
	// Resource to select, for example limits.memory.
	Resource string `json:"resource"`
	// Divisor is the unit the value is expressed in, for example 1Mi for
	// memory or 1m for cpu; the value is rounded up to a whole number of
	// units. Defaults to 1.
	Divisor resource.Quantity `json:"divisor,omitempty"`
}

// ConfigMapKeySelector selects one key of a ConfigMap.
type ConfigMapKeySelector struct {
	LocalObjectReference `json:",inline"`
	// Key to select.
	Key string `json:"key"`
	// Optional, if true, lets the container start when the ConfigMap or
	// the key does not exist; the variable is then not set. Defaults to
	// false.
	Optional *bool `json:"optional,omitempty"`
}

// SecretKeySelector selects one key of a Secret.
type SecretKeySelector struct {
	LocalObjectReference `json:",inline"`
	// Key of the secret to select.
	Key string `json:"key"`
	// Optional, if true, lets the container start when the Secret or the
	// key does not exist; the variable is then not set. Defaults to
	// false.
	Optional *bool `json:"optional,omitempty"`
}

// EnvFromSource imports every key of a ConfigMap or Secret as environment
// variables.
type EnvFromSource struct {
	// Prefix is prepended to every key to form the variable names; it
	// must be a C identifier.
	Prefix string `json:"prefix,omitempty"`
	// ConfigMapRef is the ConfigMap whose keys become variables.
	ConfigMapRef *ConfigMapEnvSource `json:"configMapRef,omitempty"`
	// SecretRef is the Secret whose keys become variables.
	SecretRef *SecretEnvSource `json:"secretRef,omitempty"`
}

// ConfigMapEnvSource names the ConfigMap of an EnvFromSource.
type ConfigMapEnvSource struct {
	LocalObjectReference `json:",inline"`
	// Optional, if true, lets the container start when the ConfigMap does
	// not exist. Defaults to false.
	Optional *bool `json:"optional,omitempty"`
}

// SecretEnvSource names the Secret of an EnvFromSource.
type SecretEnvSource struct {
	LocalObjectReference `json:",inline"`
	// Optional, if true, lets the container start when the Secret does
	// not exist. Defaults to false.
	Optional *bool `json:"optional,omitempty"`
}

// ResourceRequirements are a container's resource requests and limits.
type ResourceRequirements struct {
	// Limits are the most compute resources the container may use, for
	// example cpu: 500m, memory: 256Mi; the runtime enforces the cpu and
	// memory limits. In a pod, a resource with a limit but no request
	// gets a request equal to the limit.
	Limits ResourceList `json:"limits,omitempty"`
	// Requests are the compute resources the container needs: the
	// scheduler places the pod only on a node whose allocatable resources
	// cover the requests of all its pods. Requests may not exceed limits.
	Requests ResourceList `json:"requests,omitempty"`
}

// VolumeMount mounts a pod volume into a container.
type VolumeMount struct {
	// Name of the pod volume to mount.
	Name string `json:"name"`
	// ReadOnly mounts the volume read-only. Defaults to false.
	ReadOnly bool `json:"readOnly,omitempty"`
	// MountPath is the absolute path in the container at which the volume
	// is mounted; it must not contain ':'.
	MountPath string `json:"mountPath"`
	// SubPath is a path within the volume to mount instead of its root.
	// Defaults to "" (the root).
	SubPath string `json:"subPath,omitempty"`
}

// Probe is a periodic check of a container's health: after
// initialDelaySeconds it runs every periodSeconds, and failureThreshold
// failures in a row (or successThreshold successes) decide the verdict.
type Probe struct {
	ProbeHandler `json:",inline"`
	// InitialDelaySeconds is the number of seconds after the container
	// has started before the probe first runs. Defaults to 0.
	InitialDelaySeconds int32 `json:"initialDelaySeconds,omitempty"`
	// TimeoutSeconds is how long one check may take before it counts as
	// failed. Defaults to 1; minimum 1.
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty"`
	// PeriodSeconds is how often, in seconds, the probe runs. Defaults to
	// 10; minimum 1.
	PeriodSeconds int32 `json:"periodSeconds,omitempty"`
	// SuccessThreshold is the number of successes in a row, after a
	// failure, for the probe to succeed. Defaults to 1; must be 1 for
	// liveness and startup probes.
	SuccessThreshold int32 `json:"successThreshold,omitempty"`
	// FailureThreshold is the number of failures in a row for the probe
	// to fail. Defaults to 3; minimum 1.
	FailureThreshold int32 `json:"failureThreshold,omitempty"`
	// TerminationGracePeriodSeconds, on a liveness or startup probe,
	// replaces the pod's terminationGracePeriodSeconds when the container
	// is killed because the probe failed.
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
}

// ProbeHandler is the check a probe runs; exactly one of exec, httpGet and
// tcpSocket is set.
type ProbeHandler struct {
	// Exec runs a command in the container.
	Exec *ExecAction `json:"exec,omitempty"`
	// HTTPGet sends an HTTP GET request to the container.
	HTTPGet *HTTPGetAction `json:"httpGet,omitempty"`
	// TCPSocket opens a TCP connection to the container.
	TCPSocket *TCPSocketAction `json:"tcpSocket,omitempty"`
}

// ExecAction runs a command in the container; exit 0 is success.
type ExecAction struct {
	// Command is the command line to run in the container, from its root
	// directory. It is not run in a shell: to use pipes or variables, run
	// the shell explicitly. Exit status 0 is success.
	Command []string `json:"command,omitempty"`
}

// HTTPGetAction performs an HTTP GET; 200-399 is success.
type HTTPGetAction struct {
	// Path to request. Defaults to /.
	Path string `json:"path,omitempty"`
	// Port to connect to: a number (1-65535) or the name of a container
	// port.
	Port intstr.IntOrString `json:"port"`
	// Host to connect to. Defaults to the pod's IP; to set the Host
	// header, use httpHeaders.
	Host string `json:"host,omitempty"`
	// Scheme to connect with: HTTP or HTTPS (the certificate is not
	// verified). Defaults to HTTP.
	Scheme URIScheme `json:"scheme,omitempty"`
	// HTTPHeaders are custom headers to send with the request.
	HTTPHeaders []HTTPHeader `json:"httpHeaders,omitempty"`
}

// URIScheme is HTTP or HTTPS.
type URIScheme string

// URI schemes.
const (
	URISchemeHTTP  URIScheme = "HTTP"
	URISchemeHTTPS URIScheme = "HTTPS"
)

// HTTPHeader is a header sent by an HTTP probe.
type HTTPHeader struct {
	// Name of the header field.
	Name string `json:"name"`
	// Value of the header field.
	Value string `json:"value"`
}

// TCPSocketAction opens a TCP connection; connecting is success.
type TCPSocketAction struct {
	// Port to connect to: a number (1-65535) or the name of a container
	// port.
	Port intstr.IntOrString `json:"port"`
	// Host to connect to. Defaults to the pod's IP.
	Host string `json:"host,omitempty"`
}

// SecurityContext holds a container's security settings.
type SecurityContext struct {
	// Capabilities are POSIX capabilities to add to or drop from the
	// runtime's default set.
	Capabilities *Capabilities `json:"capabilities,omitempty"`
	// Privileged runs the container privileged: its processes are
	// essentially root on the node. Defaults to false.
	Privileged *bool `json:"privileged,omitempty"`
	// RunAsUser is the UID the container's process runs as, overriding
	// the pod's runAsUser. Defaults to the image's user.
	RunAsUser *int64 `json:"runAsUser,omitempty"`
	// RunAsGroup is the primary GID the container's process runs as,
	// overriding the pod's runAsGroup.
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`
	// RunAsNonRoot, if true, requires the container to run as a user
	// other than root (UID 0); it fails to start otherwise. kl does not
	// enforce it.
	RunAsNonRoot *bool `json:"runAsNonRoot,omitempty"`
	// ReadOnlyRootFilesystem mounts the container's root filesystem
	// read-only. Defaults to false.
	ReadOnlyRootFilesystem *bool `json:"readOnlyRootFilesystem,omitempty"`
	// AllowPrivilegeEscalation says whether a process can gain more
	// privileges than its parent (the no_new_privs flag); it is always
	// true for a privileged container. kl does not apply it.
	AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation,omitempty"`
}

// Capability is a POSIX capability name ("NET_ADMIN").
type Capability string

// Capabilities adds and drops POSIX capabilities.
type Capabilities struct {
	// Add lists capabilities to add, for example NET_ADMIN.
	Add []Capability `json:"add,omitempty"`
	// Drop lists capabilities to drop; ALL drops every one.
	Drop []Capability `json:"drop,omitempty"`
}

// Volume is a named volume of a pod, which its containers can mount. Exactly
// one source is set; a volume without one gets an emptyDir. kl supports the
// sources emptyDir, configMap, secret and hostPath and rejects the other
// Kubernetes sources (persistentVolumeClaim, projected, nfs, ...): they are
// recorded on decoding, see UnsupportedSources.
type Volume struct {
	// Name of the volume, a DNS label unique within the pod; volumeMounts
	// refer to it.
	Name         string `json:"name"`
	VolumeSource `json:",inline"`

	// unsupported lists the JSON keys of volume sources (or other fields)
	// kl does not support, in the order they appeared.
	unsupported []string
}

// VolumeSource is where a volume's content comes from; exactly one member is
// set. These four are the Kubernetes volume sources kl supports.
type VolumeSource struct {
	// HostPath mounts a file or directory of the node into the pod. Meant
	// for system agents; most pods should not use it.
	HostPath *HostPathVolumeSource `json:"hostPath,omitempty"`
	// EmptyDir is an empty directory, created when the pod starts on a
	// node and deleted with the pod, that the pod's containers share.
	EmptyDir *EmptyDirVolumeSource `json:"emptyDir,omitempty"`
	// Secret fills the volume with the keys of a Secret, one file per
	// key.
	Secret *SecretVolumeSource `json:"secret,omitempty"`
	// ConfigMap fills the volume with the keys of a ConfigMap, one file
	// per key.
	ConfigMap *ConfigMapVolumeSource `json:"configMap,omitempty"`
}

// HostPathVolumeSource mounts a path of the node.
type HostPathVolumeSource struct {
	// Path of the directory or file on the node; a symlink is followed.
	Path string `json:"path"`
	// Type is what the path must be: "" (no check, the default),
	// DirectoryOrCreate, Directory, FileOrCreate, File, Socket,
	// CharDevice or BlockDevice.
	Type *HostPathType `json:"type,omitempty"`
}

// HostPathType checks what a host path must be.
type HostPathType string

// Host path types.
const (
	HostPathUnset             HostPathType = ""
	HostPathDirectoryOrCreate HostPathType = "DirectoryOrCreate"
	HostPathDirectory         HostPathType = "Directory"
	HostPathFileOrCreate      HostPathType = "FileOrCreate"
	HostPathFile              HostPathType = "File"
	HostPathSocket            HostPathType = "Socket"
	HostPathCharDev           HostPathType = "CharDevice"
	HostPathBlockDev          HostPathType = "BlockDevice"
)

// EmptyDirVolumeSource is a scratch directory that lives as long as the pod.
type EmptyDirVolumeSource struct {
	// Medium is the storage behind the directory: "" (the node's default,
	// its disk) or Memory (a tmpfs). Defaults to "".
	Medium StorageMedium `json:"medium,omitempty"`
	// SizeLimit is the most local storage the directory may use (for
	// Memory, the most memory). Defaults to no limit.
	SizeLimit *resource.Quantity `json:"sizeLimit,omitempty"`
}

// StorageMedium is the backing of an emptyDir.
type StorageMedium string

// Storage media.
const (
	StorageMediumDefault StorageMedium = ""
	StorageMediumMemory  StorageMedium = "Memory"
)

// SecretVolumeSource projects a Secret's keys as files.
type SecretVolumeSource struct {
	// SecretName is the name of the Secret, in the pod's namespace.
	SecretName string `json:"secretName,omitempty"`
	// Items maps keys to file paths: when given, only the listed keys are
	// projected, each at its path. By default every key becomes a file
	// named after it.
	Items []KeyToPath `json:"items,omitempty"`
	// DefaultMode is the permission bits of the files: 0000-0777 in
	// octal, 0-511 in decimal (YAML accepts octal such as 0644, JSON
	// needs decimal). Defaults to 0644.
	DefaultMode *int32 `json:"defaultMode,omitempty"`
	// Optional, if true, lets the pod start when the Secret or a listed
	// key does not exist. Defaults to false.
	Optional *bool `json:"optional,omitempty"`
}

// ConfigMapVolumeSource projects a ConfigMap's keys as files.
type ConfigMapVolumeSource struct {
	LocalObjectReference `json:",inline"`
	// Items maps keys to file paths: when given, only the listed keys are
	// projected, each at its path. By default every key becomes a file
	// named after it.
	Items []KeyToPath `json:"items,omitempty"`
	// DefaultMode is the permission bits of the files: 0000-0777 in
	// octal, 0-511 in decimal (YAML accepts octal such as 0644, JSON
	// needs decimal). Defaults to 0644.
	DefaultMode *int32 `json:"defaultMode,omitempty"`
	// Optional, if true, lets the pod start when the ConfigMap or a
	// listed key does not exist. Defaults to false.
	Optional *bool `json:"optional,omitempty"`
}

// Default file modes of projected keys.
const (
	SecretVolumeSourceDefaultMode    int32 = 0o644
	ConfigMapVolumeSourceDefaultMode int32 = 0o644
)

// KeyToPath maps one key to a file path in a volume.
type KeyToPath struct {
	// Key to project.
	Key string `json:"key"`
	// Path is the relative path of the file the key is written to; it may
	// not be absolute, contain '..' as an element, or start with '..'.
	Path string `json:"path"`
	// Mode is the permission bits of this file (0000-0777 in octal, 0-511
	// in decimal), overriding the volume's defaultMode.
	Mode *int32 `json:"mode,omitempty"`
}

// PodStatus is the observed state of a pod.
type PodStatus struct {
	// Phase is the pod's place in its lifecycle: Pending (accepted, not
	// all containers started yet), Running (bound to a node, at least one
	// container running or restarting), Succeeded (all containers exited
	// successfully and will not restart), Failed (all containers exited,
	// at least one in failure) or Unknown.
	Phase PodPhase `json:"phase,omitempty"`
	// Conditions are the current state of the pod: PodScheduled,
	// PodReadyToStartContainers, Initialized, ContainersReady and Ready.
	Conditions []PodCondition `json:"conditions,omitempty"`
	// Message is a human-readable explanation of why the pod is in its
	// state.
	Message string `json:"message,omitempty"`
	// Reason is a brief CamelCase reason for the pod's state, for example
	// Evicted.
	Reason string `json:"reason,omitempty"`
	// NominatedNodeName is the node a preempting pod expects to run on
	// once its victims are gone. kl's scheduler does not preempt, so it
	// stays empty.
	NominatedNodeName string `json:"nominatedNodeName,omitempty"`
	// HostIP is the primary IP of the node the pod runs on; empty until
	// the pod is running there.
	HostIP string `json:"hostIP,omitempty"`
	// HostIPs are the IPs of the node the pod runs on; the first equals
	// hostIP.
	HostIPs []HostIP `json:"hostIPs,omitempty"`
	// PodIP is the pod's IP, reachable from the other pods; empty until
	// allocated.
	PodIP string `json:"podIP,omitempty"`
	// PodIPs are the pod's IPs, at most one per address family; the first
	// equals podIP.
	PodIPs []PodIP `json:"podIPs,omitempty"`
	// StartTime is when the kubelet accepted the pod, before any image
	// was pulled.
	StartTime *meta.Time `json:"startTime,omitempty"`
	// InitContainerStatuses are the observed states of the init
	// containers, one per init container.
	InitContainerStatuses []ContainerStatus `json:"initContainerStatuses,omitempty"`
	// ContainerStatuses are the observed states of the app containers,
	// one per container.
	ContainerStatuses []ContainerStatus `json:"containerStatuses,omitempty"`
	// QOSClass is the pod's quality-of-service class, from its
	// containers' requests and limits: Guaranteed (every container has
	// equal cpu and memory requests and limits), BestEffort (none has
	// any) or Burstable.
	QOSClass PodQOSClass `json:"qosClass,omitempty"`
}

// PodPhase is the coarse lifecycle state of a pod.
type PodPhase string

// Pod phases.
const (
	PodPending   PodPhase = "Pending"
	PodRunning   PodPhase = "Running"
	PodSucceeded PodPhase = "Succeeded"
	PodFailed    PodPhase = "Failed"
	PodUnknown   PodPhase = "Unknown"
)

// PodConditionType names a pod condition.
type PodConditionType string

// Pod condition types.
const (
	PodScheduled              PodConditionType = "PodScheduled"
	PodReadyToStartContainers PodConditionType = "PodReadyToStartContainers"
	PodInitialized            PodConditionType = "Initialized"
	ContainersReady           PodConditionType = "ContainersReady"
	PodReady                  PodConditionType = "Ready"
	DisruptionTarget          PodConditionType = "DisruptionTarget"
)

// Reasons used in pod conditions and status.
const (
	// PodReasonUnschedulable is the PodScheduled=False reason when no node fits.
	PodReasonUnschedulable = "Unschedulable"
	// PodReasonSchedulerError is the PodScheduled=False reason on internal errors.
	PodReasonSchedulerError = "SchedulerError"
)

// PodCondition is one observation about a pod.
type PodCondition struct {
	// Type of the condition: PodScheduled, PodReadyToStartContainers,
	// Initialized, ContainersReady, Ready or DisruptionTarget.
	Type PodConditionType `json:"type"`
	// Status of the condition: True, False or Unknown.
	Status ConditionStatus `json:"status"`
	// LastProbeTime is the last time the condition was probed.
	LastProbeTime meta.Time `json:"lastProbeTime,omitempty"`
	// LastTransitionTime is the last time the condition changed from one
	// status to another.
	LastTransitionTime meta.Time `json:"lastTransitionTime,omitempty"`
	// Reason is a one-word CamelCase reason for the condition's last
	// transition, for example Unschedulable.
	Reason string `json:"reason,omitempty"`
	// Message is a human-readable explanation of the last transition.
	Message string `json:"message,omitempty"`
}

// HostIP is one IP address of the pod's node.
type HostIP struct {
	// IP is an IP address of the node.
	IP string `json:"ip"`
}

// PodIP is one IP address of the pod.
type PodIP struct {
	// IP is an IP address of the pod.
	IP string `json:"ip"`
}

// PodQOSClass is the quality-of-service class of a pod.
type PodQOSClass string

// QoS classes.
const (
	PodQOSGuaranteed PodQOSClass = "Guaranteed"
	PodQOSBurstable  PodQOSClass = "Burstable"
	PodQOSBestEffort PodQOSClass = "BestEffort"
)

// ContainerStatus is the observed state of one container.
type ContainerStatus struct {
	// Name of the container, as in the pod spec.
	Name string `json:"name"`
	// State is the container's current state.
	State ContainerState `json:"state,omitempty"`
	// lastState is how the container's previous instance ended, kept
	// after a restart; empty if it has not terminated before.
	LastTerminationState ContainerState `json:"lastState,omitempty"`
	// Ready says whether the container passes its readiness probe; a
	// container without one is ready once it runs (and, with a startup
	// probe, has started).
	Ready bool `json:"ready"`
	// RestartCount is the number of times the container has been
	// restarted.
	RestartCount int32 `json:"restartCount"`
	// Image is the image the container runs.
	Image string `json:"image"`
	// ImageID is the ID or digest of the image the container runs.
	ImageID string `json:"imageID"`
	// ContainerID is the container's ID in the runtime, in the form
	// '<runtime>://<id>'.
	ContainerID string `json:"containerID,omitempty"`
	// Started says whether the container has passed its startup probe; a
	// container without one has started once it runs.
	Started *bool `json:"started,omitempty"`
}

// ContainerState is the state of a container: exactly one of waiting, running
// and terminated is set. Defaults to waiting.
type ContainerState struct {
	// Waiting holds details about a container that is not running yet,
	// for example pulling its image or in CrashLoopBackOff.
	Waiting *ContainerStateWaiting `json:"waiting,omitempty"`
	// Running holds details about a running container.
	Running *ContainerStateRunning `json:"running,omitempty"`
	// Terminated holds details about a container that has exited.
	Terminated *ContainerStateTerminated `json:"terminated,omitempty"`
}

// ContainerStateWaiting is a container not yet running.
type ContainerStateWaiting struct {
	// Reason the container is not running yet, for example
	// ContainerCreating, ErrImagePull, ImagePullBackOff or
	// CrashLoopBackOff.
	Reason string `json:"reason,omitempty"`
	// Message about why the container is not running yet.
	Message string `json:"message,omitempty"`
}

// ContainerStateRunning is a running container.
type ContainerStateRunning struct {
	// StartedAt is when the container was last (re)started.
	StartedAt meta.Time `json:"startedAt,omitempty"`
}

// ContainerStateTerminated is a container that has exited.
type ContainerStateTerminated struct {
	// ExitCode is the exit status of the container's process.
	ExitCode int32 `json:"exitCode"`
	// Signal is the number of the signal that ended the container, if one
	// did.
	Signal int32 `json:"signal,omitempty"`
	// Reason is a brief CamelCase reason for the termination, for example
	// Completed, Error or OOMKilled.
	Reason string `json:"reason,omitempty"`
	// Message about the termination, such as the container's termination
	// message.
	Message string `json:"message,omitempty"`
	// StartedAt is when the container's last run started.
	StartedAt meta.Time `json:"startedAt,omitempty"`
	// FinishedAt is when the container's last run ended.
	FinishedAt meta.Time `json:"finishedAt,omitempty"`
	// ContainerID is the container's ID in the runtime, in the form
	// '<runtime>://<id>'.
	ContainerID string `json:"containerID,omitempty"`
}

// Binding binds a pod to a node: the scheduler posts it to the pod's binding
// subresource, which sets the pod's spec.nodeName.
type Binding struct {
	meta.TypeMeta `json:",inline"`
	// Metadata names the pod to bind: its name and namespace.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Target is the node to bind the pod to: kind Node (or empty) and the
	// node's name.
	Target ObjectReference `json:"target"`
}

// PodLogOptions are the query parameters of the pods/log subresource.
type PodLogOptions struct {
	meta.TypeMeta `json:",inline"`
	// Container whose log to return. Defaults to the pod's only
	// container.
	Container string `json:"container,omitempty"`
	// Follow streams the log as it grows. Defaults to false.
	Follow bool `json:"follow,omitempty"`
	// Previous returns the log of the container's previous, terminated
	// instance. Defaults to false.
	Previous bool `json:"previous,omitempty"`
	// SinceSeconds returns only the lines written in the last this many
	// seconds. Only one of sinceSeconds and sinceTime may be set.
	SinceSeconds *int64 `json:"sinceSeconds,omitempty"`
	// SinceTime returns only the lines written at or after this time.
	SinceTime *meta.Time `json:"sinceTime,omitempty"`
	// Timestamps prefixes every line with its RFC 3339 timestamp.
	// Defaults to false.
	Timestamps bool `json:"timestamps,omitempty"`
	// TailLines returns only this many lines from the end of the log.
	TailLines *int64 `json:"tailLines,omitempty"`
	// LimitBytes ends the log after this many bytes.
	LimitBytes *int64 `json:"limitBytes,omitempty"`
}

// PodExecOptions are the query parameters of the pods/exec subresource.
type PodExecOptions struct {
	meta.TypeMeta `json:",inline"`
	// Stdin passes the caller's standard input to the command.
	Stdin bool `json:"stdin,omitempty"`
	// Stdout returns the command's standard output.
	Stdout bool `json:"stdout,omitempty"`
	// Stderr returns the command's standard error.
	Stderr bool `json:"stderr,omitempty"`
	// TTY runs the command in a terminal.
	TTY bool `json:"tty,omitempty"`
	// Container to run the command in. Defaults to the pod's only
	// container.
	Container string `json:"container,omitempty"`
	// Command is the command and its arguments, not run in a shell.
	Command []string `json:"command"`
}

// ---------------------------------------------------------------------------
// Node

// Node is a machine that runs pods: a kubelet registers it, reports its
// capacity and conditions, and runs the pods bound to it. Nodes are
// cluster-scoped.
type Node struct {
	meta.TypeMeta `json:",inline"`
	// Metadata is the standard object metadata: name, namespace, labels,
	// annotations, owner references and the fields the server maintains.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the node.
	Spec NodeSpec `json:"spec,omitempty"`
	// Status is the most recently observed state of the node, reported by
	// its kubelet. Read-only.
	Status NodeStatus `json:"status,omitempty"`
}

// NodeList is a list of nodes.
type NodeList struct {
	meta.TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata: the resourceVersion the
	// list was read at and, for a paginated list, the continue token.
	meta.ListMeta `json:"metadata,omitempty"`
	// Items are the nodes.
	Items []Node `json:"items"`
}

// NodeSpec is the desired state of a node: its pod network range and whether
// new pods may be scheduled onto it.
type NodeSpec struct {
	// PodCIDR is the IP range assigned to the node for its pods; the
	// first of podCIDRs.
	PodCIDR string `json:"podCIDR,omitempty"`
	// PodCIDRs are the IP ranges assigned to the node for its pods, at
	// most one per address family; the first equals podCIDR.
	PodCIDRs []string `json:"podCIDRs,omitempty"`
	// ProviderID is the node's ID in its cloud provider's form:
	// <ProviderName>://<ProviderSpecificNodeID>.
	ProviderID string `json:"providerID,omitempty"`
	// Unschedulable, if true, keeps new pods from being scheduled onto
	// the node (the node is cordoned); pods already there keep running.
	// Defaults to false.
	Unschedulable bool `json:"unschedulable,omitempty"`
	// Taints repel the pods that do not tolerate them.
	Taints []Taint `json:"taints,omitempty"`
}

// Taint, on a node, repels the pods that do not tolerate it.
type Taint struct {
	// Key of the taint, in the form of a label key.
	Key string `json:"key"`
	// Value of the taint, in the form of a label value.
	Value string `json:"value,omitempty"`
	// Effect on the pods that do not tolerate the taint: NoSchedule (no
	// new pods), PreferNoSchedule (avoid placing new pods) or NoExecute
	// (also evict running pods).
	Effect TaintEffect `json:"effect"`
	// TimeAdded is when the taint was added; set for NoExecute taints
	// only.
	TimeAdded *meta.Time `json:"timeAdded,omitempty"`
}

// TaintEffect is what a taint does to pods that do not tolerate it.
type TaintEffect string

// Taint effects.
const (
	TaintEffectNoSchedule       TaintEffect = "NoSchedule"
	TaintEffectPreferNoSchedule TaintEffect = "PreferNoSchedule"
	TaintEffectNoExecute        TaintEffect = "NoExecute"
)

// NodeStatus is the observed state of a node, reported by its kubelet.
type NodeStatus struct {
	// Capacity is the node's total resources: cpu, memory,
	// ephemeral-storage and pods (the most pods it runs). The kubelet
	// reports it from its configuration (--capacity) or the machine.
	Capacity ResourceList `json:"capacity,omitempty"`
	// Allocatable is the part of the capacity available to pods, which
	// the scheduler places pods against. Defaults to capacity.
	Allocatable ResourceList `json:"allocatable,omitempty"`
	// Phase is the node's lifecycle phase: Pending, Running or
	// Terminated. Deprecated in Kubernetes and not set by kl.
	Phase NodePhase `json:"phase,omitempty"`
	// Conditions are the node's current state: Ready, MemoryPressure,
	// DiskPressure, PIDPressure and NetworkUnavailable. Ready turns
	// Unknown when the kubelet stops reporting.
	Conditions []NodeCondition `json:"conditions,omitempty"`
	// Addresses are the node's addresses: InternalIP, ExternalIP,
	// Hostname, InternalDNS and ExternalDNS.
	Addresses []NodeAddress `json:"addresses,omitempty"`
	// DaemonEndpoints are the ports of the daemons on the node, such as
	// the kubelet's.
	DaemonEndpoints NodeDaemonEndpoints `json:"daemonEndpoints,omitempty"`
	// NodeInfo describes the node's operating system and software.
	NodeInfo NodeSystemInfo `json:"nodeInfo,omitempty"`
}

// NodePhase is the (deprecated) lifecycle phase of a node.
type NodePhase string

// Node phases.
const (
	NodePending    NodePhase = "Pending"
	NodeRunning    NodePhase = "Running"
	NodeTerminated NodePhase = "Terminated"
)

// NodeConditionType names a node condition.
type NodeConditionType string

// Node condition types.
const (
	NodeReady              NodeConditionType = "Ready"
	NodeMemoryPressure     NodeConditionType = "MemoryPressure"
	NodeDiskPressure       NodeConditionType = "DiskPressure"
	NodePIDPressure        NodeConditionType = "PIDPressure"
	NodeNetworkUnavailable NodeConditionType = "NetworkUnavailable"
)

// NodeCondition is one observation about a node.
type NodeCondition struct {
	// Type of the condition: Ready, MemoryPressure, DiskPressure,
	// PIDPressure or NetworkUnavailable.
	Type NodeConditionType `json:"type"`
	// Status of the condition: True, False or Unknown.
	Status ConditionStatus `json:"status"`
	// LastHeartbeatTime is the last time the kubelet reported the
	// condition.
	LastHeartbeatTime meta.Time `json:"lastHeartbeatTime,omitempty"`
	// LastTransitionTime is the last time the condition changed from one
	// status to another.
	LastTransitionTime meta.Time `json:"lastTransitionTime,omitempty"`
	// Reason is a one-word CamelCase reason for the condition's last
	// transition, for example KubeletReady.
	Reason string `json:"reason,omitempty"`
	// Message is a human-readable explanation of the last transition.
	Message string `json:"message,omitempty"`
}

// NodeAddressType is the kind of a node address.
type NodeAddressType string

// Node address types.
const (
	NodeHostName    NodeAddressType = "Hostname"
	NodeInternalIP  NodeAddressType = "InternalIP"
	NodeExternalIP  NodeAddressType = "ExternalIP"
	NodeInternalDNS NodeAddressType = "InternalDNS"
	NodeExternalDNS NodeAddressType = "ExternalDNS"
)

// NodeAddress is one address of a node.
type NodeAddress struct {
	// Type of the address: Hostname, InternalIP, ExternalIP, InternalDNS
	// or ExternalDNS.
	Type NodeAddressType `json:"type"`
	// Address is the IP address or DNS name.
	Address string `json:"address"`
}

// NodeDaemonEndpoints are the ports of the daemons on a node.
type NodeDaemonEndpoints struct {
	// KubeletEndpoint is the port the kubelet listens on. kl's kubelet
	// does not set it.
	KubeletEndpoint DaemonEndpoint `json:"kubeletEndpoint,omitempty"`
}

// DaemonEndpoint is one daemon's port. Its JSON key is "Port", capitalised,
// as in Kubernetes.
type DaemonEndpoint struct {
	// Port number of the daemon.
	Port int32 `json:"Port"`
}

// NodeSystemInfo describes a node's operating system and software versions.
type NodeSystemInfo struct {
	// MachineID is the machine's ID (/etc/machine-id).
	MachineID string `json:"machineID"`
	// SystemUUID is the system UUID of the machine.
	SystemUUID string `json:"systemUUID"`
	// BootID changes on every boot of the node.
	BootID string `json:"bootID"`
	// KernelVersion is the kernel release (uname -r).
	KernelVersion string `json:"kernelVersion"`
	// OSImage is the operating system, from /etc/os-release, for example
	// Debian GNU/Linux 12 (bookworm).
	OSImage string `json:"osImage"`
	// ContainerRuntimeVersion is the container runtime and its version,
	// for example docker://27.3.1 (fake:// on simulated nodes).
	ContainerRuntimeVersion string `json:"containerRuntimeVersion"`
	// KubeletVersion is the version of the kubelet, for kl the version of
	// kl.
	KubeletVersion string `json:"kubeletVersion"`
	// KubeProxyVersion is the version of the service proxy. Deprecated in
	// Kubernetes; may be empty.
	KubeProxyVersion string `json:"kubeProxyVersion"`
	// OperatingSystem is the node's operating system, as Go names it
	// (linux).
	OperatingSystem string `json:"operatingSystem"`
	// Architecture is the node's CPU architecture, as Go names it (amd64,
	// arm64).
	Architecture string `json:"architecture"`
}

// ---------------------------------------------------------------------------
// Service

// Service exposes a set of pods, chosen by a label selector, under one
// virtual IP (the clusterIP) and, with type NodePort or LoadBalancer, on a
// port of every node.
type Service struct {
	meta.TypeMeta `json:",inline"`
	// Metadata is the standard object metadata: name, namespace, labels,
	// annotations, owner references and the fields the server maintains.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired state of the service.
	Spec ServiceSpec `json:"spec,omitempty"`
	// Status is the most recently observed state of the service: the load
	// balancer's ingress points. Read-only.
	Status ServiceStatus `json:"status,omitempty"`
}

// ServiceList is a list of services.
type ServiceList struct {
	meta.TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata: the resourceVersion the
	// list was read at and, for a paginated list, the continue token.
	meta.ListMeta `json:"metadata,omitempty"`
	// Items are the services.
	Items []Service `json:"items"`
}

// ServiceSpec is the desired state of a service: its ports, the pods it
// selects, and how it is exposed.
type ServiceSpec struct {
	// Ports are the ports the service exposes; at least one, except for
	// headless and ExternalName services. With several ports, each must
	// have a name.
	Ports []ServicePort `json:"ports,omitempty"`
	// Selector routes traffic to the pods whose labels match all these
	// pairs. Without a selector, the service's Endpoints are not managed
	// and may be written by hand. Ignored for type ExternalName.
	Selector map[string]string `json:"selector,omitempty"`
	// ClusterIP is the service's virtual IP, allocated from the service
	// range (10.96.0.0/16 by default) unless given. "None" makes a
	// headless service, which gets no virtual IP. Cannot be changed once
	// set, except when the type changes to or from ExternalName.
	ClusterIP string `json:"clusterIP,omitempty"`
	// ClusterIPs are the service's virtual IPs, at most one per address
	// family; the first equals clusterIP. kl allocates IPv4 only.
	ClusterIPs []string `json:"clusterIPs,omitempty"`
	// Type is how the service is exposed: ClusterIP (a virtual IP inside
	// the cluster), NodePort (also a port on every node), LoadBalancer or
	// ExternalName (a DNS alias; kl runs no cluster DNS, so it has no
	// effect). Defaults to ClusterIP. kl has no cloud load balancer: a
	// LoadBalancer service is served like a NodePort one, and every Ready
	// node's address is published in status.loadBalancer.ingress, where
	// the service also accepts traffic.
	Type ServiceType `json:"type,omitempty"`
	// ExternalIPs are IPs, not managed by the cluster, on which the nodes
	// also accept traffic for the service.
	ExternalIPs []string `json:"externalIPs,omitempty"`
	// SessionAffinity is ClientIP, to send every connection from one
	// client IP to the same pod, or None. Defaults to None.
	SessionAffinity ServiceAffinity `json:"sessionAffinity,omitempty"`
	// ExternalName is the DNS name an ExternalName service is an alias (a
	// CNAME) for; a lower-case RFC 1123 name. Required for type
	// ExternalName.
	ExternalName string `json:"externalName,omitempty"`
	// ExternalTrafficPolicy says how traffic arriving from outside (on
	// node ports and load balancer addresses) is routed: Cluster (to any
	// ready pod, the default) or Local (only to ready pods on the
	// receiving node). Only for NodePort and LoadBalancer services.
	ExternalTrafficPolicy ServiceExternalTrafficPolicy `json:"externalTrafficPolicy,omitempty"`
	// HealthCheckNodePort is the node port serving the health check of a
	// LoadBalancer service with externalTrafficPolicy Local. Kubernetes
	// allocates one unless given; kl does not.
	HealthCheckNodePort int32 `json:"healthCheckNodePort,omitempty"`
	// PublishNotReadyAddresses, if true, lists every matching pod's
	// address as ready in the Endpoints, whether the pod is ready or not.
	// Defaults to false.
	PublishNotReadyAddresses bool `json:"publishNotReadyAddresses,omitempty"`
	// SessionAffinityConfig configures session affinity.
	SessionAffinityConfig *SessionAffinityConfig `json:"sessionAffinityConfig,omitempty"`
	// IPFamilies are the IP families of the service's clusterIPs: IPv4,
	// IPv6 or both. kl serves IPv4 single-stack only and does not fill it
	// in.
	IPFamilies []IPFamily `json:"ipFamilies,omitempty"`
	// IPFamilyPolicy is SingleStack, PreferDualStack or RequireDualStack.
	// kl serves IPv4 single-stack only and does not fill it in.
	IPFamilyPolicy *IPFamilyPolicy `json:"ipFamilyPolicy,omitempty"`
	// AllocateLoadBalancerNodePorts says whether a LoadBalancer service
	// gets node ports. Defaults to true; kl always allocates them.
	AllocateLoadBalancerNodePorts *bool `json:"allocateLoadBalancerNodePorts,omitempty"`
	// InternalTrafficPolicy says how traffic to the clusterIP from inside
	// the cluster is routed: Cluster (to any ready pod, the default) or
	// Local (only to pods on the sending node).
	InternalTrafficPolicy *ServiceInternalTrafficPolicy `json:"internalTrafficPolicy,omitempty"`
}

// ServiceType is how a service is exposed.
type ServiceType string

// Service types.
const (
	ServiceTypeClusterIP    ServiceType = "ClusterIP"
	ServiceTypeNodePort     ServiceType = "NodePort"
	ServiceTypeLoadBalancer ServiceType = "LoadBalancer"
	ServiceTypeExternalName ServiceType = "ExternalName"
)

// ClusterIPNone is the clusterIP of a headless service.
const ClusterIPNone = "None"

// ServiceAffinity is the session affinity of a service.
type ServiceAffinity string

// Session affinities.
const (
	ServiceAffinityClientIP ServiceAffinity = "ClientIP"
	ServiceAffinityNone     ServiceAffinity = "None"
)

// DefaultClientIPServiceAffinitySeconds is the default ClientIP affinity
// timeout (3 hours).
const DefaultClientIPServiceAffinitySeconds int32 = 10800

// SessionAffinityConfig configures session affinity.
type SessionAffinityConfig struct {
	// ClientIP configures ClientIP affinity.
	ClientIP *ClientIPConfig `json:"clientIP,omitempty"`
}

// ClientIPConfig configures ClientIP affinity.
type ClientIPConfig struct {
	// TimeoutSeconds is how long a client stays sent to the same pod
	// after its last connection, 1-86400 seconds. Defaults to 10800 (3
	// hours).
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty"`
}

// ServiceExternalTrafficPolicy routes external traffic cluster-wide or to
// node-local endpoints only.
type ServiceExternalTrafficPolicy string

// External traffic policies.
const (
	ServiceExternalTrafficPolicyCluster ServiceExternalTrafficPolicy = "Cluster"
	ServiceExternalTrafficPolicyLocal   ServiceExternalTrafficPolicy = "Local"
)

// ServiceInternalTrafficPolicy routes in-cluster traffic cluster-wide or to
// node-local endpoints only.
type ServiceInternalTrafficPolicy string

// Internal traffic policies.
const (
	ServiceInternalTrafficPolicyCluster ServiceInternalTrafficPolicy = "Cluster"
	ServiceInternalTrafficPolicyLocal   ServiceInternalTrafficPolicy = "Local"
)

// IPFamily is IPv4 or IPv6.
type IPFamily string

// IP families.
const (
	IPv4Protocol IPFamily = "IPv4"
	IPv6Protocol IPFamily = "IPv6"
)

// IPFamilyPolicy says how many IP families a service gets.
type IPFamilyPolicy string

// IP family policies.
const (
	IPFamilyPolicySingleStack      IPFamilyPolicy = "SingleStack"
	IPFamilyPolicyPreferDualStack  IPFamilyPolicy = "PreferDualStack"
	IPFamilyPolicyRequireDualStack IPFamilyPolicy = "RequireDualStack"
)

// ServicePort is one port of a service and the pod port it forwards to.
type ServicePort struct {
	// Name of the port, a DNS label unique within the service; it names
	// the port in the Endpoints. Required when the service has several
	// ports.
	Name string `json:"name,omitempty"`
	// Protocol of the port: TCP, UDP or SCTP. Defaults to TCP.
	Protocol Protocol `json:"protocol,omitempty"`
	// AppProtocol is the application protocol of the port, for example
	// http, https or kubernetes.io/h2c; informational, copied to the
	// Endpoints.
	AppProtocol *string `json:"appProtocol,omitempty"`
	// Port is the port the service exposes on its clusterIP, 1-65535.
	Port int32 `json:"port"`
	// TargetPort is the port of the pods that traffic is sent to: a
	// number, or the name of a container port. Defaults to port.
	TargetPort intstr.IntOrString `json:"targetPort,omitempty"`
	// NodePort is the port on every node that forwards to this port, for
	// NodePort and LoadBalancer services: allocated from 30000-32767
	// unless given.
	NodePort int32 `json:"nodePort,omitempty"`
}

// ServiceStatus is the observed state of a service.
type ServiceStatus struct {
	// LoadBalancer holds the load balancer's ingress points, for
	// LoadBalancer services.
	LoadBalancer LoadBalancerStatus `json:"loadBalancer,omitempty"`
}

// LoadBalancerStatus lists a load balancer's ingress points.
type LoadBalancerStatus struct {
	// Ingress lists the points where traffic for the service arrives. In
	// kl, the addresses of the Ready nodes, maintained by the servicelb
	// controller.
	Ingress []LoadBalancerIngress `json:"ingress,omitempty"`
}

// LoadBalancerIngress is one ingress point of a load balancer.
type LoadBalancerIngress struct {
	// IP address of the ingress point.
	IP string `json:"ip,omitempty"`
	// Hostname of the ingress point, for load balancers known by DNS
	// name.
	Hostname string `json:"hostname,omitempty"`
	// IPMode is how traffic reaches the IP: VIP (delivered to the node
	// with the IP as destination) or Proxy (delivered by a proxy, with
	// the load balancer's address). Defaults to VIP when ip is set.
	IPMode *LoadBalancerIPMode `json:"ipMode,omitempty"`
}

// LoadBalancerIPMode says how traffic reaches a load balancer IP.
type LoadBalancerIPMode string

// Load balancer IP modes.
const (
	LoadBalancerIPModeVIP   LoadBalancerIPMode = "VIP"
	LoadBalancerIPModeProxy LoadBalancerIPMode = "Proxy"
)

// ---------------------------------------------------------------------------
// Endpoints

// Endpoints lists the addresses behind a service; it has the service's name.
// The endpoints controller maintains it for every service with a selector,
// from the pods the selector matches.
type Endpoints struct {
	meta.TypeMeta `json:",inline"`
	// Metadata is the standard object metadata: name, namespace, labels,
	// annotations, owner references and the fields the server maintains.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Subsets are the service's addresses, grouped by the ports they
	// expose.
	Subsets []EndpointSubset `json:"subsets,omitempty"`
}

// EndpointsList is a list of endpoints.
type EndpointsList struct {
	meta.TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata: the resourceVersion the
	// list was read at and, for a paginated list, the continue token.
	meta.ListMeta `json:"metadata,omitempty"`
	// Items are the endpoints.
	Items []Endpoints `json:"items"`
}

// EndpointSubset is a set of addresses that expose the same ports: every
// address serves every port.
type EndpointSubset struct {
	// Addresses that are ready to receive traffic on the ports.
	Addresses []EndpointAddress `json:"addresses,omitempty"`
	// NotReadyAddresses are addresses that are not ready (their pods are
	// not Ready), listed so that they can be watched.
	NotReadyAddresses []EndpointAddress `json:"notReadyAddresses,omitempty"`
	// Ports exposed by every address.
	Ports []EndpointPort `json:"ports,omitempty"`
}

// EndpointAddress is one address of an endpoint, usually a pod's IP.
type EndpointAddress struct {
	// IP of the endpoint, a pod IP in most cases.
	IP string `json:"ip"`
	// Hostname of the endpoint: the pod's hostname when its subdomain
	// names the service.
	Hostname string `json:"hostname,omitempty"`
	// NodeName is the node hosting the endpoint.
	NodeName *string `json:"nodeName,omitempty"`
	// TargetRef is the object behind the endpoint, usually its pod.
	TargetRef *ObjectReference `json:"targetRef,omitempty"`
}

// EndpointPort is one port of an endpoint subset.
type EndpointPort struct {
	// Name of the port, the name of the service port it serves; optional
	// when there is a single port.
	Name string `json:"name,omitempty"`
	// Port number, 1-65535.
	Port int32 `json:"port"`
	// Protocol of the port: TCP, UDP or SCTP. Defaults to TCP.
	Protocol Protocol `json:"protocol,omitempty"`
	// AppProtocol is the application protocol of the port, copied from
	// the service port.
	AppProtocol *string `json:"appProtocol,omitempty"`
}

// ---------------------------------------------------------------------------
// ConfigMap and Secret

// ConfigMap holds non-confidential configuration data as key/value pairs,
// which pods consume as environment variables or as files in a volume.
type ConfigMap struct {
	meta.TypeMeta `json:",inline"`
	// Metadata is the standard object metadata: name, namespace, labels,
	// annotations, owner references and the fields the server maintains.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Immutable, if true, forbids changes to data and binaryData; it
	// cannot be unset again, so changing the data needs a new ConfigMap.
	// Defaults to false.
	Immutable *bool `json:"immutable,omitempty"`
	// Data holds UTF-8 configuration data. Keys must consist of
	// alphanumerics, '-', '_' and '.', and may not also be in binaryData.
	Data map[string]string `json:"data,omitempty"`
	// BinaryData holds binary configuration data, base64-encoded in JSON.
	// Keys follow the rules of data and may not also be in data.
	BinaryData map[string][]byte `json:"binaryData,omitempty"`
}

// ConfigMapList is a list of config maps.
type ConfigMapList struct {
	meta.TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata: the resourceVersion the
	// list was read at and, for a paginated list, the continue token.
	meta.ListMeta `json:"metadata,omitempty"`
	// Items are the config maps.
	Items []ConfigMap `json:"items"`
}

// Secret holds a small amount of confidential data, such as a password, token
// or key, which pods consume as environment variables or as files in a
// volume. Values are base64-encoded in data.
type Secret struct {
	meta.TypeMeta `json:",inline"`
	// Metadata is the standard object metadata: name, namespace, labels,
	// annotations, owner references and the fields the server maintains.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Immutable, if true, forbids changes to data; it cannot be unset
	// again, so changing the data needs a new Secret. Defaults to false.
	Immutable *bool `json:"immutable,omitempty"`
	// Data holds the secret data, each value base64-encoded in JSON. Keys
	// must consist of alphanumerics, '-', '_' and '.'.
	Data map[string][]byte `json:"data,omitempty"`
	// StringData is write-only input: plain-text values merged into data
	// on write (stringData wins for keys in both) and then cleared. It is
	// never returned when the secret is read.
	StringData map[string]string `json:"stringData,omitempty"`
	// Type of the secret, which says what keys it must hold: Opaque (any,
	// the default), kubernetes.io/service-account-token,
	// kubernetes.io/dockercfg, kubernetes.io/dockerconfigjson,
	// kubernetes.io/basic-auth, kubernetes.io/ssh-auth, kubernetes.io/tls
	// or bootstrap.kubernetes.io/token. Cannot be updated.
	Type SecretType `json:"type,omitempty"`
}

// SecretList is a list of secrets.
type SecretList struct {
	meta.TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata: the resourceVersion the
	// list was read at and, for a paginated list, the continue token.
	meta.ListMeta `json:"metadata,omitempty"`
	// Items are the secrets.
	Items []Secret `json:"items"`
}

// SecretType says what a secret holds (and which keys it must have).
type SecretType string

// Secret types.
const (
	SecretTypeOpaque              SecretType = "Opaque"
	SecretTypeServiceAccountToken SecretType = "kubernetes.io/service-account-token"
	SecretTypeDockercfg           SecretType = "kubernetes.io/dockercfg"
	SecretTypeDockerConfigJSON    SecretType = "kubernetes.io/dockerconfigjson"
	SecretTypeBasicAuth           SecretType = "kubernetes.io/basic-auth"
	SecretTypeSSHAuth             SecretType = "kubernetes.io/ssh-auth"
	SecretTypeTLS                 SecretType = "kubernetes.io/tls"
	SecretTypeBootstrapToken      SecretType = "bootstrap.kubernetes.io/token"
)

// Well-known secret data keys.
const (
	ServiceAccountTokenKey     = "token"
	ServiceAccountRootCAKey    = "ca.crt"
	ServiceAccountNamespaceKey = "namespace"
	DockerConfigKey            = ".dockercfg"
	DockerConfigJSONKey        = ".dockerconfigjson"
	BasicAuthUsernameKey       = "username"
	BasicAuthPasswordKey       = "password"
	SSHAuthPrivateKey          = "ssh-privatekey"
	TLSCertKey                 = "tls.crt"
	TLSPrivateKeyKey           = "tls.key"
)

// ---------------------------------------------------------------------------
// ServiceAccount

// ServiceAccount is an identity for the processes that run in pods.
type ServiceAccount struct {
	meta.TypeMeta `json:",inline"`
	// Metadata is the standard object metadata: name, namespace, labels,
	// annotations, owner references and the fields the server maintains.
	meta.ObjectMeta `json:"metadata,omitempty"`

	// Secrets lists Secrets in the same namespace that pods running as
	// this service account may use. Kept for compatibility; not used by
	// kl.
	Secrets []ObjectReference `json:"secrets,omitempty"`
	// ImagePullSecrets names Secrets in the same namespace holding
	// registry credentials, which Kubernetes adds to the pods that run as
	// this service account.
	ImagePullSecrets []LocalObjectReference `json:"imagePullSecrets,omitempty"`
	// AutomountServiceAccountToken says whether pods running as this
	// service account get its token mounted; a pod's own setting wins. kl
	// does not mount service account tokens.
	AutomountServiceAccountToken *bool `json:"automountServiceAccountToken,omitempty"`
}

// ServiceAccountList is a list of service accounts.
type ServiceAccountList struct {
	meta.TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata: the resourceVersion the
	// list was read at and, for a paginated list, the continue token.
	meta.ListMeta `json:"metadata,omitempty"`
	// Items are the service accounts.
	Items []ServiceAccount `json:"items"`
}

// DefaultServiceAccountName is the service account every namespace has.
const DefaultServiceAccountName = "default"

// ---------------------------------------------------------------------------
// Event

// Event reports something that happened to an object, for example a pod being
// scheduled or a container failing to start, in the core/v1 shape. Repeats of
// one event are counted on one object.
type Event struct {
	meta.TypeMeta `json:",inline"`
	// Metadata is the standard object metadata: name, namespace, labels,
	// annotations, owner references and the fields the server maintains.
	meta.ObjectMeta `json:"metadata"`

	// InvolvedObject is the object the event is about; for a container,
	// fieldPath names it, for example spec.containers{web}.
	InvolvedObject ObjectReference `json:"involvedObject"`
	// Reason is a short, machine-readable CamelCase description of what
	// happened, for example Scheduled, Pulled or BackOff.
	Reason string `json:"reason,omitempty"`
	// Message is a human-readable description of what happened.
	Message string `json:"message,omitempty"`
	// Source is the component, and the node, that reported the event.
	Source EventSource `json:"source,omitempty"`
	// FirstTimestamp is when the event was first recorded.
	FirstTimestamp meta.Time `json:"firstTimestamp,omitempty"`
	// LastTimestamp is when the event was most recently recorded.
	LastTimestamp meta.Time `json:"lastTimestamp,omitempty"`
	// Count is the number of times the event has occurred.
	Count int32 `json:"count,omitempty"`
	// Type of the event: Normal or Warning.
	Type string `json:"type,omitempty"`
	// EventTime is when the event was first observed, with microsecond
	// precision.
	EventTime meta.MicroTime `json:"eventTime,omitempty"`
	// Series holds data about the series of events this one belongs to,
	// if it is a series.
	Series *EventSeries `json:"series,omitempty"`
	// Action is what was done, or failed, about the involved object, for
	// example Binding.
	Action string `json:"action,omitempty"`
	// Related is a second object involved in the event, if any.
	Related *ObjectReference `json:"related,omitempty"`
	// reportingComponent is the name of the controller that emitted the
	// event, for example kubelet or default-scheduler.
	ReportingController string `json:"reportingComponent"`
	// ReportingInstance is the instance of the controller that emitted
	// the event, for example the kubelet's node name.
	ReportingInstance string `json:"reportingInstance"`
}

// EventList is a list of events.
type EventList struct {
	meta.TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata: the resourceVersion the
	// list was read at and, for a paginated list, the continue token.
	meta.ListMeta `json:"metadata,omitempty"`
	// Items are the events.
	Items []Event `json:"items"`
}

// EventSource is the component, and the node, that reported an event.
type EventSource struct {
	// Component that reported the event, for example kubelet.
	Component string `json:"component,omitempty"`
	// Host is the node name of the reporting component, when it runs on a
	// node.
	Host string `json:"host,omitempty"`
}

// EventSeries describes a series of repeated events.
type EventSeries struct {
	// Count is the number of occurrences in the series up to
	// lastObservedTime.
	Count int32 `json:"count,omitempty"`
	// LastObservedTime is when the last occurrence was observed.
	LastObservedTime meta.MicroTime `json:"lastObservedTime,omitempty"`
}

// Event types.
const (
	EventTypeNormal  = "Normal"
	EventTypeWarning = "Warning"
)
