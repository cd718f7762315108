// Package cmdutil is what every kl command shares: the Factory (streams,
// global flags, logger and, later, the API client), the typed errors that
// become exit codes, and flag binding from environment and config files.
//
// It is the only package of kl that imports viper. Subcommand packages
// (pkg/cli/<verb>) import cmdutil; the root command (pkg/cli) imports them.
package cmdutil
