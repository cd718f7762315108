// Command kl-tree is a kl plugin: `kl tree KIND NAME` shows an object and
// everything it owns, recursively (by metadata.ownerReferences), as a tree
// with each object's readiness, like kubectl-tree:
//
//	NAMESPACE  NAME                          READY  REASON            AGE
//	default    Deployment/web                -                        5m
//	default    └─ReplicaSet/web-7d4b9c       -                        5m
//	default      ├─Pod/web-7d4b9c-abcde      True                     5m
//	default      └─Pod/web-7d4b9c-fghij      False  CrashLoopBackOff  5m
//
// READY is the object's Ready condition ("-" when it has none); REASON says
// why it is not ready: a container's waiting or terminated reason
// (CrashLoopBackOff, ImagePullBackOff, OOMKilled), else the Ready or
// PodScheduled condition's reason.
//
// kl runs it with the connection in KL_SERVER, KL_CONFIG, KL_CONTEXT and
// KL_NAMESPACE; it also accepts kl's --server, --config, --context and -n.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, time.Now)
	stop()
	os.Exit(code)
}
