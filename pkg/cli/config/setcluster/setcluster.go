// Package setcluster implements `kl config set-cluster`.
package setcluster

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/clientconfig"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/config/internal/configcmd"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

// Options are the inputs of `kl config set-cluster`.
type Options struct {
	IO         *iostreams.IOStreams
	ConfigPath func() (string, error)

	// Name is the cluster to create or modify.
	Name string
	// Server, CertificateAuthority and InsecureSkipTLSVerify are the fields
	// to set; nil leaves a field as it is.
	Server                *string
	CertificateAuthority  *string
	InsecureSkipTLSVerify *bool
}

// NewCmdSetCluster returns the `kl config set-cluster` command. runF, if not
// nil, replaces the command's action.
func NewCmdSetCluster(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, ConfigPath: f.ConfigPath}
	var server, ca string
	var insecure bool
	cmd := &cobra.Command{
		Use:   "set-cluster NAME [--server URL[,URL...]] [--certificate-authority FILE]",
		Short: "Create or modify a cluster",
		Long: `Create a cluster (one apiserver, or several sharing a store: they are tried
in order), or modify the fields given of an existing one.

The certificate authority file is stored as an absolute path.`,
		Example: `  kl config set-cluster local --server http://127.0.0.1:6443
  kl config set-cluster prod --server https://10.0.0.1:6443,https://10.0.0.2:6443 --certificate-authority ~/.kl/pki/ca.crt`,
		Args: cmdutil.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			fs := cmd.Flags()
			if fs.Changed("server") {
				if _, err := clientconfig.SplitServers(server); err != nil {
					return cmdutil.FlagErrorf("--server: %w", err)
				}
				opts.Server = &server
			}
			if fs.Changed("certificate-authority") {
				opts.CertificateAuthority = &ca
			}
			if fs.Changed("insecure-skip-tls-verify") {
				opts.InsecureSkipTLSVerify = &insecure
			}
			if runF != nil {
				return runF(opts)
			}
			return runSetCluster(opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&server, "server", "", "apiserver URL, or several separated by commas (tried in order)")
	fs.StringVar(&ca, "certificate-authority", "", "CA certificate file that signed the apiservers' certificates")
	fs.BoolVar(&insecure, "insecure-skip-tls-verify", false, "do not check the apiservers' certificates (not recommended)")
	configcmd.MarkNoBind(cmd, "server", "certificate-authority", "insecure-skip-tls-verify")
	return cmd
}

func runSetCluster(opts *Options) error {
	file, path, err := configcmd.Load(opts.ConfigPath)
	if err != nil {
		return err
	}
	c := clientconfig.Cluster{Name: opts.Name}
	if cur, ok := file.Cluster(opts.Name); ok {
		c = *cur
	} else if opts.Server == nil {
		return cmdutil.FlagErrorf("cluster %q is new: --server URL is required", opts.Name)
	}
	if opts.Server != nil {
		servers, err := clientconfig.SplitServers(*opts.Server)
		if err != nil {
			return cmdutil.FlagErrorf("--server: %w", err)
		}
		c.Server = strings.Join(servers, ",")
	}
	if opts.CertificateAuthority != nil {
		if c.CertificateAuthority, err = configcmd.AbsFile(*opts.CertificateAuthority); err != nil {
			return fmt.Errorf("--certificate-authority: %w", err)
		}
	}
	if opts.InsecureSkipTLSVerify != nil {
		c.InsecureSkipTLSVerify = *opts.InsecureSkipTLSVerify
	}
	file.SetCluster(c)
	if err := file.Save(path); err != nil {
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "Cluster %q set.\n", opts.Name)
	return err
}
