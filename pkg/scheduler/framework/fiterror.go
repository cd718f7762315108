package framework

import (
	"fmt"
	"sort"
	"strings"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
)

// Diagnosis records why nodes were ruled out for a pod.
type Diagnosis struct {
	// NodeToStatus is each ruled-out node's first failing filter status.
	NodeToStatus map[string]*Status
	// PreFilterMsg is set when a PreFilter ruled out every node at once.
	PreFilterMsg string
}

// FitError says that no node fits a pod. Its message is Kubernetes':
//
//	0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.
//
// Each reason is counted once per node that gave it, and the "COUNT
// reason" strings are sorted as strings, as kube-scheduler sorts them.
type FitError struct {
	Pod         *corev1.Pod
	NumAllNodes int
	Diagnosis   Diagnosis
}

// NoNodesAvailableMsg is the message when the cluster has no nodes at all.
const NoNodesAvailableMsg = "no nodes available to schedule pods"

// Error returns the message of the pod's PodScheduled condition and its
// FailedScheduling event.
func (f *FitError) Error() string {
	if f.NumAllNodes == 0 {
		return NoNodesAvailableMsg
	}
	msg := fmt.Sprintf("0/%d nodes are available:", f.NumAllNodes)
	if f.Diagnosis.PreFilterMsg != "" {
		return msg + " " + f.Diagnosis.PreFilterMsg + "."
	}
	counts := map[string]int{}
	for _, st := range f.Diagnosis.NodeToStatus {
		for _, r := range st.Reasons() {
			counts[r]++
		}
	}
	reasons := make([]string, 0, len(counts))
	for r, n := range counts {
		reasons = append(reasons, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(reasons)
	if len(reasons) == 0 {
		return msg[:len(msg)-1] + "."
	}
	return msg + " " + strings.Join(reasons, ", ") + "."
}
