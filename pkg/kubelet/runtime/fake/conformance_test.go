package fake_test

import (
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/fake"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/runtimetest"
)

func TestConformance(t *testing.T) {
	runtimetest.Run(t, func(t *testing.T) runtime.Runtime {
		rt, err := fake.New(fake.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rt.Close() })
		return rt
	})
}

// The suite also passes with a start delay and a state file, the way
// `kl kubelet --runtime fake` runs it.
func TestConformance_WithStateFileAndStartDelay(t *testing.T) {
	runtimetest.Run(t, func(t *testing.T) runtime.Runtime {
		rt, err := fake.New(fake.Config{StartDelay: 5 * time.Millisecond, StateFile: t.TempDir() + "/state.json"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rt.Close() })
		return rt
	})
}
