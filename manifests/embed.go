// Package manifests embeds the cluster's own bootstrap objects (for now the
// namespaces default, kube-system and kube-node-lease), which the apiserver
// creates on first start.
package manifests

import "embed"

// FS holds every *.yaml file of this directory; each file may hold several
// YAML documents separated by "---".
//
//go:embed *.yaml
var FS embed.FS
