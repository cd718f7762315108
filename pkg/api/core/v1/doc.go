// Package v1 holds the core ("legacy", group "") API kinds kl supports:
// Namespace, Node, Pod, Service, Endpoints, ConfigMap, Secret,
// ServiceAccount, Event and Binding, with the shared pod types
// (PodSpec, PodTemplateSpec, Container, ...) other groups embed.
//
// Field names, JSON tags and omitempty are those of k8s.io/api/core/v1, so
// JSON written by Kubernetes decodes here and re-encodes to the same
// document for every field kl includes. Fields kl does not include are left
// out; schema validation rejects them rather than dropping them silently,
// and Volume additionally records unsupported volume sources (see
// Volume.UnsupportedSources).
//
// Importers conventionally alias the package as corev1.
//
// Files: types.go (kinds and their parts), wellknown.go (labels, taints,
// annotations), volume.go (Volume decoding), defaults.go (Kubernetes'
// defaulting), helpers.go (pod, node and taint helpers), deepcopy.go.
package v1

// GroupName is the API group of this package: the legacy core group.
const GroupName = ""

// Version is the API version of this package.
const Version = "v1"

// SchemeGroupVersion is the apiVersion string of the kinds in this package.
const SchemeGroupVersion = "v1"
