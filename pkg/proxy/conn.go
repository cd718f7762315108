package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// warnEvery limits the warnings about one service port's failing
// connections.
const warnEvery = 10 * time.Second

// accept serves l until it is closed.
func (p *Proxy) accept(ctx context.Context, l *listener) {
	delay := time.Duration(0)
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			// Out of file descriptors and the like: back off, as
			// net/http does, rather than spin.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			p.log.Warn("accept failed", "address", l.addr.String(), "err", err, "retryIn", delay)
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return
			}
			continue
		}
		delay = 0
		p.conns.Go(func() { p.handle(ctx, l, c) })
	}
}

// handle relays one accepted connection to an endpoint of the listener's
// service port.
func (p *Proxy) handle(ctx context.Context, l *listener, c net.Conn) {
	r := l.route.Load()
	sp := r.port
	m := sp.metrics
	m.accepted.Inc()
	m.active.Inc()
	defer m.active.Dec()

	bal := sp.cluster
	if r.local {
		bal = sp.local
	}
	var client netip.Addr
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		client = a.AddrPort().Addr().Unmap()
	}
	b, addr, err := bal.Dial(ctx, client, func(addr string, err error) {
		m.dialFailed.Inc()
		p.log.Debug("endpoint did not accept; trying the next", "service", sp.name, "endpoint", addr, "err", err)
	})
	if err != nil {
		if errors.Is(err, errNoEndpoints) {
			m.noEndpoints.Inc()
		} else {
			m.unreachable.Inc()
		}
		if ctx.Err() == nil {
			p.warnRarely(sp, "connection reset: "+err.Error(), "client", client.String())
		}
		reset(c)
		return
	}
	p.log.Debug("relaying", "service", sp.name, "client", c.RemoteAddr().String(), "endpoint", addr)
	stop := context.AfterFunc(ctx, func() {
		_ = c.Close()
		_ = b.Close()
	})
	defer stop()
	p.relay(c, b, m.bytesIn, m.bytesOut)
}

// warnRarely logs a warning about sp at most once per warnEvery.
func (p *Proxy) warnRarely(sp *servicePort, msg string, args ...any) {
	now := time.Now().UnixNano()
	last := sp.warnAt.Load()
	if now-last < int64(warnEvery) || !sp.warnAt.CompareAndSwap(last, now) {
		return
	}
	p.log.Warn(msg, append([]any{"service", sp.name}, args...)...)
}

// relay copies between the client connection c and the endpoint
// connection b in both directions until both are done, passing on
// half-closes, and then closes both.
func (p *Proxy) relay(c, b net.Conn, in, out prometheus.Counter) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.copyHalf(b, c, in)
	}()
	p.copyHalf(c, b, out)
	<-done
	_ = c.Close()
	_ = b.Close()
}

// copyHalf copies src to dst, counting bytes. At the end of src it
// half-closes dst; on an error it closes both, which also ends the other
// direction.
func (p *Proxy) copyHalf(dst, src net.Conn, counter prometheus.Counter) {
	bp := p.bufs.Get().(*[]byte)
	defer p.bufs.Put(bp)
	buf := *bp
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				_ = src.Close()
				_ = dst.Close()
				return
			}
			counter.Add(float64(n))
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				if cw, ok := dst.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
					return
				}
			}
			_ = src.Close()
			_ = dst.Close()
			return
		}
	}
}

// reset closes c with a TCP reset, as a refused connection would be, so
// the client sees the failure at once rather than an orderly end.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
