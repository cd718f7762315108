// Package fake is an in-memory container runtime (runtime.Runtime) for tests
// and for simulating many nodes in one process (kl kubelet --runtime fake
// --simulate-nodes N). Nothing runs: containers are records whose state
// changes on a schedule, sandboxes get IPs from the node's pod range, images
// "pull" at once. It passes the runtime conformance suite
// (pkg/kubelet/runtime/runtimetest) like the Docker runtime does.
//
// # Behaviour
//
// A container becomes running Config.StartDelay after StartContainer is
// called (StartContainer blocks that long) and runs until it is stopped,
// unless its image or command says otherwise:
//
//	image kl.test/exit:CODE       exits with CODE (a number) after Config.ExitDelay
//	image kl.test/crash           exits 1 after Config.ExitDelay, every time it is started
//	image kl.test/oom             is OOM-killed (exit 137, reason OOMKilled) after Config.ExitDelay
//	image kl.test/ignore-sigterm  ignores SIGTERM: StopContainer waits the whole grace period, then kills (exit 137)
//	image kl.test/pull-error      cannot be pulled: PullImage fails (the kubelet shows ErrImagePull, then ImagePullBackOff)
//	image kl.test/fail-readiness  fails its readiness probes
//	image kl.test/fail-liveness   fails its liveness probes
//	image kl.test/fail-startup    fails its startup probes
//
//	command ["exit", "N"] or ["sh", "-c", "exit N"]   exits with N after Config.ExitDelay
//	command ["true"] / ["false"]                      exits 0 / 1 after Config.ExitDelay
//	command ["echo", ARGS...]                         writes ARGS to its log and exits 0 after Config.ExitDelay
//	command ["sleep", "D"]                            exits 0 after D (seconds, or a Go duration; "infinity": never)
//
// (the command is Command followed by Args, the way the container would
// run it). Tags other than exit codes are ignored: kl.test/crash:v2 crashes
// too. Every other image runs until stopped. SIGTERM ends a container with
// exit code 143 (reason Error), as it does a process without a handler;
// SIGKILL with 137.
//
// # Probes
//
// Runtime implements prober.Prober: liveness, readiness and startup probes
// of its containers succeed, whatever their handler (httpGet, tcpSocket or
// exec), unless the image is one of the kl.test/fail-* images above, and
// fail for a container that is not running. The kubelet uses it instead of
// the real prober when it runs on the fake runtime.
//
// # Exec
//
// ExecSync and Exec understand echo, true, false, exit N, sh -c "exit N",
// sleep D, hostname (the pod's hostname), env (the container's environment)
// and cat (copies stdin); any other command succeeds and prints nothing.
//
// # Logs
//
// A container's log holds what its command wrote (echo) and whatever a
// test adds with WriteLog; ContainerLogs serves it with Kubernetes' log
// options (tail, since, timestamps, limit, follow).
//
// # State
//
// State lives in memory. With Config.StateFile set, New loads it from that
// file and changes are written back to it (at most every
// Config.SaveInterval, and on Close), so a restarted kubelet finds its
// containers where it left them and adopts them, exactly as with Docker,
// whose state outlives the kubelet. Containers due to exit while the
// process was down are found exited at their due time.
package fake
