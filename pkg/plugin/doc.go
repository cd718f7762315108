// Package plugin finds and runs kl plugins, and helps write them.
//
// A plugin is an executable file named kl-NAME in ~/.kl/plugins or in a
// directory of PATH (searched in that order; the first one found wins). It
// extends kl with a command, as kubectl plugins do:
//
//	kl-tree          runs as   kl tree ARGS...
//	kl-foo-bar       runs as   kl foo bar ARGS...   (the longest name wins)
//	kl-foo_bar       runs as   kl foo-bar ARGS...   (a dash in a command is _)
//
// Built-in commands always win: a plugin whose first word names one (such
// as kl-get or kl-config-foo) never runs; `kl plugin list` warns about it.
//
// kl runs a plugin as a child process with the same standard streams, in
// an environment that carries the connection kl resolved from its flags,
// environment and client config file:
//
//	KL_SERVER     the apiserver URLs, comma separated
//	KL_CONFIG     the client config file
//	KL_CONTEXT    the context in use ("" or unset: none)
//	KL_NAMESPACE  the namespace to work in
//
// These are the variables kl itself reads, so a plugin that runs kl gets
// the same connection. Signals kl receives are forwarded to the plugin, and
// kl exits with the plugin's exit code.
//
// A plugin written in Go can use ClientFlags to accept the same connection
// flags as kl (--server, --config, --context, -n), defaulting to the
// environment above, and resolve them to a clientconfig.Connection.
package plugin
