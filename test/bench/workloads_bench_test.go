package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/test/e2e/framework"
)

// The workload benchmarks drive Deployments on 100 simulated nodes (one
// `kl kubelet --runtime fake --simulate-nodes 100`) with the kl CLI, as a
// user would, and time what the user waits for, watching from outside:
//
//   - BenchmarkWorkloadW1, the reference workload: `kl server --insecure
//     --no-agent --runtime fake`, 50 Deployments x 20 replicas applied with
//     `kl apply -R -f DIR`, until all 1,000 pods are Running; then `kl
//     scale --replicas 0` of all 50 until every pod is gone. Real
//     Kubernetes v1.32 (etcd, kwok) takes 56s and 62s with 646 MB on the
//     project's machine; the goal is under 10s both ways and 250 MB.
//   - BenchmarkWorkloadDeployments100x100: each component its own process
//     (apiserver on badger, scheduler, controller-manager, kubelet), 100
//     Deployments x 100 replicas until every Deployment is available (goal
//     30s), then a rolling update of all 100 to a new image until every one
//     is complete again (goal 60s); CPU seconds and RSS of every process.
//
// Run them alone, once: they take minutes and two cores:
//
//	go test -run '^$' -bench 'BenchmarkWorkload' -benchtime 1x -timeout 30m ./test/bench/

const (
	wlSimNodes = 100
	// wlCapacity is each simulated node's capacity for the 100x100 run:
	// room for 10,000 pods plus the rolling update's surge (the default,
	// the machine's 2 CPUs and 110 pods, leaves 11,000 pod slots).
	wlCapacity = "cpu=32,memory=64Gi,pods=250"
)

// wlProcs are the processes of a benchmark cluster, by role.
type wlProcs struct {
	bin   string
	url   string
	cli   *framework.CLI
	procs []*framework.Process // in the order of roles
	roles []string
}

func (w *wlProcs) add(role string, p *framework.Process) {
	w.roles = append(w.roles, role)
	w.procs = append(w.procs, p)
}

// wlStartSim starts the control plane (kl server, or with split each
// component as its own process), then the kubelet simulating 100 nodes
// with kubeletArgs, and waits until every node is Ready.
func wlStartSim(b *testing.B, split bool, kubeletArgs ...string) *wlProcs {
	b.Helper()
	dir := b.TempDir()
	bin, err := framework.Binary(dir)
	if err != nil {
		b.Fatal(err)
	}
	w := &wlProcs{bin: bin}
	if split {
		var p *framework.Process
		p, w.url = framework.APIServer(b, bin, filepath.Join(dir, "apiserver"), "--storage", "badger")
		w.add("apiserver", p)
		w.add("scheduler", framework.Start(b, bin, "scheduler", "scheduler", "--server", w.url, "--leader-elect=false", "--metrics-addr", "0"))
		w.add("controller-manager", framework.Start(b, bin, "controller-manager", "controller-manager", "--server", w.url, "--leader-elect=false", "--metrics-addr", "0"))
	} else {
		var p *framework.Process
		p, w.url = framework.Server(b, bin, filepath.Join(dir, "server"), "--runtime", "fake", "--no-agent")
		w.add("server", p)
	}
	args := append([]string{"kubelet", "--server", w.url, "--runtime", "fake", "--node-name", "sim",
		"--simulate-nodes", fmt.Sprint(wlSimNodes), "--data-dir", filepath.Join(dir, "kubelet"),
		"--kubelet-port", "0", "--metrics-addr", "0"}, kubeletArgs...)
	w.add("kubelet", framework.Start(b, bin, "kubelet", args...))
	w.cli = framework.NewCLI(b, bin, w.url)

	c := wlClient(b, w.url)
	nodes := client.NewResource[corev1.Node](c, meta.GroupVersionResource{Version: "v1", Resource: "nodes"}, false)
	framework.Eventually(b, 2*time.Minute, 200*time.Millisecond, "every simulated node Ready", func() (bool, string) {
		list, _, err := nodes.List(context.Background(), client.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		ready := 0
		for _, n := range list {
			if corev1.IsNodeReady(n) {
				ready++
			}
		}
		return ready == wlSimNodes, fmt.Sprintf("%d of %d nodes Ready", ready, wlSimNodes)
	})
	b.Cleanup(func() {
		// SIGTERM, in reverse order of start, as a user would stop them.
		for i := len(w.procs) - 1; i >= 0; i-- {
			_ = w.procs[i].Stop(30 * time.Second)
		}
	})
	return w
}

func wlClient(b *testing.B, url string) *client.Client {
	b.Helper()
	c, err := client.New(client.Config{Servers: []string{url}, Timeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// wlUsage is the CPU time and memory of every process at one moment.
type wlUsage map[string]struct {
	cpu       time.Duration
	rss, peak float64 // MiB
}

func (w *wlProcs) usage(b *testing.B) wlUsage {
	b.Helper()
	u := wlUsage{}
	for i, p := range w.procs {
		us, err := p.Usage()
		if err != nil {
			b.Fatal(err)
		}
		e := u[w.roles[i]]
		e.cpu, e.rss = us.CPU, float64(us.RSSBytes)/(1<<20)
		e.peak = wlPeakRSS(b, p)
		u[w.roles[i]] = e
	}
	return u
}

// wlPeakRSS reads the process's peak resident memory (VmHWM), in MiB.
func wlPeakRSS(b *testing.B, p *framework.Process) float64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			var kb float64
			if _, err := fmt.Sscan(f[1], &kb); err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc status")
	return 0
}

// report reports, per process, the CPU seconds spent from the first usage
// to the last (and logs them per phase: from each usage to the next) and
// the memory at the end and at peak.
func (w *wlProcs) report(b *testing.B, phases []string, usages ...wlUsage) {
	b.Helper()
	first, last := usages[0], usages[len(usages)-1]
	for _, role := range w.roles {
		cpu := (last[role].cpu - first[role].cpu).Seconds()
		b.ReportMetric(cpu, role+"-CPU-s")
		b.ReportMetric(last[role].rss, role+"-RSS-MB")
		b.ReportMetric(last[role].peak, role+"-peak-RSS-MB")
		var per []string
		for i := 1; i < len(usages); i++ {
			per = append(per, fmt.Sprintf("%s %.1fs (RSS then %.0f MB)", phases[i-1], (usages[i][role].cpu-usages[i-1][role].cpu).Seconds(), usages[i][role].rss))
		}
		b.Logf("%s: %.1f CPU seconds: %s; RSS at the end %.0f MB, peak %.0f MB", role, cpu, strings.Join(per, ", "), last[role].rss, last[role].peak)
	}
}

// wlRequests scrapes the apiserver's apiserver_request_total counters, by
// "verb resource[/subresource] code".
func wlRequests(b *testing.B, url string) map[string]float64 {
	b.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	label := regexp.MustCompile(`(\w+)="([^"]*)"`)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "apiserver_request_total{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		l := map[string]string{}
		for _, m := range label.FindAllStringSubmatch(labels, -1) {
			l[m[1]] = m[2]
		}
		key := l["verb"] + " " + l["resource"]
		if l["subresource"] != "" {
			key += "/" + l["subresource"]
		}
		var v float64
		if _, err := fmt.Sscan(value, &v); err == nil {
			out[key+" "+l["code"]] += v
		}
	}
	return out
}

// wlLogRequests logs the requests the apiserver served between two scrapes,
// the most frequent first.
func wlLogRequests(b *testing.B, phase string, before, after map[string]float64) {
	b.Helper()
	type kv struct {
		k string
		v float64
	}
	var all []kv
	total := 0.0
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			all = append(all, kv{k, d})
			total += d
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	var parts []string
	for i, e := range all {
		if i == 15 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s: %.0f", e.k, e.v))
	}
	b.Logf("%s: %.0f API requests; %s", phase, total, strings.Join(parts, ", "))
}

// wlDeployment is the manifest of one benchmark Deployment.
func wlDeployment(name string, replicas int, image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: default
spec:
  replicas: %[2]d
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
      - name: web
        image: %[3]s
        resources:
          requests: {cpu: 10m, memory: 16Mi}
`, name, replicas, image)
}

// wlWriteDeployments writes n Deployments into dir, ten per subdirectory
// (so that -R matters), and returns their names.
func wlWriteDeployments(b *testing.B, dir string, n, replicas int, image string) []string {
	b.Helper()
	var names []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("app-%03d", i)
		sub := filepath.Join(dir, fmt.Sprintf("group-%d", i/10))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, name+".yaml"), []byte(wlDeployment(name, replicas, image)), 0o644); err != nil {
			b.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

// wlWatch keeps the current objects of a watch (by UID) from a revision on.
type wlWatch[T any, PT client.Object[T]] struct {
	mu      sync.Mutex
	objs    map[string]PT
	changed chan struct{}
	err     error
}

// wlFollow watches res from its current revision until the benchmark ends.
func wlFollow[T any, PT client.Object[T]](b *testing.B, res *client.Resource[T, PT]) *wlWatch[T, PT] {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	_, lm, err := res.List(ctx, client.ListOptions{Limit: 1})
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	if lm.Continue != "" {
		cancel()
		b.Fatal("the benchmark's objects exist before it starts")
	}
	ch, err := res.RetryWatch(ctx, client.ListOptions{ResourceVersion: lm.ResourceVersion})
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	w := &wlWatch[T, PT]{objs: map[string]PT{}, changed: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range ch {
			w.mu.Lock()
			switch ev.Type {
			case meta.Bookmark:
			case meta.Error:
				if w.err == nil {
					w.err = fmt.Errorf("watch %s: %v", res.GVR().Resource, ev.Status)
				}
			case meta.Deleted:
				delete(w.objs, ev.Object.GetObjectMeta().UID)
			default:
				w.objs[ev.Object.GetObjectMeta().UID] = ev.Object
			}
			close(w.changed)
			w.changed = make(chan struct{})
			w.mu.Unlock()
		}
	}()
	b.Cleanup(func() { cancel(); <-done })
	return w
}

// waitFor waits until cond holds for the watched objects, re-evaluating it
// at every event, and fails the benchmark after timeout.
func (w *wlWatch[T, PT]) waitFor(b *testing.B, timeout time.Duration, what string, cond func(map[string]PT) (bool, string)) {
	b.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		ok, status := cond(w.objs)
		err, changed := w.err, w.changed
		w.mu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			b.Fatalf("%s: not within %s: %s", what, timeout, status)
		}
	}
}

// wlPod is the part of a pod the benchmarks read: decoding less keeps the
// watcher's CPU off the system under test.
type wlPod struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata"`
	Status          struct {
		Phase string `json:"phase"`
	} `json:"status"`
}

// BenchmarkWorkloadW1 is the reference workload (see the top of this
// file): 100 simulated nodes, 50 Deployments x 20 replicas applied with
// `kl apply -R -f DIR` until all 1,000 pods are Running, then all 50 scaled
// to 0 until every pod is gone; the server's RSS and CPU seconds.
func BenchmarkWorkloadW1(b *testing.B) {
	const deployments, replicas = 50, 20
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := wlStartSim(b, false)
		dir := b.TempDir()
		names := wlWriteDeployments(b, dir, deployments, replicas, "nginx:1.27")
		pods := wlFollow(b, client.NewResource[wlPod](wlClient(b, w.url), meta.GroupVersionResource{Version: "v1", Resource: "pods"}, true))
		before, req0 := w.usage(b), wlRequests(b, w.url)

		b.StartTimer()
		start := time.Now()
		w.cli.Must("apply", "-R", "-f", dir)
		applied := time.Since(start)
		pods.waitFor(b, 5*time.Minute, "1,000 pods Running", func(objs map[string]*wlPod) (bool, string) {
			running := 0
			for _, p := range objs {
				if p.Status.Phase == string(corev1.PodRunning) && p.DeletionTimestamp == nil {
					running++
				}
			}
			return running == deployments*replicas, fmt.Sprintf("%d pods, %d Running", len(objs), running)
		})
		up := time.Since(start)
		b.StopTimer()
		atRunning, req1 := w.usage(b), wlRequests(b, w.url)

		b.StartTimer()
		start = time.Now()
		w.cli.Must(append([]string{"scale", "deployment", "--replicas", "0"}, names...)...)
		pods.waitFor(b, 5*time.Minute, "every pod gone", func(objs map[string]*wlPod) (bool, string) {
			return len(objs) == 0, fmt.Sprintf("%d pods left", len(objs))
		})
		down := time.Since(start)
		b.StopTimer()
		after, req2 := w.usage(b), wlRequests(b, w.url)

		b.ReportMetric(up.Seconds(), "s-apply-to-running")
		b.ReportMetric(applied.Seconds(), "s-kl-apply")
		b.ReportMetric(down.Seconds(), "s-scale-to-zero")
		b.ReportMetric(atRunning["server"].rss, "server-RSS-at-1000-MB")
		b.Logf("W1: kl apply %s; 1,000 pods Running %s after it started; all gone %s after kl scale --replicas 0 started",
			applied.Round(time.Millisecond), up.Round(time.Millisecond), down.Round(time.Millisecond))
		w.report(b, []string{"up", "down"}, before, atRunning, after)
		wlLogRequests(b, "up", req0, req1)
		wlLogRequests(b, "down", req1, req2)
	}
}

// BenchmarkWorkloadDeployments100x100 runs each component as its own
// process, applies 100 Deployments x 100 replicas until every Deployment
// is available, then rolls all 100 out to a new image until every rollout
// is complete; it reports both times and each process's CPU seconds and
// RSS (the controller-manager's among them).
func BenchmarkWorkloadDeployments100x100(b *testing.B) {
	const deployments, replicas = 100, 100
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := wlStartSim(b, true, "--capacity", wlCapacity)
		dir := b.TempDir()
		wlWriteDeployments(b, dir, deployments, replicas, "nginx:1.27")
		deploys := wlFollow(b, client.NewResource[appsv1.Deployment](wlClient(b, w.url),
			meta.GroupVersionResource{Group: appsv1.GroupName, Version: appsv1.Version, Resource: "deployments"}, true))
		before, req0 := w.usage(b), wlRequests(b, w.url)
		complete := func(image string) func(map[string]*appsv1.Deployment) (bool, string) {
			return func(objs map[string]*appsv1.Deployment) (bool, string) {
				done := 0
				for _, d := range objs {
					st := &d.Status
					if d.Spec.Template.Spec.Containers[0].Image == image && st.ObservedGeneration >= d.Generation &&
						st.UpdatedReplicas == replicas && st.AvailableReplicas == replicas && st.Replicas == replicas {
						done++
					}
				}
				return done == deployments, fmt.Sprintf("%d of %d Deployments complete", done, deployments)
			}
		}

		b.StartTimer()
		start := time.Now()
		w.cli.Must("apply", "-R", "-f", dir)
		applied := time.Since(start)
		deploys.waitFor(b, 10*time.Minute, "every Deployment available", complete("nginx:1.27"))
		up := time.Since(start)
		b.StopTimer()
		atAvailable, req1 := w.usage(b), wlRequests(b, w.url)

		wlWriteDeployments(b, dir, deployments, replicas, "nginx:1.28")
		b.StartTimer()
		start = time.Now()
		w.cli.Must("apply", "-R", "-f", dir)
		deploys.waitFor(b, 10*time.Minute, "every rolling update complete", complete("nginx:1.28"))
		rolled := time.Since(start)
		b.StopTimer()
		after, req2 := w.usage(b), wlRequests(b, w.url)

		b.ReportMetric(up.Seconds(), "s-apply-to-available")
		b.ReportMetric(applied.Seconds(), "s-kl-apply")
		b.ReportMetric(rolled.Seconds(), "s-rolling-update")
		b.Logf("100x100: kl apply %s; every Deployment available %s after it started; rolling update of all 100 complete in %s",
			applied.Round(time.Millisecond), up.Round(time.Millisecond), rolled.Round(time.Millisecond))
		w.report(b, []string{"up", "rolling update"}, before, atAvailable, after)
		wlLogRequests(b, "up", req0, req1)
		wlLogRequests(b, "rolling update", req1, req2)
	}
}
