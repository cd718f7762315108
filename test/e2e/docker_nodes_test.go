package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"

	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker"
	"github.com/kl-dev/kl/test/e2e/framework"
)

// This file gives the multi-node Docker test its nodes: `kl agent`
// processes, each looking like a machine of its own, all sharing this
// machine's Docker Engine.
//
// As root, each agent runs in a network namespace the test creates (`ip
// netns add`), with one veth pair whose host end is a port of kl's pod
// bridge (docker network "kl") and whose namespace end has the node's own
// address, taken from the top of the pod subnet, far above what Docker
// hands out to containers. So each node has its own address, its own
// loopback and its own ports: its kubelet server listens on that address
// (the apiserver reaches it over the bridge for logs and exec), its
// kubelet probes pods from it, and it runs its own proxy, whose NodePorts
// answer on the node's address. The pods themselves are all on the one
// engine's bridge, like a flat pod network spanning machines.
//
// An insecure apiserver listens on loopback only (127.0.0.1 of the host's
// namespace), which a namespace cannot reach; the test relays
// 127.0.0.1:PORT inside each namespace to the apiserver (a listener opened
// in the namespace with setns(2), connections copied both ways), standing
// in for a machine's route to the control plane.
//
// Without root (or without iproute2's ip), the agents share the host's
// network namespace instead, each with --node-ip 127.0.0.N: they have
// distinct addresses (their kubelet servers listen there), but one set of
// ports, so only the first runs a proxy (--no-proxy on the others), whose
// NodePorts answer on its address 127.0.0.10 (and 127.0.0.1).

// dockerNodeNet makes the agents of a multi-node test.
type dockerNodeNet struct {
	dc *dockerCluster
	// netns is true when each agent has its own network namespace.
	netns bool
	// bridge, prefix: the pod network's bridge device and subnet (netns).
	bridge string
	prefix netip.Prefix
	// addrOffset places the agents' addresses (see nodeAddr).
	addrOffset int
	runID      string
}

// dockerAgent is a `kl agent` process and what it takes to start it again.
type dockerAgent struct {
	t    *testing.T
	name string
	// addr is the node's address; proxy is whether it runs a proxy.
	addr  string
	proxy bool
	// command and args start the process (ip netns exec ... kl agent ...).
	command string
	args    []string
	proc    *framework.Process
}

// newDockerNodeNet decides how agents get their own addresses: network
// namespaces when possible, loopback addresses otherwise (logged).
func newDockerNodeNet(t *testing.T, dc *dockerCluster) *dockerNodeNet {
	t.Helper()
	nn := &dockerNodeNet{dc: dc, runID: randomName(""), addrOffset: rand.IntN(200)}
	if err := nn.setupNetns(); err != nil {
		t.Logf("agents share this machine's network namespace with addresses 127.0.0.N (no network namespaces: %v)", err)
		return nn
	}
	nn.netns = true
	t.Logf("each agent runs in its own network namespace on bridge %s (%s)", nn.bridge, nn.prefix)
	return nn
}

// setupNetns checks that network namespaces can be made and finds the pod
// network's bridge (creating the network as the runtime would when it does
// not exist yet).
func (nn *dockerNodeNet) setupNetns() error {
	if os.Geteuid() != 0 {
		return errors.New("not root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("iproute2's ip: %w", err)
	}
	ctx := context.Background()
	cli := nn.dc.docker
	removePodNetworkAtEnd(nn.dc.t, cli)
	nw, err := cli.NetworkInspect(ctx, docker.DefaultNetwork, client.NetworkInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		// As the runtime does on its first pod (setup.go); a concurrent
		// kubelet creating it first is fine.
		subnet := netip.MustParsePrefix(docker.DefaultSubnet)
		_, cerr := cli.NetworkCreate(ctx, docker.DefaultNetwork, client.NetworkCreateOptions{
			Driver: "bridge",
			IPAM:   &network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: subnet}}},
			Labels: map[string]string{docker.LabelManaged: "true"},
		})
		nw, err = cli.NetworkInspect(ctx, docker.DefaultNetwork, client.NetworkInspectOptions{})
		if err != nil {
			return fmt.Errorf("create the pod network: %w", errors.Join(cerr, err))
		}
	}
	if err != nil {
		return fmt.Errorf("inspect the pod network: %w", err)
	}
	if nw.Network.Driver != "bridge" || len(nw.Network.IPAM.Config) == 0 {
		return fmt.Errorf("the pod network %q is not a bridge network with a subnet", docker.DefaultNetwork)
	}
	nn.prefix = nw.Network.IPAM.Config[0].Subnet.Masked()
	if !nn.prefix.Addr().Is4() || nn.prefix.Bits() > 20 {
		return fmt.Errorf("the pod network's subnet %s is too small to take node addresses from", nn.prefix)
	}
	nn.bridge = nw.Network.Options["com.docker.network.bridge.name"]
	if nn.bridge == "" {
		nn.bridge = "br-" + nw.Network.ID[:12]
	}
	return nil
}

// startAgent starts agent number i (0, 1, ...) of the cluster with the
// given extra flags; it does not wait for its node.
func (nn *dockerNodeNet) startAgent(i int, extra ...string) *dockerAgent {
	t := nn.dc.t
	t.Helper()
	a := &dockerAgent{t: t, name: fmt.Sprintf("e2e-agent-%d-%s", i, nn.runID), command: klBinary}
	removeNodeContainersAtEnd(t, nn.dc.docker, a.name)
	server := nn.dc.url
	if nn.netns {
		ns := fmt.Sprintf("kle2e-%s-%d", nn.runID, i)
		addr := nn.nodeAddr(i)
		if err := nn.addNetns(ns, fmt.Sprintf("kl%s%d", nn.runID, i), addr); err != nil {
			t.Fatalf("network namespace of %s: %v", a.name, err)
		}
		a.addr, a.proxy = addr.String(), true
		server = nn.relay(ns)
		a.command = "ip"
		a.args = []string{"netns", "exec", ns, klBinary}
	} else {
		a.addr, a.proxy = fmt.Sprintf("127.0.0.%d", 10+i), i == 0
	}
	a.args = append(a.args, "agent", "--server", server, "--node-name", a.name, "--node-ip", a.addr,
		"--runtime", "docker", "--data-dir", t.TempDir(), "--kubelet-port", "0",
		"--proxy-cluster-ip-mode", "off")
	if !a.proxy {
		a.args = append(a.args, "--no-proxy")
	}
	a.args = append(a.args, extra...)
	a.start()
	return a
}

// start starts the agent's process (again). It lives until the end of
// the test that started the cluster (not of a subtest).
func (a *dockerAgent) start() {
	a.proc = framework.Start(a.t, a.command, a.name, a.args...)
}

// addNetns creates network namespace ns with a veth pair, its host end
// vethPrefix+"h" on the pod bridge and its other end with address addr.
// The namespace, and with it the pair, is deleted when the test ends.
func (nn *dockerNodeNet) addNetns(ns, vethPrefix string, addr netip.Addr) error {
	t := nn.dc.t
	host, peer := vethPrefix+"h", vethPrefix+"n"
	if err := ipCommand("netns", "add", ns); err != nil {
		return err
	}
	t.Cleanup(func() {
		if err := ipCommand("netns", "delete", ns); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	for _, args := range [][]string{
		{"link", "add", host, "type", "veth", "peer", "name", peer, "netns", ns},
		{"link", "set", host, "master", nn.bridge},
		{"link", "set", host, "up"},
		{"-n", ns, "addr", "add", fmt.Sprintf("%s/%d", addr, nn.prefix.Bits()), "dev", peer},
		{"-n", ns, "link", "set", peer, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
	} {
		if err := ipCommand(args...); err != nil {
			return err
		}
	}
	return nil
}

// nodeAddr returns the address of agent i's namespace: near the top of the
// pod subnet (its last /24 when it is larger), which Docker's allocator,
// counting up from the bottom, does not reach; the first is at a random
// offset so that concurrent runs are unlikely to collide.
func (nn *dockerNodeNet) nodeAddr(i int) netip.Addr {
	b := nn.prefix.Addr().As4()
	base := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	last := base | (1<<(32-nn.prefix.Bits()) - 1) // the broadcast address
	a := last - 2 - uint32(nn.addrOffset) - uint32(i)
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
}

// ipCommand runs iproute2's ip.
func ipCommand(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// relay opens 127.0.0.1:PORT in network namespace ns, relays its
// connections to the apiserver until the test ends, and returns the URL
// an agent in ns uses to reach the apiserver.
func (nn *dockerNodeNet) relay(ns string) string {
	t := nn.dc.t
	t.Helper()
	ln, err := listenInNetns("/var/run/netns/"+ns, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen in network namespace %s: %v", ns, err)
	}
	target := strings.TrimPrefix(nn.dc.url, "http://")
	r := &tcpRelay{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.serve()
	t.Cleanup(r.close)
	return fmt.Sprintf("http://%s", ln.Addr())
}

// listenInNetns opens a TCP listener on addr inside the network namespace
// at nsPath: on a thread switched into it with setns(2) and back. A socket
// stays in the namespace it was made in.
func listenInNetns(nsPath, addr string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread stays locked, and Go discards it when this goroutine
		// ends, unless it is back in its own namespace.
		goruntime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			goruntime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer self.Close()
		target, err := os.Open(nsPath)
		if err != nil {
			goruntime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			goruntime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("setns %s: %w", nsPath, err)}
			return
		}
		ln, lerr := net.Listen("tcp", addr)
		if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
			if ln != nil {
				ln.Close()
			}
			ch <- result{err: fmt.Errorf("setns back: %w", err)}
			return
		}
		goruntime.UnlockOSThread()
		ch <- result{ln: ln, err: lerr}
	}()
	r := <-ch
	return r.ln, r.err
}

// tcpRelay copies each connection accepted on ln to a new connection to
// target, both ways.
type tcpRelay struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
}

func (r *tcpRelay) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		if !r.track(c) {
			return
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer r.untrack(c)
			up, err := net.Dial("tcp", r.target)
			if err != nil {
				return
			}
			if !r.track(up) {
				return
			}
			defer r.untrack(up)
			done := make(chan struct{}, 2)
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				if tc, ok := dst.(*net.TCPConn); ok {
					_ = tc.CloseWrite()
				}
				done <- struct{}{}
			}
			go pipe(up, c)
			go pipe(c, up)
			<-done
			<-done
		}()
	}
}

// track remembers an open connection (false, and it is closed, after
// close).
func (r *tcpRelay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		c.Close()
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *tcpRelay) untrack(c net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c.Close()
	delete(r.conns, c)
}

// close stops accepting, closes every relayed connection and waits for
// the relay's goroutines.
func (r *tcpRelay) close() {
	r.mu.Lock()
	r.closed = true
	r.ln.Close()
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}
