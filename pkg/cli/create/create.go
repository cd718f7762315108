// Package create implements `kl create`; for now only `kl create namespace
// NAME`. Everything else is created with `kl apply -f`.
package create

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
)

// NewCmdCreate returns the `kl create` command and its subcommands.
func NewCmdCreate(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create KIND NAME",
		Short: "Create a resource from the command line",
		Long: `Create a resource from the command line.

For objects described in files, use "kl apply -f FILE".`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmdutil.FlagErrorf("a kind is required: kl create namespace NAME")
		},
	}
	cmd.AddCommand(NewCmdCreateNamespace(f, nil))
	return cmd
}

// NamespaceOptions are the inputs of `kl create namespace`.
type NamespaceOptions struct {
	IO     *iostreams.IOStreams
	Client func() (*client.Client, error)

	Name   string
	DryRun bool
}

// NewCmdCreateNamespace returns `kl create namespace NAME`. runF, if not
// nil, replaces the command's action.
func NewCmdCreateNamespace(f *cmdutil.Factory, runF func(*NamespaceOptions) error) *cobra.Command {
	opts := &NamespaceOptions{IO: f.IOStreams, Client: f.Client}
	cmd := &cobra.Command{
		Use:     "namespace NAME",
		Aliases: []string{"ns"},
		Short:   "Create a namespace",
		Example: `  kl create namespace shop`,
		Args:    cmdutil.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runCreateNamespace(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "validate on the server without creating")
	return cmd
}

func runCreateNamespace(ctx context.Context, opts *NamespaceOptions) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ns := corev1.Namespace{
		TypeMeta:   meta.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: meta.ObjectMeta{Name: opts.Name},
	}
	body, err := json.Marshal(&ns)
	if err != nil {
		return fmt.Errorf("encode namespace: %w", err)
	}
	gvr := meta.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	if _, err := c.Dynamic().Create(ctx, gvr, "", body, client.CreateOptions{DryRun: opts.DryRun, FieldManager: "kl-create"}); err != nil {
		return resource.ServerError(opts.IO.ErrOut, err)
	}
	suffix := ""
	if opts.DryRun {
		suffix = " (server dry run)"
	}
	fmt.Fprintf(opts.IO.Out, "namespace/%s created%s\n", opts.Name, suffix)
	return nil
}
