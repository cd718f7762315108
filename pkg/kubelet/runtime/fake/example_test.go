package fake_test

import (
	"context"
	"fmt"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/fake"
)

// A pod whose container exits with code 3: run a sandbox, pull, create and
// start the container, and wait for its exit event.
func Example() {
	ctx := context.Background()
	rt, err := fake.New(fake.Config{PodCIDR: "10.244.3.0/24"})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	events, err := rt.Events(ctx)
	if err != nil {
		panic(err)
	}

	sb, err := rt.RunPodSandbox(ctx, runtime.PodSandboxConfig{Name: "job", Namespace: "default", UID: "uid-1"})
	if err != nil {
		panic(err)
	}
	fmt.Println("pod IP:", sb.IP)
	if _, err := rt.PullImage(ctx, "kl.test/exit:3", nil); err != nil {
		panic(err)
	}
	id, err := rt.CreateContainer(ctx, sb.ID, runtime.ContainerConfig{Name: "main", Image: "kl.test/exit:3"})
	if err != nil {
		panic(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		panic(err)
	}
	for ev := range events {
		if ev.Type == runtime.ContainerExitedEvent && ev.ContainerID == id {
			break
		}
	}
	c, err := rt.ContainerStatus(ctx, id)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Name, c.State, c.ExitCode, c.Reason, c.Labels[runtime.LabelPodUID])
	// Output:
	// pod IP: 10.244.3.2
	// main exited 3 Error uid-1
}
