package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker"
	"github.com/kl-dev/kl/test/e2e/framework"
	"github.com/kl-dev/kl/test/images"
)

// The Docker tests run `kl server --runtime docker` (and `kl agent`
// processes) with real containers of the locally built test images
// (kl.test/echo:N; see package images) and check what a user sees: the
// example application of examples/hello serving through its NodePort,
// probes taking pods out of Services and restarting containers, logs and
// exec, a rolling update under traffic that drops no request, pods spread
// over several nodes, a restarted kubelet adopting its containers, and a
// lost node's pods moving. They skip when the machine has no Docker
// Engine; they leave no container behind (each node's are removed at the
// end, by their kl.node label).

// TestDockerExampleAppServesAndHeals: the example application comes up as
// real containers (two Deployments of two pods, each pod a sandbox and a
// container on the engine), its NodePort spreads requests over both front
// end pods, kl exec and kl logs -f reach the containers, a failing
// readiness probe takes a pod out of its Service and back in, a failing
// liveness probe and a `docker kill` each get the container restarted, and
// deleting a Deployment removes its containers.
func TestDockerExampleAppServesAndHeals(t *testing.T) {
	dc := startDockerCluster(t, dockerClusterConfig{})
	nodePort := dc.applyExample(t, copyExample(t, nil))
	frontURL := fmt.Sprintf("http://127.0.0.1:%d/", nodePort)
	ctx := context.Background()

	t.Run("every pod is a sandbox and a running container on the engine", func(t *testing.T) {
		pods, err := dc.listPods(exampleNS, "")
		if err != nil {
			t.Fatal(err)
		}
		cs, err := nodeContainers(ctx, dc.docker, dc.node)
		if err != nil {
			t.Fatal(err)
		}
		if len(pods) != 4 || len(cs) != 8 {
			t.Fatalf("%d pods and %d containers of node %s, want 4 and 8 (a sandbox and a container each): %v", len(pods), len(cs), dc.node, containerNames(cs))
		}
		for _, p := range pods {
			id := dockerID(containerStatus(p))
			var sandbox, app bool
			for _, c := range cs {
				if c.Pod != p.Name || c.Namespace != exampleNS || c.State != "running" {
					continue
				}
				sandbox = sandbox || c.Type == docker.TypeSandbox
				app = app || (c.Type == docker.TypeContainer && c.ID == id)
			}
			if !sandbox || !app {
				t.Errorf("pod %s (container %s): running sandbox %t, running container %t; containers: %v", p.Name, id, sandbox, app, containerNames(cs))
			}
		}
	})

	t.Run("the NodePort reaches both front end pods", func(t *testing.T) {
		front := dc.waitPodsReady(t, exampleNS, "app=frontend", 2, dockerStartTimeout, nil)
		waitHostnames(t, frontURL, 10, "answered by both front end pods", func(seen map[string]int) bool {
			return seen[front[0].Name] > 0 && seen[front[1].Name] > 0 && len(seen) == 2
		})
		body, err := httpGet(ctx, frontURL+"cart")
		if err != nil || !strings.HasPrefix(body, "version=1 hostname=frontend-") || !strings.HasSuffix(body, " path=/cart\n") {
			t.Errorf("GET %scart = %q, %v; want the echo server's answer", frontURL, body, err)
		}
	})

	t.Run("kl exec runs a command and passes its exit code through", func(t *testing.T) {
		p := dc.waitPodsReady(t, exampleNS, "app=frontend", 2, dockerStartTimeout, nil)[0]
		if out := dc.cliFor(t).Must("exec", "-n", exampleNS, p.Name, "--", "/echo", "hostname"); strings.TrimSpace(out) != p.Name {
			t.Errorf("kl exec %s -- /echo hostname printed %q, want the pod's name", p.Name, out)
		}
		// The ConfigMap, mounted as files and as environment variables.
		if out := dc.cliFor(t).Must("exec", "-n", exampleNS, p.Name, "--", "/echo", "cat", "/etc/hello/message"); out != "Hello from the kl example." {
			t.Errorf("/etc/hello/message holds %q, want the ConfigMap's message", out)
		}
		env := dc.cliFor(t).Must("exec", "-n", exampleNS, p.Name, "--", "/echo", "env")
		for _, kv := range []string{"PORT=8080", "TERM_DELAY=2s", "BACKEND_URL=http://10.96.200.10:9090/"} {
			if !slices.Contains(strings.Split(env, "\n"), kv) {
				t.Errorf("the container's environment lacks %s:\n%s", kv, env)
			}
		}
		stdout, stderr, err := dc.cliFor(t).Run("exec", "-n", exampleNS, p.Name, "--", "/echo", "exit", "7")
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 7 {
			t.Fatalf("kl exec -- /echo exit 7: %v (stdout %q, stderr %q), want exit code 7", err, stdout, stderr)
		}
		if !strings.Contains(stderr, "command terminated with exit code 7") {
			t.Errorf("kl exec -- /echo exit 7 said %q on stderr, want it to name the exit code", stderr)
		}
	})

	t.Run("kl logs -f streams lines written while it follows", func(t *testing.T) {
		p := dc.waitPodsReady(t, exampleNS, "app=backend", 2, dockerStartTimeout, nil)[0]
		lines := dc.follow(t, "logs", "-f", "-n", exampleNS, p.Name)
		waitForLine(t, lines, "echo version 1 listening on :9090", 30*time.Second)
		// A line written to the container's stdout (the main process's
		// fd 1) by a command run in it arrives in the followed log.
		for i := 1; i <= 2; i++ {
			marker := fmt.Sprintf("marker-%d-%s", i, randomName(""))
			dc.cliFor(t).Must("exec", "-n", exampleNS, p.Name, "--", "/echo", "write", "/proc/1/fd/1", marker)
			waitForLine(t, lines, marker, 30*time.Second)
		}
	})

	t.Run("a failing readiness probe takes the pod out of its Service and back", func(t *testing.T) {
		front := dc.waitPodsReady(t, exampleNS, "app=frontend", 2, dockerStartTimeout, nil)
		sick, other := front[0], front[1]
		sickURL := fmt.Sprintf("http://%s:8080/", sick.Status.PodIP)
		if _, err := httpGet(ctx, sickURL+"fail/readiness"); err != nil {
			t.Fatal(err)
		}
		dc.waitEndpoints(t, exampleNS, "frontend", []string{other.Status.PodIP}, []string{sick.Status.PodIP})
		if p := dc.getPod(t, exampleNS, sick.Name); corev1.IsPodReady(p) || p.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s is %s, ready %t; want Running and not Ready", p.Name, p.Status.Phase, corev1.IsPodReady(p))
		}
		// The proxy applies the change: every request goes to the other pod.
		waitHostnames(t, frontURL, 10, "all answered by "+other.Name, func(seen map[string]int) bool {
			return seen[other.Name] == 10
		})

		if _, err := httpGet(ctx, sickURL+"recover/readiness"); err != nil {
			t.Fatal(err)
		}
		dc.waitEndpoints(t, exampleNS, "frontend", sortedIPs(sick, other), nil)
		waitHostnames(t, frontURL, 10, "reaching "+sick.Name+" again", func(seen map[string]int) bool {
			return seen[sick.Name] > 0 && seen[other.Name] > 0
		})
		if p := dc.getPod(t, exampleNS, sick.Name); containerStatus(p).RestartCount != containerStatus(sick).RestartCount {
			t.Errorf("pod %s restarted (%d restarts) though only its readiness failed", p.Name, containerStatus(p).RestartCount)
		}
	})

	t.Run("a failing liveness probe restarts the container", func(t *testing.T) {
		p := dc.waitPodsReady(t, exampleNS, "app=backend", 2, dockerStartTimeout, nil)[0]
		before := containerStatus(p)
		if _, err := httpGet(ctx, fmt.Sprintf("http://%s:9090/fail/liveness", p.Status.PodIP)); err != nil {
			t.Fatal(err)
		}
		after := dc.waitRestarted(t, p, before)
		if after.LastTerminationState.Terminated == nil {
			t.Errorf("pod %s: no lastState.terminated after the liveness restart: %+v", p.Name, after.LastTerminationState)
		}
		if got := dc.getPod(t, exampleNS, p.Name).Status.PodIP; got != p.Status.PodIP {
			t.Errorf("pod %s changed IP from %s to %s: a container restart keeps the sandbox", p.Name, p.Status.PodIP, got)
		}
	})

	t.Run("a container killed with docker kill is restarted", func(t *testing.T) {
		p := dc.waitPodsReady(t, exampleNS, "app=backend", 2, dockerStartTimeout, nil)[1]
		before := containerStatus(p)
		if _, err := dc.docker.ContainerKill(ctx, dockerID(before), client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
			t.Fatalf("docker kill %s: %v", dockerID(before), err)
		}
		after := dc.waitRestarted(t, p, before)
		if term := after.LastTerminationState.Terminated; term == nil || term.ExitCode != 137 {
			t.Errorf("pod %s: lastState.terminated is %+v, want exit code 137 (SIGKILL)", p.Name, term)
		}
	})

	t.Run("deleting a Deployment removes its containers", func(t *testing.T) {
		dc.cliFor(t).Must("delete", "-n", exampleNS, "deployment", "backend")
		framework.Eventually(t, dockerStartTimeout, dockerPollInterval, "the back end's pods and containers gone", func() (bool, string) {
			pods, err := dc.listPods(exampleNS, "app=backend")
			if err != nil {
				return false, err.Error()
			}
			cs, err := nodeContainers(ctx, dc.docker, dc.node)
			if err != nil {
				return false, err.Error()
			}
			var left []string
			for _, c := range cs {
				if strings.HasPrefix(c.Pod, "backend-") {
					left = append(left, c.Name+"("+c.State+")")
				}
			}
			return len(pods) == 0 && len(left) == 0, fmt.Sprintf("%s; containers %v", describePods(pods), left)
		})
		// The front end is left alone.
		dc.waitPodsReady(t, exampleNS, "app=frontend", 2, dockerStartTimeout, nil)
		cs, err := nodeContainers(ctx, dc.docker, dc.node)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 4 {
			t.Errorf("node %s has containers %v, want the front end's 2 sandboxes and 2 containers", dc.node, containerNames(cs))
		}
	})
}

// TestDockerRollingUpdateUnderTrafficDropsNoRequest: a rolling update of
// the example's front end (maxUnavailable 0, maxSurge 1, readiness probes,
// the echo server answering for TERM_DELAY=2s after SIGTERM) under a
// continuous client loop through its NodePort, on fresh and on kept-alive
// connections, loses no request: a new pod gets traffic once Ready, a
// terminating one is taken out of the Endpoints at once and finishes what
// it was sent, and the proxy skips an endpoint that refuses. Once the
// rollout is over every answer comes from the new version.
func TestDockerRollingUpdateUnderTrafficDropsNoRequest(t *testing.T) {
	dc := startDockerCluster(t, dockerClusterConfig{})
	nodePort := dc.applyExample(t, copyExample(t, nil))
	url := fmt.Sprintf("http://127.0.0.1:%d/", nodePort)
	v2 := copyExample(t, func(name, text string) string {
		if name != "frontend.yaml" {
			return text
		}
		return strings.ReplaceAll(text, "image: "+images.Echo1, "image: "+images.Echo2)
	})

	load := startTraffic(url, 4)
	defer load.stop()
	atLeast := func(n int) {
		t.Helper()
		framework.Eventually(t, 60*time.Second, dockerPollInterval, fmt.Sprintf("%d answers", n), func() (bool, string) {
			return load.count() >= n, load.summary()
		})
	}
	atLeast(100)
	started := time.Now()
	dc.cliFor(t).Must("apply", "-f", filepath.Join(v2, "frontend.yaml"))
	dc.waitPodsReady(t, exampleNS, "app=frontend", 2, dockerStartTimeout, func(p *corev1.Pod) bool {
		return p.Spec.Containers[0].Image == images.Echo2
	})
	done := time.Now()
	atLeast(load.count() + 100)
	load.stop()

	t.Logf("rolling update of the front end: %s under traffic: %s", done.Sub(started).Round(time.Millisecond), load.summary())
	load.mu.Lock()
	defer load.mu.Unlock()
	if len(load.failures) > 0 {
		t.Errorf("%d requests failed during the rolling update", len(load.failures))
	}
	var v2Answers, lateV1 int
	for _, a := range load.answers {
		if a.version == "2" {
			v2Answers++
		} else if a.sent.After(done) {
			lateV1++
		}
	}
	if v2Answers == 0 {
		t.Errorf("no answer came from version 2")
	}
	if lateV1 > 0 {
		t.Errorf("%d requests sent after the rollout ended were answered by version 1", lateV1)
	}
}

// sortedIPs returns the pods' IPs, sorted.
func sortedIPs(pods ...*corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Status.PodIP
	}
	slices.Sort(out)
	return out
}

// waitEndpoints waits until the Endpoints ns/name have exactly the ready
// and not-ready addresses given.
func (dc *dockerCluster) waitEndpoints(t *testing.T, ns, name string, ready, notReady []string) {
	t.Helper()
	framework.Eventually(t, 60*time.Second, dockerPollInterval, fmt.Sprintf("endpoints %s: addresses %v, notReadyAddresses %v", name, ready, notReady), func() (bool, string) {
		r, nr, err := dc.endpointIPs(ns, name)
		if err != nil {
			return false, err.Error()
		}
		return slices.Equal(r, ready) && slices.Equal(nr, notReady), fmt.Sprintf("addresses %v, notReadyAddresses %v", r, nr)
	})
}

// waitRestarted waits until the pod's container has been restarted once
// more than in before (a new container ID) and is running and ready again;
// it returns the new status.
func (dc *dockerCluster) waitRestarted(t *testing.T, p *corev1.Pod, before corev1.ContainerStatus) corev1.ContainerStatus {
	t.Helper()
	var cs corev1.ContainerStatus
	framework.Eventually(t, 90*time.Second, dockerPollInterval, "pod "+p.Name+" restarted and ready", func() (bool, string) {
		got, err := dc.pods(p.Namespace).Get(context.Background(), p.Name)
		if err != nil {
			return false, err.Error()
		}
		cs = containerStatus(got)
		return cs.RestartCount == before.RestartCount+1 && cs.ContainerID != before.ContainerID && cs.Ready && cs.State.Running != nil,
			describePods([]*corev1.Pod{got})
	})
	running, err := nodeContainers(context.Background(), dc.docker, p.Spec.NodeName)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range running {
		if c.ID == dockerID(cs) && c.State != "running" {
			t.Errorf("the engine says the new container %s of %s is %s", c.Name, p.Name, c.State)
		}
	}
	return cs
}

// follow starts `kl args...` (a command that streams, such as logs -f)
// and returns its stdout lines; it is killed when the test ends.
func (dc *dockerCluster) follow(t *testing.T, args ...string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, klBinary, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "KL_SERVER="+dc.url, "KL_CONFIG=", "KL_NAMESPACE=", "KL_CONTEXT=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("stderr of kl %s:\n%s", strings.Join(args, " "), stderr.String())
		}
	})
	return lines
}

// waitForLine reads lines until one equals want.
func waitForLine(t *testing.T, lines <-chan string, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	var seen []string
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended before the line %q; it had %q", want, seen)
			}
			if line == want {
				return
			}
			seen = append(seen, line)
		case <-deadline:
			t.Fatalf("no line %q within %s; lines so far %q", want, timeout, seen)
		}
	}
}

// spreadYAML is a Deployment of 6 echo servers with a readiness probe and
// a NodePort Service (port allocated) in namespace default.
const spreadYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: spread
spec:
  replicas: 6
  selector:
    matchLabels: {app: spread}
  template:
    metadata:
      labels: {app: spread}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: echo
        image: kl.test/echo:1
        imagePullPolicy: Never
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          httpGet: {path: /readyz, port: http}
          periodSeconds: 1
          timeoutSeconds: 2
          failureThreshold: 2
        resources:
          requests: {cpu: 10m, memory: 16Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: spread
spec:
  type: NodePort
  selector: {app: spread}
  ports:
  - {name: http, port: 80, targetPort: http}
`

// TestDockerNodesSpreadPodsAdoptContainersAndReplaceALostNode: three `kl
// agent` nodes, each with its own address (its own network namespace when
// the test runs as root), share the machine's Docker Engine without
// seeing each other's containers. A Deployment's pods spread over all
// three, and the NodePort answers on every node that runs a proxy. An
// agent killed with SIGKILL and started again adopts its running
// containers: same container IDs, no duplicates, restart counts unchanged,
// and it serves exec and probes them again. A node that goes away (agent
// killed, its containers removed, as when a machine is lost) turns
// Ready=Unknown, and its pods are recreated on the other nodes while
// theirs stay.
func TestDockerNodesSpreadPodsAdoptContainersAndReplaceALostNode(t *testing.T) {
	// A short grace period and eviction timeout, but a grace period long
	// enough for an agent's restart (leases renewed every 500ms).
	const grace, eviction = 10 * time.Second, 2 * time.Second
	dc := startDockerCluster(t, dockerClusterConfig{noServerNode: true, serverArgs: []string{
		"--node-monitor-grace-period", grace.String(), "--pod-eviction-timeout", eviction.String(),
	}})
	nn := newDockerNodeNet(t, dc)
	agents := make([]*dockerAgent, 3)
	for i := range agents {
		agents[i] = nn.startAgent(i, "--node-lease-duration", "2s")
	}
	for _, a := range agents {
		dc.waitNodeReady(t, a.name)
	}
	dc.apply(t, "spread", spreadYAML)
	pods := dc.waitPodsReady(t, "default", "app=spread", 6, dockerStartTimeout, nil)
	by := podsByNode(pods)
	for _, a := range agents {
		if len(by[a.name]) == 0 {
			t.Errorf("node %s got none of the 6 pods: %s", a.name, summarizePods(pods))
		}
		dc.checkNodeContainers(t, a.name, by[a.name])
	}
	svc, err := dc.services("default").Get(context.Background(), "spread")
	if err != nil {
		t.Fatal(err)
	}
	nodePort := svc.Spec.Ports[0].NodePort
	dc.checkNodePorts(t, agents, nodePort, pods)

	t.Run("a kubelet killed with SIGKILL adopts its running containers", func(t *testing.T) {
		a := agents[0]
		mine := dc.nodePods(t, "default", "app=spread", a.name)
		if len(mine) == 0 {
			t.Fatalf("no pod on node %s", a.name)
		}
		before := map[string]podState{}
		for _, p := range mine {
			before[p.Name] = stateOf(p)
		}
		containersBefore := dc.checkNodeContainers(t, a.name, mine)

		a.proc.Kill()
		a.start()
		// The new kubelet publishes its new server port and serves exec...
		framework.Eventually(t, dockerStartTimeout, dockerPollInterval, "kl exec through the restarted kubelet", func() (bool, string) {
			out, stderr, err := dc.cliFor(t).Run("exec", mine[0].Name, "--", "/echo", "hostname")
			return err == nil && strings.TrimSpace(out) == mine[0].Name, fmt.Sprintf("%q %q %v", out, stderr, err)
		})
		// ... and probes the pods it adopted.
		ip := mine[0].Status.PodIP
		if _, err := httpGet(context.Background(), "http://"+ip+":8080/fail/readiness"); err != nil {
			t.Fatal(err)
		}
		dc.waitPodReady(t, "default", mine[0].Name, false)
		if _, err := httpGet(context.Background(), "http://"+ip+":8080/recover/readiness"); err != nil {
			t.Fatal(err)
		}
		dc.waitPodReady(t, "default", mine[0].Name, true)

		after := dc.nodePods(t, "default", "app=spread", a.name)
		containersAfter := dc.checkNodeContainers(t, a.name, after)
		if !slices.Equal(containersBefore, containersAfter) {
			t.Errorf("node %s's containers were %v before its kubelet's restart and are %v after", a.name, containersBefore, containersAfter)
		}
		for _, p := range after {
			if want, ok := before[p.Name]; !ok || stateOf(p) != want {
				t.Errorf("pod %s is %+v after the kubelet's restart, was %+v", p.Name, stateOf(p), want)
			}
			delete(before, p.Name)
		}
		for name := range before {
			t.Errorf("pod %s left node %s when its kubelet restarted", name, a.name)
		}
	})

	t.Run("a lost node's pods are recreated on the other nodes", func(t *testing.T) {
		pods := dc.waitPodsReady(t, "default", "app=spread", 6, dockerStartTimeout, nil)
		by := podsByNode(pods)
		// Not agents[0]: without network namespaces its proxy is the only one.
		victim, survivors := agents[1], []*dockerAgent{agents[0], agents[2]}
		if len(by[agents[2].name]) > len(by[victim.name]) {
			victim, survivors = agents[2], []*dockerAgent{agents[0], agents[1]}
		}
		lost, kept := map[string]string{}, map[string]string{}
		for _, p := range pods {
			if p.Spec.NodeName == victim.name {
				lost[p.UID] = p.Name
			} else {
				kept[p.UID] = p.Name
			}
		}
		if len(lost) == 0 {
			t.Fatalf("no pod on %s or %s: %s", agents[1].name, agents[2].name, summarizePods(pods))
		}

		killed := time.Now()
		victim.proc.Kill()
		if err := removeNodeContainers(context.Background(), dc.docker, victim.name); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 90*time.Second, dockerPollInterval, "node "+victim.name+" Ready=Unknown", func() (bool, string) {
			n, err := dc.nodes().Get(context.Background(), victim.name)
			if err != nil {
				return false, err.Error()
			}
			return nodeReadyStatus(n) == string(corev1.ConditionUnknown), "Ready is " + nodeReadyStatus(n)
		})
		notReady := time.Since(killed)
		framework.Eventually(t, 90*time.Second, dockerPollInterval, fmt.Sprintf("the %d pods of %s deleted", len(lost), victim.name), func() (bool, string) {
			pods, err := dc.listPods("default", "app=spread")
			if err != nil {
				return false, err.Error()
			}
			var left []string
			for _, p := range pods {
				if name, ok := lost[p.UID]; ok {
					left = append(left, name)
				}
			}
			return len(left) == 0, fmt.Sprintf("still there: %v", left)
		})
		pods = dc.waitPodsReady(t, "default", "app=spread", 6, dockerStartTimeout, nil)
		t.Logf("node %s lost: Ready=Unknown after %s, its %d pods replaced and all 6 Ready after %s",
			victim.name, notReady.Round(time.Millisecond), len(lost), time.Since(killed).Round(time.Millisecond))
		by = podsByNode(pods)
		if len(by[victim.name]) > 0 {
			t.Errorf("pods %v are on the lost node %s", by[victim.name], victim.name)
		}
		for _, p := range pods {
			delete(kept, p.UID)
		}
		for uid, name := range kept {
			t.Errorf("pod %s (%s) of a healthy node was replaced", name, uid)
		}
		for _, a := range survivors {
			dc.checkNodeContainers(t, a.name, by[a.name])
		}
		dc.checkNodePorts(t, survivors, nodePort, pods)
	})
}

// apply writes text into a file and runs `kl apply -f` on it.
func (dc *dockerCluster) apply(t *testing.T, name, text string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	dc.cliFor(t).Must("apply", "-f", path)
}

// nodePods returns the pods of ns matching selector bound to node.
func (dc *dockerCluster) nodePods(t *testing.T, ns, selector, node string) []*corev1.Pod {
	t.Helper()
	pods, err := dc.listPods(ns, selector)
	if err != nil {
		t.Fatal(err)
	}
	return podsByNode(pods)[node]
}

// waitPodReady waits until the pod's Ready condition is ready.
func (dc *dockerCluster) waitPodReady(t *testing.T, ns, name string, ready bool) {
	t.Helper()
	framework.Eventually(t, 60*time.Second, dockerPollInterval, fmt.Sprintf("pod %s ready=%t", name, ready), func() (bool, string) {
		p, err := dc.pods(ns).Get(context.Background(), name)
		if err != nil {
			return false, err.Error()
		}
		return corev1.IsPodReady(p) == ready, describePods([]*corev1.Pod{p})
	})
}

// checkNodeContainers checks that node's containers on the engine are
// exactly a running sandbox and a running container for each of the
// pods, the container the one the pod's status names; it returns their
// IDs, sorted.
func (dc *dockerCluster) checkNodeContainers(t *testing.T, node string, pods []*corev1.Pod) []string {
	t.Helper()
	cs, err := nodeContainers(context.Background(), dc.docker, node)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	want := map[string]bool{}
	for _, p := range pods {
		want[p.Name] = true
		var sandboxes, apps int
		for _, c := range cs {
			if c.Pod != p.Name || c.State != "running" {
				continue
			}
			switch {
			case c.Type == docker.TypeSandbox:
				sandboxes++
			case c.Type == docker.TypeContainer && c.ID == dockerID(containerStatus(p)):
				apps++
			}
		}
		if sandboxes != 1 || apps != 1 {
			t.Errorf("pod %s on node %s: %d running sandboxes and %d running containers %s, want 1 and 1; the node's containers: %v",
				p.Name, node, sandboxes, apps, dockerID(containerStatus(p)), containerNames(cs))
		}
	}
	for _, c := range cs {
		ids = append(ids, c.ID)
		if !want[c.Pod] {
			t.Errorf("node %s has container %s of pod %q, not one of its pods", node, c.Name, c.Pod)
		}
	}
	if len(cs) != 2*len(pods) {
		t.Errorf("node %s has %d containers for its %d pods, want 2 each: %v", node, len(cs), len(pods), containerNames(cs))
	}
	slices.Sort(ids)
	return ids
}

// checkNodePorts checks that the Service's nodePort answers on the
// address of each agent that runs a proxy (its --node-ip, where its
// proxy listens), from the pods given, and from more than one.
func (dc *dockerCluster) checkNodePorts(t *testing.T, agents []*dockerAgent, nodePort int32, pods []*corev1.Pod) {
	t.Helper()
	names := map[string]bool{}
	for _, p := range pods {
		names[p.Name] = true
	}
	for _, a := range agents {
		if !a.proxy {
			continue
		}
		url := fmt.Sprintf("http://%s:%d/", a.addr, nodePort)
		waitHostnames(t, url, 12, fmt.Sprintf("(node %s) answered by at least 2 of the pods, and only by them", a.name), func(seen map[string]int) bool {
			for h := range seen {
				if !names[h] {
					return false
				}
			}
			return len(seen) >= 2
		})
	}
}
