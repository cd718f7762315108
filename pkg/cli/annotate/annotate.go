// Package annotate implements `kl annotate`, which shares its machinery
// with `kl label` (pkg/cli/label).
package annotate

import (
	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/label"
)

// NewCmdAnnotate returns the `kl annotate` command. runF, if not nil,
// replaces the command's action.
func NewCmdAnnotate(f *cmdutil.Factory, runF func(*label.Options) error) *cobra.Command {
	return label.NewCmd(f, label.Annotations, runF)
}
