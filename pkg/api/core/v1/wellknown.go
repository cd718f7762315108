package v1

// Well-known labels.
const (
	// LabelHostname is the node label holding the node's hostname.
	LabelHostname = "kubernetes.io/hostname"
	// LabelOSStable is the node label holding the operating system.
	LabelOSStable = "kubernetes.io/os"
	// LabelArchStable is the node label holding the CPU architecture.
	LabelArchStable = "kubernetes.io/arch"
	// LabelTopologyZone is the node label holding the failure zone.
	LabelTopologyZone = "topology.kubernetes.io/zone"
	// LabelTopologyRegion is the node label holding the region.
	LabelTopologyRegion = "topology.kubernetes.io/region"
	// LabelMetadataName is the label defaulting puts on every namespace,
	// holding its name.
	LabelMetadataName = "kubernetes.io/metadata.name"
	// LabelNodeExcludeBalancers excludes a node from load balancers.
	LabelNodeExcludeBalancers = "node.kubernetes.io/exclude-from-external-load-balancers"
	// LabelServiceName is the EndpointSlice label naming the service.
	LabelServiceName = "kubernetes.io/service-name"
	// LabelServiceProxyName opts a service out of the default proxy.
	LabelServiceProxyName = "service.kubernetes.io/service-proxy-name"
	// LabelServiceHeadless marks endpoints of a headless service.
	LabelServiceHeadless = "service.kubernetes.io/headless"
)

// Well-known taints: the node lifecycle controller and kubelet set these on
// nodes, and pods tolerate the not-ready/unreachable ones for 300 seconds by
// default.
const (
	TaintNodeNotReady           = "node.kubernetes.io/not-ready"
	TaintNodeUnreachable        = "node.kubernetes.io/unreachable"
	TaintNodeUnschedulable      = "node.kubernetes.io/unschedulable"
	TaintNodeMemoryPressure     = "node.kubernetes.io/memory-pressure"
	TaintNodeDiskPressure       = "node.kubernetes.io/disk-pressure"
	TaintNodeNetworkUnavailable = "node.kubernetes.io/network-unavailable"
	TaintNodePIDPressure        = "node.kubernetes.io/pid-pressure"
	TaintNodeOutOfService       = "node.kubernetes.io/out-of-service"
)

// DefaultNotReadyTolerationSeconds is how long pods tolerate the not-ready
// and unreachable taints unless they say otherwise (Kubernetes'
// DefaultTolerationSeconds admission).
const DefaultNotReadyTolerationSeconds int64 = 300

// Well-known annotations.
const (
	// LastAppliedConfigAnnotation holds the manifest of the last
	// client-side apply.
	LastAppliedConfigAnnotation = "kubectl.kubernetes.io/last-applied-configuration"
	// EndpointsLastChangeTriggerTime records when the change that updated
	// an Endpoints object happened.
	EndpointsLastChangeTriggerTime = "endpoints.kubernetes.io/last-change-trigger-time"
	// ServiceAccountNameKey is the secret annotation naming its service
	// account.
	ServiceAccountNameKey = "kubernetes.io/service-account.name"
	// ServiceAccountUIDKey is the secret annotation holding its service
	// account's UID.
	ServiceAccountUIDKey = "kubernetes.io/service-account.uid"
	// MirrorPodAnnotationKey marks a pod mirrored from a static pod.
	MirrorPodAnnotationKey = "kubernetes.io/config.mirror"
)
