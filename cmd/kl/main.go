// Command kl is a Kubernetes-shaped cluster and a kubectl-like CLI in one
// binary; see pkg/cli.
package main

import (
	"os"

	"github.com/kl-dev/kl/pkg/cli"
)

func main() { os.Exit(cli.Main()) }
