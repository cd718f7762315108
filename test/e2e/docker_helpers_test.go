package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	klclient "github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker"
	"github.com/kl-dev/kl/test/e2e/framework"
	"github.com/kl-dev/kl/test/images"
)

// This file holds what the Docker tests (docker_test.go) share: the
// engine and the test images, clusters of `kl server --runtime docker`
// (and `kl agent`) processes whose containers are removed when the test
// ends, the example application of examples/hello, and readers of pods,
// endpoints and containers.

// Deadlines of the Docker tests: generous, for a loaded 2-core machine.
// The polls end as soon as their condition holds.
const (
	dockerStartTimeout = 2 * time.Minute
	dockerPollInterval = 200 * time.Millisecond
	// dockerHTTPTimeout bounds one request to a pod or a NodePort.
	dockerHTTPTimeout = 5 * time.Second
)

// dockerEngine is the engine the tests use, with the test images loaded;
// made once for the test binary by requireDocker.
var dockerEngine struct {
	once sync.Once
	cli  *client.Client
	err  error
}

// requireDocker skips the test when this machine has no Docker Engine
// socket; otherwise it returns a client of the engine, once the test images
// (kl.test/echo:1 and :2) are present in it (they are built locally, see
// package images, and kept between runs).
func requireDocker(t *testing.T) *client.Client {
	t.Helper()
	if os.Getenv("DOCKER_HOST") == "" {
		if _, err := os.Stat("/var/run/docker.sock"); err != nil {
			t.Skipf("no Docker Engine: /var/run/docker.sock: %v (the Docker tests need one)", err)
		}
	}
	dockerEngine.once.Do(func() {
		cli, err := client.New(client.FromEnv)
		if err != nil {
			dockerEngine.err = fmt.Errorf("docker engine client: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := images.Ensure(ctx, cli, images.Echo1, images.Echo2); err != nil {
			dockerEngine.err = fmt.Errorf("test images: %w", err)
			return
		}
		dockerEngine.cli = cli
	})
	if dockerEngine.err != nil {
		t.Fatal(dockerEngine.err)
	}
	return dockerEngine.cli
}

// randomName returns prefix followed by 6 random hex digits: node names
// unique to this run, so that the tests never touch the containers of
// another kl on the same engine (the runtime labels everything with
// kl.node=NAME and sees only its own).
func randomName(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// nodeContainers lists the engine's containers of node (sandboxes and app
// containers, running or not), sorted by name.
func nodeContainers(ctx context.Context, cli *client.Client, node string) ([]dockerContainer, error) {
	f := make(client.Filters).Add("label", docker.LabelManaged+"=true", docker.LabelNode+"="+node)
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("docker ps --filter label=%s=%s: %w", docker.LabelNode, node, err)
	}
	out := make([]dockerContainer, 0, len(res.Items))
	for _, c := range res.Items {
		name := ""
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, dockerContainer{
			ID: c.ID, Name: name, State: string(c.State),
			Type: c.Labels[docker.LabelType], Pod: c.Labels[runtime.LabelPodName],
			Namespace: c.Labels[runtime.LabelPodNamespace], Container: c.Labels[runtime.LabelContainerName],
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// dockerContainer is what `docker ps` says of one of kl's containers.
type dockerContainer struct {
	ID, Name, State string
	// Type is "sandbox" or "container"; Pod, Namespace and Container come
	// from the kl.pod.* and kl.container.* labels.
	Type, Pod, Namespace, Container string
}

// removeNodeContainersAtEnd registers a cleanup that force-removes every
// container of the nodes (what a killed kubelet leaves behind) and fails
// the test if any is left. Register it before starting the processes, so
// that it runs after they are killed.
func removeNodeContainersAtEnd(t *testing.T, cli *client.Client, nodes ...string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for _, node := range nodes {
			if err := removeNodeContainers(ctx, cli, node); err != nil {
				t.Errorf("cleanup of node %s: %v", node, err)
			}
		}
	})
}

// removeNodeContainers force-removes every container of node, app
// containers before sandboxes, and checks that none is left.
func removeNodeContainers(ctx context.Context, cli *client.Client, node string) error {
	cs, err := nodeContainers(ctx, cli, node)
	if err != nil {
		return err
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Type != docker.TypeSandbox && cs[j].Type == docker.TypeSandbox })
	var errs []error
	for _, c := range cs {
		_, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) && !strings.Contains(err.Error(), "already in progress") {
			errs = append(errs, fmt.Errorf("docker rm -f %s: %w", c.Name, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// A removal "already in progress" (the kubelet's own) ends shortly.
	for i := 0; ; i++ {
		left, err := nodeContainers(ctx, cli, node)
		if err != nil {
			return err
		}
		if len(left) == 0 {
			return nil
		}
		if i == 50 {
			return fmt.Errorf("containers left after docker rm -f: %v", containerNames(left))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func containerNames(cs []dockerContainer) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name + "(" + c.State + ")"
	}
	return out
}

// removePodNetworkAtEnd registers a cleanup that removes kl's pod network
// (docker network "kl") if it did not exist when the test started and no
// container uses it any more, so that a run on a fresh engine leaves no
// network behind. Register it before the processes start.
func removePodNetworkAtEnd(t *testing.T, cli *client.Client) {
	t.Helper()
	_, err := cli.NetworkInspect(context.Background(), docker.DefaultNetwork, client.NetworkInspectOptions{})
	if err == nil || !cerrdefs.IsNotFound(err) {
		return // there before us (or unknown): not ours to remove
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		nw, err := cli.NetworkInspect(ctx, docker.DefaultNetwork, client.NetworkInspectOptions{})
		if err != nil || len(nw.Network.Containers) > 0 {
			return // gone, or another kl's pods use it now
		}
		if _, err := cli.NetworkRemove(ctx, docker.DefaultNetwork, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
			t.Logf("cleanup: remove the pod network: %v", err)
		}
	})
}

// dockerClusterConfig describes a dockerCluster.
type dockerClusterConfig struct {
	// noServerNode runs the server with --no-agent (control plane only).
	noServerNode bool
	// serverArgs are more flags of `kl server`.
	serverArgs []string
}

// dockerCluster is one `kl server --insecure --runtime docker` process
// (apiserver, controllers, scheduler and, unless noServerNode, a node
// with a kubelet and a proxy) and the agents that joined it. The server's
// node has a name unique to the test (the runtime labels its containers
// kl.node=NAME). Every process is killed and every container of its nodes
// removed when the test ends.
type dockerCluster struct {
	// t is the test that started the cluster: its processes live until
	// it ends. Subtests pass their own t to the methods.
	t      *testing.T
	docker *client.Client
	// node is the server's node name ("" with noServerNode).
	node   string
	url    string
	server *framework.Process
	kl     *klclient.Client
}

// cliFor returns the kl command-line client of the cluster for test t
// (a subtest's failures are its own).
func (dc *dockerCluster) cliFor(t *testing.T) *framework.CLI {
	return framework.NewCLI(t, klBinary, dc.url)
}

// startDockerCluster starts the server and waits until its node (if any)
// is Ready. The server's proxy serves NodePorts only
// (--proxy-cluster-ip-mode off): ClusterIPs need the machine's one
// kl-svc0 interface, which a test must not take from another kl.
func startDockerCluster(t *testing.T, cfg dockerClusterConfig) *dockerCluster {
	t.Helper()
	cli := requireDocker(t)
	dataDir := t.TempDir()
	dc := &dockerCluster{t: t, docker: cli}
	args := []string{"--runtime", "docker", "--proxy-cluster-ip-mode", "off"}
	if cfg.noServerNode {
		args = append(args, "--no-agent")
	} else {
		dc.node = randomName("e2e-server-")
		args = append(args, "--node-name", dc.node)
		removeNodeContainersAtEnd(t, cli, dc.node)
	}
	removePodNetworkAtEnd(t, cli)
	dc.server, dc.url = framework.Server(t, klBinary, dataDir, append(args, cfg.serverArgs...)...)
	c, err := klclient.New(klclient.Config{Servers: []string{dc.url}, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dc.kl = c
	if dc.node != "" {
		dc.waitNodeReady(t, dc.node)
	}
	return dc
}

func (dc *dockerCluster) pods(ns string) *klclient.Resource[corev1.Pod, *corev1.Pod] {
	return klclient.NewResource[corev1.Pod](dc.kl, meta.GroupVersionResource{Version: "v1", Resource: "pods"}, true).Namespace(ns)
}

func (dc *dockerCluster) endpoints(ns string) *klclient.Resource[corev1.Endpoints, *corev1.Endpoints] {
	return klclient.NewResource[corev1.Endpoints](dc.kl, meta.GroupVersionResource{Version: "v1", Resource: "endpoints"}, true).Namespace(ns)
}

func (dc *dockerCluster) services(ns string) *klclient.Resource[corev1.Service, *corev1.Service] {
	return klclient.NewResource[corev1.Service](dc.kl, meta.GroupVersionResource{Version: "v1", Resource: "services"}, true).Namespace(ns)
}

func (dc *dockerCluster) nodes() *klclient.Resource[corev1.Node, *corev1.Node] {
	return klclient.NewResource[corev1.Node](dc.kl, meta.GroupVersionResource{Version: "v1", Resource: "nodes"}, false)
}

// waitNodeReady waits until node name reports Ready=True.
func (dc *dockerCluster) waitNodeReady(t *testing.T, name string) {
	t.Helper()
	framework.Eventually(t, dockerStartTimeout, dockerPollInterval, "node "+name+" Ready", func() (bool, string) {
		n, err := dc.nodes().Get(context.Background(), name)
		if err != nil {
			return false, err.Error()
		}
		return corev1.IsNodeReady(n), "Ready is " + nodeReadyStatus(n)
	})
}

// listPods lists the pods of ns matching selector.
func (dc *dockerCluster) listPods(ns, selector string) ([]*corev1.Pod, error) {
	pods, _, err := dc.pods(ns).List(context.Background(), klclient.ListOptions{LabelSelector: selector})
	return pods, err
}

// getPod reads one pod, failing the test on an error.
func (dc *dockerCluster) getPod(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	p, err := dc.pods(ns).Get(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// waitPodsReady waits until exactly n pods of ns match selector, none of
// them being deleted, all Running and Ready, each with a pod IP, and every
// one satisfying extra (if not nil); it returns them sorted by name.
func (dc *dockerCluster) waitPodsReady(t *testing.T, ns, selector string, n int, timeout time.Duration, extra func(*corev1.Pod) bool) []*corev1.Pod {
	t.Helper()
	var pods []*corev1.Pod
	framework.Eventually(t, timeout, dockerPollInterval, fmt.Sprintf("%d pods %s Running and Ready", n, selector), func() (bool, string) {
		var err error
		pods, err = dc.listPods(ns, selector)
		if err != nil {
			return false, err.Error()
		}
		ok := 0
		for _, p := range pods {
			if isRunning(p) && corev1.IsPodReady(p) && p.Status.PodIP != "" && (extra == nil || extra(p)) {
				ok++
			}
		}
		return len(pods) == n && ok == n, describePods(pods)
	})
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	return pods
}

// describePods says, per pod, its node, phase, readiness, restarts and the
// state of a container that is not running, for failure messages.
func describePods(pods []*corev1.Pod) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d pods:", len(pods))
	for _, p := range pods {
		fmt.Fprintf(&b, " %s[%s %s ready=%t", p.Name, p.Spec.NodeName, p.Status.Phase, corev1.IsPodReady(p))
		if p.DeletionTimestamp != nil {
			b.WriteString(" deleting")
		}
		for _, cs := range p.Status.ContainerStatuses {
			fmt.Fprintf(&b, " restarts=%d", cs.RestartCount)
			if w := cs.State.Waiting; w != nil {
				fmt.Fprintf(&b, " waiting=%s:%s", w.Reason, w.Message)
			}
		}
		b.WriteString("]")
	}
	return b.String()
}

// containerStatus returns the status of the pod's first container.
func containerStatus(p *corev1.Pod) corev1.ContainerStatus {
	if len(p.Status.ContainerStatuses) == 0 {
		return corev1.ContainerStatus{}
	}
	return p.Status.ContainerStatuses[0]
}

// dockerID returns the engine's container ID of a status's containerID
// ("docker://ID").
func dockerID(cs corev1.ContainerStatus) string {
	_, id, _ := strings.Cut(cs.ContainerID, "://")
	return id
}

// exampleDir is the example application's directory.
const exampleDir = "../../examples/hello"

// exampleNS is the example application's namespace.
const exampleNS = "hello"

// nodePortRE matches the fixed nodePort of the example's front end.
var nodePortRE = regexp.MustCompile(`(?m)^\s*nodePort: \d+\n`)

// copyExample copies examples/hello into a temporary directory for this
// test, with the front end's fixed nodePort removed so that the apiserver
// allocates a free one (a test must not depend on port 30080 being free on
// the machine), and edit applied to each file's text (nil: none). It
// returns the directory.
func copyExample(t *testing.T, edit func(name, text string) string) string {
	t.Helper()
	entries, err := os.ReadDir(exampleDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(exampleDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		text := nodePortRE.ReplaceAllString(string(data), "")
		if edit != nil {
			text = edit(e.Name(), text)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// applyExample applies the example application (`kl apply -R -f`), waits
// until its four pods are Running and Ready and returns the front end's
// allocated nodePort.
func (dc *dockerCluster) applyExample(t *testing.T, dir string) int {
	t.Helper()
	dc.cliFor(t).Must("apply", "-R", "-f", dir)
	dc.waitPodsReady(t, exampleNS, "app=frontend", 2, dockerStartTimeout, nil)
	dc.waitPodsReady(t, exampleNS, "app=backend", 2, dockerStartTimeout, nil)
	svc, err := dc.services(exampleNS).Get(context.Background(), "frontend")
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].NodePort == 0 {
		t.Fatalf("service frontend has ports %+v, want one with a nodePort", svc.Spec.Ports)
	}
	return int(svc.Spec.Ports[0].NodePort)
}

// endpointIPs returns the ready and not-ready addresses of the Endpoints
// ns/name.
func (dc *dockerCluster) endpointIPs(ns, name string) (ready, notReady []string, err error) {
	ep, err := dc.endpoints(ns).Get(context.Background(), name)
	if err != nil {
		return nil, nil, err
	}
	for _, s := range ep.Subsets {
		for _, a := range s.Addresses {
			ready = append(ready, a.IP)
		}
		for _, a := range s.NotReadyAddresses {
			notReady = append(notReady, a.IP)
		}
	}
	slices.Sort(ready)
	slices.Sort(notReady)
	return ready, notReady, nil
}

// httpGet does one GET on a fresh connection and returns the body of a 200
// answer.
func httpGet(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, dockerHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}

// echoHostname returns the hostname the echo server put in its answer
// ("version=V hostname=H path=P").
func echoHostname(body string) string {
	for _, f := range strings.Fields(body) {
		if h, ok := strings.CutPrefix(f, "hostname="); ok {
			return h
		}
	}
	return ""
}

// hostnamesVia sends n requests to url, each on a fresh connection, and
// counts the hostnames that answered; it stops at the first failure.
func hostnamesVia(url string, n int) (map[string]int, error) {
	seen := map[string]int{}
	for range n {
		body, err := httpGet(context.Background(), url)
		if err != nil {
			return seen, err
		}
		seen[echoHostname(body)]++
	}
	return seen, nil
}

// waitHostnames sends n requests to url (see hostnamesVia) until all of
// them are answered and ok holds for the hostnames that answered: the
// proxy applies Endpoints changes shortly after they are made.
func waitHostnames(t *testing.T, url string, n int, what string, ok func(seen map[string]int) bool) map[string]int {
	t.Helper()
	var seen map[string]int
	framework.Eventually(t, 60*time.Second, dockerPollInterval, fmt.Sprintf("%d requests to %s %s", n, url, what), func() (bool, string) {
		var err error
		seen, err = hostnamesVia(url, n)
		if err != nil {
			return false, fmt.Sprintf("answered by %v, then %v", seen, err)
		}
		return ok(seen), fmt.Sprintf("answered by %v", seen)
	})
	return seen
}
