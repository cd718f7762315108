// Package setcredentials implements `kl config set-credentials`.
package setcredentials

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/clientconfig"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/config/internal/configcmd"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

// Options are the inputs of `kl config set-credentials`.
type Options struct {
	IO         *iostreams.IOStreams
	ConfigPath func() (string, error)

	// Name is the user to create or modify.
	Name string
	// ClientCertificate and ClientKey are the files to set; nil leaves a
	// field as it is.
	ClientCertificate, ClientKey *string
}

// NewCmdSetCredentials returns the `kl config set-credentials` command.
// runF, if not nil, replaces the command's action.
func NewCmdSetCredentials(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, ConfigPath: f.ConfigPath}
	var cert, key string
	cmd := &cobra.Command{
		Use:   "set-credentials NAME --client-certificate FILE --client-key FILE",
		Short: "Create or modify a user (a client certificate and its key)",
		Long: `Create a user, or modify the fields given of an existing one. A user is a
client certificate and its private key (kl certs issue makes them); the files
are stored as absolute paths, not copied.`,
		Example: `  kl config set-credentials admin --client-certificate ~/.kl/pki/admin.crt --client-key ~/.kl/pki/admin.key`,
		Args:    cmdutil.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if cmd.Flags().Changed("client-certificate") {
				opts.ClientCertificate = &cert
			}
			if cmd.Flags().Changed("client-key") {
				opts.ClientKey = &key
			}
			if runF != nil {
				return runF(opts)
			}
			return runSetCredentials(opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cert, "client-certificate", "", "client certificate file (PEM)")
	fs.StringVar(&key, "client-key", "", "private key file of the client certificate (PEM)")
	configcmd.MarkNoBind(cmd, "client-certificate", "client-key")
	return cmd
}

func runSetCredentials(opts *Options) error {
	file, path, err := configcmd.Load(opts.ConfigPath)
	if err != nil {
		return err
	}
	u := clientconfig.User{Name: opts.Name}
	if cur, ok := file.User(opts.Name); ok {
		u = *cur
	}
	if opts.ClientCertificate != nil {
		if u.ClientCertificate, err = configcmd.AbsFile(*opts.ClientCertificate); err != nil {
			return fmt.Errorf("--client-certificate: %w", err)
		}
	}
	if opts.ClientKey != nil {
		if u.ClientKey, err = configcmd.AbsFile(*opts.ClientKey); err != nil {
			return fmt.Errorf("--client-key: %w", err)
		}
	}
	if (u.ClientCertificate == "") != (u.ClientKey == "") {
		return cmdutil.FlagErrorf("user %q needs both --client-certificate and --client-key", opts.Name)
	}
	file.SetUser(u)
	if err := file.Save(path); err != nil {
		return err
	}
	_, err = fmt.Fprintf(opts.IO.Out, "User %q set.\n", opts.Name)
	return err
}
