// Package certs is `kl certs`: create a cluster's PKI and issue client
// certificates.
package certs

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/certs"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

// NewCmdCerts returns `kl certs` with its init and issue subcommands.
func NewCmdCerts(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Create the cluster's certificates (CA, components, admin, nodes)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCmdInit(f, nil), newCmdIssue(f, nil))
	return cmd
}

// InitOptions are the options of `kl certs init`.
type InitOptions struct {
	IO       *iostreams.IOStreams
	Dir      string
	SANs     []string
	Validity time.Duration
}

func newCmdInit(f *cmdutil.Factory, runF func(*InitOptions) error) *cobra.Command {
	opts := &InitOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "init --dir DIR [--san NAME]...",
		Short: "Create a CA and the apiserver, admin and component certificates",
		Long: `Create a CA (ca.crt, ca.key) and certificate pairs for the apiserver
(serving, with SANs for 127.0.0.1, localhost, the host name and --san extras),
admin (group system:masters), controller-manager, scheduler and proxy.
Existing files are kept, so running it again only fills in what is missing.
Keys are written with mode 0600.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Dir == "" {
				return cmdutil.FlagErrorf("--dir is required")
			}
			if runF != nil {
				return runF(opts)
			}
			dir, err := cmdutil.ExpandHome(opts.Dir)
			if err != nil {
				return err
			}
			wrote, err := certs.Init(certs.InitOptions{Dir: dir, SANs: opts.SANs, Validity: opts.Validity})
			if err != nil {
				return err
			}
			if len(wrote) == 0 {
				fmt.Fprintf(opts.IO.Out, "%s already holds every certificate\n", dir)
				return nil
			}
			fmt.Fprintf(opts.IO.Out, "wrote %s in %s\n", strings.Join(wrote, ", "), dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "PKI directory")
	cmd.Flags().StringArrayVar(&opts.SANs, "san", nil, "extra DNS name or IP for the apiserver certificate (repeatable)")
	cmd.Flags().DurationVar(&opts.Validity, "expiry", certs.DefaultValidity, "validity of the issued certificates")
	return cmd
}

// IssueOptions are the options of `kl certs issue`.
type IssueOptions struct {
	IO       *iostreams.IOStreams
	Dir      string
	User     string
	Groups   []string
	Out      string
	Validity time.Duration
}

func newCmdIssue(f *cmdutil.Factory, runF func(*IssueOptions) error) *cobra.Command {
	opts := &IssueOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "issue --dir DIR --user NAME [--group G]... --out PREFIX",
		Short: "Issue a client certificate signed by the cluster CA",
		Long: `Issue a client certificate: the user is the certificate's common name
and the groups its organizations. A node NAME is user system:node:NAME in
group system:nodes; a read-only user is in group kl:viewers.
Writes PREFIX.crt and PREFIX.key (0600).`,
		Example: `  kl certs issue --dir ~/.kl/data/pki --user system:node:n1 --group system:nodes --out n1
  kl certs issue --dir ~/.kl/data/pki --user alice --group kl:viewers --out alice`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Dir == "" || opts.User == "" || opts.Out == "" {
				return cmdutil.FlagErrorf("--dir, --user and --out are required")
			}
			if runF != nil {
				return runF(opts)
			}
			dir, err := cmdutil.ExpandHome(opts.Dir)
			if err != nil {
				return err
			}
			if err := certs.IssueFiles(dir, opts.User, opts.Groups, opts.Out, opts.Validity, time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(opts.IO.Out, "wrote %s.crt and %s.key for user %q\n", opts.Out, opts.Out, opts.User)
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "PKI directory holding ca.crt and ca.key")
	cmd.Flags().StringVar(&opts.User, "user", "", "user name (certificate common name)")
	cmd.Flags().StringArrayVar(&opts.Groups, "group", nil, "group (certificate organization; repeatable)")
	cmd.Flags().StringVar(&opts.Out, "out", "", "output prefix: writes PREFIX.crt and PREFIX.key")
	cmd.Flags().DurationVar(&opts.Validity, "expiry", certs.DefaultValidity, "validity of the certificate")
	return cmd
}
