package docker_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/runtimetest"
	"github.com/kl-dev/kl/test/images"
)

// The Docker runtime passes the runtime conformance suite on a real
// engine, with the test images (no registry: nothing can be pulled).
func TestConformance(t *testing.T) {
	requireEngine(t)
	t.Parallel()
	runtimetest.RunWithOptions(t, func(t *testing.T) runtime.Runtime {
		return newRuntime(t, newConfig(t))
	}, runtimetest.Options{
		Image: images.Echo1,
		Sleep: []string{"/echo", "sleep"},
		Exit:  func(code int) []string { return []string{"/echo", "exit", strconv.Itoa(code)} },
		Echo: func(args ...string) []string {
			return append([]string{"/echo", "echo"}, args...)
		},
		IgnoreSIGTERMImage: images.IgnoreSIGTERM,
		PullImage:          "-",
		// Generous: container operations take a second or more on a
		// loaded two-core machine; the suite's waits end as soon as
		// they can.
		Timeout: 90 * time.Second,
	})
}
