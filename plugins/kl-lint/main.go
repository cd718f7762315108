// Command kl-lint is a kl plugin: `kl lint -f PATH [-R]` checks manifests
// for common mistakes and best practices, without contacting an apiserver:
//
//	deploy/web.yaml:17:9: Deployment shop/web: no-readiness-probe: container "web" has no readinessProbe: ...
//
// Each finding is one line, FILE:LINE:COL: OBJECT: RULE: MESSAGE, and a
// summary follows on stderr. Findings are warnings, except those marked
// "(info)". Exit codes: 0 no warnings, 1 warnings, 2 the manifests could
// not be read or the command line is wrong. `kl lint --list-rules` lists
// the rules; --disable RULE turns one off.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
