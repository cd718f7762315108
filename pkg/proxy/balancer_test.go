package proxy

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// tcpBackend is a loopback TCP server that greets every connection with
// its address and then echoes what it reads.
type tcpBackend struct {
	addr string
	ln   net.Listener
}

func startBackend(t *testing.T) *tcpBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &tcpBackend{addr: ln.Addr().String(), ln: ln}
	var wg sync.WaitGroup
	conns := map[net.Conn]bool{}
	var mu sync.Mutex
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				if _, err := c.Write([]byte(b.addr + "\n")); err != nil {
					return
				}
				buf := make([]byte, 512)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return b
}

// refusedAddr returns a loopback address nothing listens on: connecting
// to it is refused at once.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func realDial(timeout time.Duration) dialFunc {
	d := net.Dialer{Timeout: timeout}
	return func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
}

// greeting reads the backend's greeting from c: the backend's address.
func greeting(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read greeting: %v", err)
	}
	return strings.TrimSpace(line)
}

// dialN makes n connections from client and counts them per backend (by
// the backend's own greeting).
func dialN(t *testing.T, b *balancer, client netip.Addr, n int) (map[string]int, int) {
	t.Helper()
	got := map[string]int{}
	failures := 0
	for range n {
		c, addr, err := b.Dial(context.Background(), client, func(string, error) { failures++ })
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		if g := greeting(t, c); g != addr {
			t.Errorf("Dial said %s, the backend says %s", addr, g)
		}
		c.Close()
		got[addr]++
	}
	return got, failures
}

var clientA = netip.MustParseAddr("10.88.0.10")

func TestBalancerSpreadsConnectionsRoundRobin(t *testing.T) {
	backends := []*tcpBackend{startBackend(t), startBackend(t), startBackend(t)}
	b := newBalancer(realDial(time.Second), nil)
	b.Update([]string{backends[0].addr, backends[1].addr, backends[2].addr})

	got, _ := dialN(t, b, clientA, 30)
	for _, be := range backends {
		if got[be.addr] != 10 {
			t.Errorf("connections per backend = %v, want 10 each", got)
			break
		}
	}
}

func TestBalancerSkipsRefusingBackend(t *testing.T) {
	good1, good2 := startBackend(t), startBackend(t)
	refused := refusedAddr(t)
	b := newBalancer(realDial(time.Second), nil)
	b.Update([]string{good1.addr, refused, good2.addr})

	got, failures := dialN(t, b, clientA, 20)
	if got[refused] != 0 {
		t.Errorf("the refusing backend got %d connections", got[refused])
	}
	if got[good1.addr]+got[good2.addr] != 20 || got[good1.addr] == 0 || got[good2.addr] == 0 {
		t.Errorf("connections per backend = %v, want all 20 spread over the two that accept", got)
	}
	// After its first failure the refusing backend is tried last, so it
	// costs one failed dial, not one per connection.
	if failures != 1 {
		t.Errorf("failed dials = %d, want 1", failures)
	}
}

func TestBalancerSkipsBackendThatTimesOut(t *testing.T) {
	good := startBackend(t)
	const blackhole = "10.255.255.1:80"
	dial := realDial(time.Second)
	b := newBalancer(func(ctx context.Context, addr string) (net.Conn, error) {
		if addr == blackhole { // never answers: the dial times out
			ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return dial(ctx, addr)
	}, nil)
	b.Update([]string{blackhole, good.addr})

	got, _ := dialN(t, b, clientA, 4)
	if got[good.addr] != 4 {
		t.Errorf("connections per backend = %v, want all 4 on %s", got, good.addr)
	}
}

func TestBalancerFailsWhenNoBackendAccepts(t *testing.T) {
	tests := []struct {
		name      string
		addrs     []string
		wantTried int
	}{
		{"no endpoints", nil, 0},
		{"all refuse", []string{refusedAddr(t), refusedAddr(t)}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBalancer(realDial(time.Second), nil)
			b.Update(tt.addrs)
			c, _, err := b.Dial(context.Background(), clientA, nil)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			var all *allFailedError
			switch {
			case tt.wantTried == 0 && !errors.Is(err, errNoEndpoints):
				t.Errorf("err = %v, want errNoEndpoints", err)
			case tt.wantTried > 0 && (!errors.As(err, &all) || all.tried != tt.wantTried || !errors.Is(err, syscall.ECONNREFUSED)):
				t.Errorf("err = %v, want every one of %d endpoints refused", err, tt.wantTried)
			}
		})
	}
}

func TestBalancerClientIPAffinityIsSticky(t *testing.T) {
	backends := []*tcpBackend{startBackend(t), startBackend(t), startBackend(t)}
	now := time.Unix(1_000_000, 0)
	b := newBalancer(realDial(time.Second), func() time.Time { return now })
	b.Update([]string{backends[0].addr, backends[1].addr, backends[2].addr})
	b.SetAffinity(time.Minute)

	clients := []netip.Addr{netip.MustParseAddr("10.88.0.1"), netip.MustParseAddr("10.88.0.2"), netip.MustParseAddr("10.88.0.3")}
	first := map[netip.Addr]string{}
	used := map[string]bool{}
	for _, c := range clients {
		got, _ := dialN(t, b, c, 1)
		for addr := range got {
			first[c] = addr
			used[addr] = true
		}
	}
	if len(used) != 3 {
		t.Errorf("3 new clients went to %d backends, want them spread over 3", len(used))
	}
	for _, c := range clients {
		if got, _ := dialN(t, b, c, 4); got[first[c]] != 4 {
			t.Errorf("client %v first went to %s, then to %v; want it to stick", c, first[c], got)
		}
	}

	// The sticky backend leaves: the client moves, and sticks to the new one.
	c0 := clients[0]
	var rest []string
	for _, be := range backends {
		if be.addr != first[c0] {
			rest = append(rest, be.addr)
		}
	}
	b.Update(rest)
	got, _ := dialN(t, b, c0, 5)
	if len(got) != 1 || got[first[c0]] != 0 {
		t.Errorf("after its backend left, client went to %v, want one other backend", got)
	}

	// A client silent for longer than the timeout is forgotten and
	// balanced again: round-robin moves it each time.
	b.Update([]string{backends[0].addr, backends[1].addr, backends[2].addr})
	got = map[string]int{}
	for range 3 {
		now = now.Add(2 * time.Minute)
		g, _ := dialN(t, b, clients[1], 1)
		for addr := range g {
			got[addr]++
		}
	}
	if len(got) != 3 {
		t.Errorf("a client silent past the timeout went to %v, want round-robin (3 backends)", got)
	}

	// Affinity off: round-robin for everyone.
	b.SetAffinity(0)
	got, _ = dialN(t, b, clients[2], 3)
	if len(got) != 3 {
		t.Errorf("without affinity, client went to %v, want 3 backends", got)
	}
}

func TestBalancerUpdateDrainsRemovedBackends(t *testing.T) {
	old, kept := startBackend(t), startBackend(t)
	b := newBalancer(realDial(time.Second), nil)
	b.Update([]string{old.addr})
	c, addr, err := b.Dial(context.Background(), clientA, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if greeting(t, c) != old.addr || addr != old.addr {
		t.Fatalf("first connection went to %s", addr)
	}

	b.Update([]string{kept.addr})
	got, _ := dialN(t, b, clientA, 4)
	if got[kept.addr] != 4 {
		t.Errorf("new connections went to %v, want all on %s", got, kept.addr)
	}
	// The connection made before the update still works.
	if _, err := c.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	if g := greeting(t, c); g != "ping" {
		t.Errorf("old connection echoed %q, want ping", g)
	}
}

func TestBalancerUpdateKeepsFailureHistory(t *testing.T) {
	good := startBackend(t)
	refused := refusedAddr(t)
	b := newBalancer(realDial(time.Second), nil)
	b.Update([]string{refused, good.addr})
	_, failures := dialN(t, b, clientA, 2)
	extra := startBackend(t)
	b.Update([]string{refused, good.addr, extra.addr})
	_, more := dialN(t, b, clientA, 6)
	if failures+more != 1 {
		t.Errorf("failed dials = %d, want 1: a backend that stays keeps its penalty", failures+more)
	}
	if got := b.Backends(); len(got) != 3 {
		t.Errorf("Backends = %v, want 3", got)
	}
}
