package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	klclient "github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker"
	"github.com/kl-dev/kl/test/e2e/framework"
	"github.com/kl-dev/kl/test/images"
)

// The Docker benchmarks run `kl server --runtime docker --no-agent` and
// one `kl agent --runtime docker` (a separate process, so that the
// kubelet's own CPU and memory can be read from /proc) with real
// containers of kl.test/echo:1, present in the engine before the clock
// starts (images.Ensure). They skip without a Docker Engine; every
// container of the benchmark's node is removed at the end.
//
//	go test ./test/bench -run '^$' -bench 'Docker' -benchtime 5x

// dkCluster is the server and the agent of a Docker benchmark.
type dkCluster struct {
	url    string
	node   string
	server *framework.Process
	agent  *framework.Process
	docker *client.Client
	pods   *klclient.Resource[corev1.Pod, *corev1.Pod]
}

// dkStartCluster builds kl (or takes $KL_BENCH_BIN), makes the test image
// present, starts the server and the agent (node name unique to the run,
// no proxy) and waits until the node is Ready.
func dkStartCluster(b *testing.B) *dkCluster {
	b.Helper()
	if os.Getenv("DOCKER_HOST") == "" {
		if _, err := os.Stat("/var/run/docker.sock"); err != nil {
			b.Skipf("no Docker Engine: %v", err)
		}
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := images.Ensure(ctx, cli, images.Echo1); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	bin := os.Getenv("KL_BENCH_BIN")
	if bin == "" {
		if bin, err = framework.Binary(dir); err != nil {
			b.Fatal(err)
		}
	}
	rnd := make([]byte, 3)
	_, _ = rand.Read(rnd)
	dc := &dkCluster{node: "bench-" + hex.EncodeToString(rnd), docker: cli}
	// Registered first, so it runs after the processes are gone.
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := dkRemoveContainers(ctx, cli, dc.node); err != nil {
			b.Errorf("cleanup: %v", err)
		}
	})
	dc.server, dc.url = framework.Server(b, bin, filepath.Join(dir, "server"), "--no-agent", "--runtime", "docker")
	dc.agent = framework.Start(b, bin, "agent", "agent", "--server", dc.url, "--node-name", dc.node,
		"--runtime", "docker", "--no-proxy", "--data-dir", filepath.Join(dir, "agent"), "--kubelet-port", "0")
	kc, err := klclient.New(klclient.Config{Servers: []string{dc.url}, Timeout: 30 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	dc.pods = klclient.NewResource[corev1.Pod](kc, meta.GroupVersionResource{Version: "v1", Resource: "pods"}, true).Namespace("default")
	nodes := klclient.NewResource[corev1.Node](kc, meta.GroupVersionResource{Version: "v1", Resource: "nodes"}, false)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n, err := nodes.Get(context.Background(), dc.node)
		if err == nil && corev1.IsNodeReady(n) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("node %s not Ready after 2m (%v)", dc.node, err)
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
	return dc
}

// dkRemoveContainers force-removes every container of node.
func dkRemoveContainers(ctx context.Context, cli *client.Client, node string) error {
	f := make(client.Filters).Add("label", docker.LabelManaged+"=true", docker.LabelNode+"="+node)
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("list the containers of %s: %w", node, err)
	}
	for _, c := range res.Items {
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("remove container %s: %w", c.ID, err)
		}
	}
	return nil
}

// dkCountContainers counts the containers of node (any state).
func dkCountContainers(ctx context.Context, cli *client.Client, node string) (int, error) {
	f := make(client.Filters).Add("label", docker.LabelManaged+"=true", docker.LabelNode+"="+node)
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return 0, err
	}
	return len(res.Items), nil
}

// dkPod is a pod of one kl.test/echo:1 container that sleeps until
// SIGTERM; with no readiness probe it is Ready once its container runs.
func dkPod(name, group string) *corev1.Pod {
	grace := int64(1)
	return &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Name: name, Labels: map[string]string{"bench": group}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{
				Name: "app", Image: images.Echo1, Args: []string{"sleep"}, ImagePullPolicy: corev1.PullNever,
			}},
		},
	}
}

// dkReadyTimes watches the pods labelled bench=group and records when
// each is first seen Running and Ready.
type dkReadyTimes struct {
	mu    sync.Mutex
	ready map[string]time.Time
	err   error
}

func dkWatchReady(ctx context.Context, b *testing.B, pods *klclient.Resource[corev1.Pod, *corev1.Pod], group string) *dkReadyTimes {
	b.Helper()
	rt := &dkReadyTimes{ready: map[string]time.Time{}}
	_, list, err := pods.List(ctx, klclient.ListOptions{LabelSelector: "bench=" + group})
	if err != nil {
		b.Fatal(err)
	}
	events, err := pods.Watch(ctx, klclient.ListOptions{LabelSelector: "bench=" + group, ResourceVersion: list.ResourceVersion})
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for ev := range events {
			now := time.Now()
			if ev.Type == meta.Error {
				rt.mu.Lock()
				rt.err = fmt.Errorf("watch: %v", ev.Status)
				rt.mu.Unlock()
				return
			}
			p := ev.Object
			if ev.Type == meta.Deleted || p == nil || p.Status.Phase != corev1.PodRunning || !corev1.IsPodReady(p) {
				continue
			}
			rt.mu.Lock()
			if _, ok := rt.ready[p.Name]; !ok {
				rt.ready[p.Name] = now
			}
			rt.mu.Unlock()
		}
	}()
	return rt
}

// wait waits until every named pod was seen Ready and returns when each
// was.
func (rt *dkReadyTimes) wait(names []string, timeout time.Duration) (map[string]time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		rt.mu.Lock()
		n, err := 0, rt.err
		out := map[string]time.Time{}
		for _, name := range names {
			if t, ok := rt.ready[name]; ok {
				out[name] = t
				n++
			}
		}
		rt.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if n == len(names) {
			return out, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d pods Ready after %s", n, len(names), timeout)
		}
		time.Sleep(5 * time.Millisecond) // polling the watch's record, not the API
	}
}

// dkPercentile returns the q-quantile of sorted durations.
func dkPercentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func dkMillis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkDockerPodStart measures the start latency of pods on the
// Docker runtime, image present: from the create request to the pod seen
// Running and Ready on a watch, for 1 pod alone and for 20 pods created
// at once (concurrently). One op is one round of pods; after each round
// the pods are deleted and their containers gone before the next (not
// timed). Goal: p99 under 1s. Reports p50, p99 and max over every pod of
// every round, and the kubelet's (agent's) CPU seconds per pod started.
// The engine-only sub-benchmarks measure the same with the engine's API
// alone (dkEngineOnly): the floor under kl's figures on this machine.
func BenchmarkDockerPodStart(b *testing.B) {
	dc := dkStartCluster(b)
	dkWarmUp(b, dc)
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("engine-only/pods=%d", n), func(b *testing.B) { dkEngineOnly(b, dc, n) })
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			group := fmt.Sprintf("start-%d", n)
			rt := dkWatchReady(ctx, b, dc.pods, group)
			var lat []time.Duration
			var kubeletCPU time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				names := make([]string, n)
				created := make([]time.Time, n)
				errs := make([]error, n)
				u0, err := dc.agent.Usage()
				if err != nil {
					b.Fatal(err)
				}
				var wg sync.WaitGroup
				for j := range n {
					names[j] = fmt.Sprintf("%s-%d-%d", group, i, j)
					wg.Add(1)
					go func() {
						defer wg.Done()
						created[j] = time.Now()
						_, errs[j] = dc.pods.Create(ctx, dkPod(names[j], group), klclient.CreateOptions{})
					}()
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
				ready, err := rt.wait(names, 2*time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				u1, err := dc.agent.Usage()
				if err != nil {
					b.Fatal(err)
				}
				kubeletCPU += u1.CPU - u0.CPU
				for j, name := range names {
					lat = append(lat, ready[name].Sub(created[j]))
				}
				dkDeleteAll(ctx, b, dc, group)
				b.StartTimer()
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(dkMillis(dkPercentile(lat, 0.50)), "p50-ms")
			b.ReportMetric(dkMillis(dkPercentile(lat, 0.99)), "p99-ms")
			b.ReportMetric(dkMillis(lat[len(lat)-1]), "max-ms")
			b.ReportMetric(kubeletCPU.Seconds()*1000/float64(len(lat)), "kubelet-CPU-ms/pod")
			b.Logf("%d pods in %d rounds of %d: start latency p50 %s, p99 %s, max %s; load average %s",
				len(lat), b.N, n, dkPercentile(lat, 0.50).Round(time.Millisecond), dkPercentile(lat, 0.99).Round(time.Millisecond),
				lat[len(lat)-1].Round(time.Millisecond), dkLoadAverage())
		})
	}
}

// dkWarmUp starts and deletes one pod, so that the pod network and the
// sandbox image exist before anything is timed.
func dkWarmUp(b *testing.B, dc *dkCluster) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rt := dkWatchReady(ctx, b, dc.pods, "warm-up")
	if _, err := dc.pods.Create(ctx, dkPod("warm-up", "warm-up"), klclient.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	if _, err := rt.wait([]string{"warm-up"}, 2*time.Minute); err != nil {
		b.Fatal(err)
	}
	dkDeleteAll(ctx, b, dc, "warm-up")
}

// dkEngineOnly is the floor kl's pod start latency stands on: what the
// engine alone takes, through its API, to create and start what a pod is
// made of (a sandbox container on kl's network and a container joining its
// network namespace, both kl.test/echo:1 sleeping), n pods at once; no
// apiserver, scheduler or kubelet. The containers carry the benchmark
// node's labels, so the cleanup removes them.
func dkEngineOnly(b *testing.B, dc *dkCluster, n int) {
	ctx := context.Background()
	labels := map[string]string{docker.LabelManaged: "true", docker.LabelNode: dc.node}
	run := func(opts client.ContainerCreateOptions) (string, error) {
		opts.Config.Labels = labels
		c, err := dc.docker.ContainerCreate(ctx, opts)
		if err != nil {
			return "", err
		}
		_, err = dc.docker.ContainerStart(ctx, c.ID, client.ContainerStartOptions{})
		return c.ID, err
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		took := make([]time.Duration, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for j := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				id, err := run(client.ContainerCreateOptions{
					Config:           &container.Config{Image: images.Echo1, Cmd: []string{"sleep"}},
					HostConfig:       &container.HostConfig{NetworkMode: container.NetworkMode(docker.DefaultNetwork)},
					NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{docker.DefaultNetwork: {}}},
				})
				if err == nil {
					_, err = run(client.ContainerCreateOptions{
						Config:     &container.Config{Image: images.Echo1, Cmd: []string{"sleep"}},
						HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode("container:" + id)},
					})
				}
				took[j], errs[j] = time.Since(t0), err
			}()
		}
		wg.Wait()
		b.StopTimer()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		lat = append(lat, took...)
		if err := dkRemoveContainers(ctx, dc.docker, dc.node); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(dkMillis(dkPercentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(dkMillis(dkPercentile(lat, 0.99)), "p99-ms")
	b.ReportMetric(dkMillis(lat[len(lat)-1]), "max-ms")
	b.Logf("engine alone, %d pods in %d rounds of %d: p50 %s, p99 %s; load average %s", len(lat), b.N, n,
		dkPercentile(lat, 0.50).Round(time.Millisecond), dkPercentile(lat, 0.99).Round(time.Millisecond), dkLoadAverage())
}

// dkDeleteAll deletes the pods labelled bench=group and waits until they
// are gone from the API and their containers from the engine.
func dkDeleteAll(ctx context.Context, b *testing.B, dc *dkCluster, group string) {
	b.Helper()
	if err := dc.pods.DeleteCollection(ctx, meta.DeleteOptions{}, klclient.ListOptions{LabelSelector: "bench=" + group}); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		left, _, err := dc.pods.List(ctx, klclient.ListOptions{LabelSelector: "bench=" + group})
		if err != nil {
			b.Fatal(err)
		}
		n, err := dkCountContainers(ctx, dc.docker, dc.node)
		if err != nil {
			b.Fatal(err)
		}
		if len(left) == 0 && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d pods and %d containers left 3m after the delete", len(left), n)
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
}

// dkLoadAverage returns the machine's 1, 5 and 15 minute load averages.
func dkLoadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	var a, b, c string
	_, _ = fmt.Sscan(string(data), &a, &b, &c)
	return a + " " + b + " " + c
}

// BenchmarkDockerKubelet50Pods starts 50 pods (one container each) on one
// `kl agent --runtime docker` and measures what the kubelet costs: its
// CPU while they start, then its CPU per second and its RSS with the 50
// running over a quiet window of 30s (probes: none; the kubelet's
// periodic work only: resyncs, node status, lease, runtime events). The
// server's are reported too. One op is the whole run.
func BenchmarkDockerKubelet50Pods(b *testing.B) {
	const pods, window = 50, 30 * time.Second
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dc := dkStartCluster(b)
		ctx, cancel := context.WithCancel(context.Background())
		rt := dkWatchReady(ctx, b, dc.pods, "steady")
		a0, s0 := dkUsage(b, dc.agent), dkUsage(b, dc.server)
		start := time.Now()
		b.StartTimer()
		names := make([]string, pods)
		for j := range pods {
			names[j] = fmt.Sprintf("steady-%d", j)
			if _, err := dc.pods.Create(ctx, dkPod(names[j], "steady"), klclient.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := rt.wait(names, 5*time.Minute); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		allReady := time.Since(start)
		a1, s1 := dkUsage(b, dc.agent), dkUsage(b, dc.server)
		time.Sleep(window) // the measurement window: the kubelet idles with 50 pods
		a2, s2 := dkUsage(b, dc.agent), dkUsage(b, dc.server)
		cancel()

		b.ReportMetric(allReady.Seconds(), "s-50-ready")
		b.ReportMetric((a1.CPU - a0.CPU).Seconds(), "kubelet-start-CPU-s")
		b.ReportMetric(float64((a2.CPU-a1.CPU).Milliseconds())/window.Seconds(), "kubelet-idle-CPU-ms/s")
		b.ReportMetric(float64(a2.RSSBytes)/(1<<20), "kubelet-RSS-MB")
		b.ReportMetric((s1.CPU - s0.CPU).Seconds(), "server-start-CPU-s")
		b.ReportMetric(float64((s2.CPU-s1.CPU).Milliseconds())/window.Seconds(), "server-idle-CPU-ms/s")
		b.ReportMetric(float64(s2.RSSBytes)/(1<<20), "server-RSS-MB")
		b.Logf("50 pods Ready after %s; kubelet: %.1f CPU-s to start them, %.1f CPU-ms/s and %.0f MB RSS with them running; server: %.1f CPU-ms/s, %.0f MB RSS; load average %s",
			allReady.Round(time.Millisecond), (a1.CPU - a0.CPU).Seconds(), float64((a2.CPU-a1.CPU).Milliseconds())/window.Seconds(),
			float64(a2.RSSBytes)/(1<<20), float64((s2.CPU-s1.CPU).Milliseconds())/window.Seconds(), float64(s2.RSSBytes)/(1<<20), dkLoadAverage())
	}
}

// dkUsage reads a process's CPU time and RSS.
func dkUsage(b *testing.B, p *framework.Process) framework.Usage {
	b.Helper()
	u, err := p.Usage()
	if err != nil {
		b.Fatal(err)
	}
	return u
}
