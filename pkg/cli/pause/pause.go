// Package pause is the hidden `kl pause` command: the process of a pod's
// sandbox container under the Docker runtime, which holds the pod's
// network namespace and does nothing else until it is stopped.
package pause

import (
	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker/pause"
)

// NewCmdPause returns `kl pause` (hidden: only sandbox containers run it).
func NewCmdPause() *cobra.Command {
	return &cobra.Command{
		Use:    "pause",
		Short:  "Hold a pod sandbox's namespaces until stopped (run inside sandbox containers)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pause.Run(cmd.Context())
			return nil
		},
	}
}
