package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Config configures a Client.
type Config struct {
	// Servers are the apiserver base URLs ("https://10.0.0.1:6443"), tried in
	// this order when one cannot be reached. At least one is required.
	Servers []string
	// TLSClientConfig is used for https servers (CA, client certificate).
	TLSClientConfig *tls.Config
	// UserAgent is sent with every request (default "kl").
	UserAgent string
	// Timeout bounds each attempt of a non-streaming request, from sending
	// it to reading the whole response; 0 means no limit beyond the ctx.
	// Watches and other streams are bounded by their ctx only.
	Timeout time.Duration
	// DialTimeout bounds connecting to one server (default 5s).
	DialTimeout time.Duration
	// Logger receives failover messages (default: discard).
	Logger *slog.Logger
	// Transport replaces the default HTTP transport (tests, wrappers).
	// TLSClientConfig and DialTimeout are ignored when it is set.
	Transport http.RoundTripper
}

// Client talks to the kl apiserver over Kubernetes' REST wire protocol. It
// is safe for concurrent use; one Client (one connection pool) should be
// shared by all the callers in a process.
type Client struct {
	servers   []string
	http      *http.Client
	userAgent string
	timeout   time.Duration
	log       *slog.Logger
	preferred atomic.Int32 // index of the server that last answered
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if len(cfg.Servers) == 0 {
		return nil, errors.New("client config: no apiserver URL given")
	}
	c := &Client{
		userAgent: cfg.UserAgent,
		timeout:   cfg.Timeout,
		log:       cfg.Logger,
	}
	for _, s := range cfg.Servers {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("client config: apiserver URL %q: %w", s, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("client config: apiserver URL %q: want http://HOST:PORT or https://HOST:PORT", s)
		}
		c.servers = append(c.servers, strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/"))
	}
	if c.userAgent == "" {
		c.userAgent = "kl"
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	rt := cfg.Transport
	if rt == nil {
		dialTimeout := cfg.DialTimeout
		if dialTimeout <= 0 {
			dialTimeout = 5 * time.Second
		}
		rt = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     cfg.TLSClientConfig,
			TLSHandshakeTimeout: 10 * time.Second,
			// Controllers, the scheduler and kubelets run many requests
			// and long-lived watches against one host at once.
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 128,
			IdleConnTimeout:     90 * time.Second,
		}
	}
	c.http = &http.Client{Transport: rt}
	return c, nil
}

// Servers returns the apiserver URLs, in failover order.
func (c *Client) Servers() []string { return append([]string(nil), c.servers...) }

// Server returns the URL of the apiserver requests go to first: the one
// that last answered.
func (c *Client) Server() string { return c.servers[c.preferred.Load()] }

// Do sends one request and returns the body of a 2xx response. path is the
// URL path ("/api/v1/namespaces/default/pods"); query and body may be nil.
// A non-2xx response is returned as a *meta.APIError carrying the server's
// Status; when no server can be reached the error is an *UnreachableError.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, contentType string, body []byte) ([]byte, error) {
	resp, err := c.DoResponse(ctx, method, path, query, contentType, body)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Response is a 2xx response read whole: its status code, headers and body.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// DoResponse is Do that also returns the status code and headers of the
// response (kl's apiserver says in a header what a server-side apply did).
// Errors are as for Do.
func (c *Client) DoResponse(ctx context.Context, method, path string, query url.Values, contentType string, body []byte) (*Response, error) {
	resp, cancel, err := c.send(ctx, method, path, query, contentType, body, false)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading response from %s: %w", method, path, resp.Request.URL.Host, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, decodeError(resp.StatusCode, data)
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// Stream sends a request whose response is read as a stream (watch, logs)
// and returns the body of a 2xx response; the caller must close it.
// Cancelling ctx ends the stream. Errors are as for Do.
func (c *Client) Stream(ctx context.Context, method, path string, query url.Values) (io.ReadCloser, error) {
	resp, cancel, err := c.send(ctx, method, path, query, "", nil, true)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer cancel()
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return nil, decodeError(resp.StatusCode, data)
	}
	return resp.Body, nil
}

// send tries the servers in turn, starting with the preferred one, and
// returns the first response. The returned cancel must be called once the
// body is read (a no-op for streams, whose lifetime is ctx's).
func (c *Client) send(ctx context.Context, method, path string, query url.Values, contentType string, body []byte, stream bool) (*http.Response, context.CancelFunc, error) {
	n := len(c.servers)
	start := int(c.preferred.Load())
	var failed []ServerError
	for i := range n {
		idx := (start + i) % n
		server := c.servers[idx]
		attemptCtx, cancel := ctx, context.CancelFunc(func() {})
		if !stream && c.timeout > 0 {
			attemptCtx, cancel = context.WithTimeout(ctx, c.timeout)
		}
		req, err := c.newRequest(attemptCtx, server, method, path, query, contentType, body, stream)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		resp, err := c.http.Do(req)
		if err == nil {
			if int(c.preferred.Load()) != idx {
				c.log.Info("using apiserver", "server", server)
				c.preferred.Store(int32(idx))
			}
			return resp, cancel, nil
		}
		cancel()
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		}
		failed = append(failed, ServerError{Server: server, Err: err})
		retry := isDialError(err) || idempotent(method)
		if !retry || i == n-1 {
			break
		}
		c.log.Warn("apiserver unreachable, trying the next one", "server", server, "next", c.servers[(idx+1)%n], "err", describeNetError(err))
	}
	return nil, nil, &UnreachableError{Servers: failed}
}

func (c *Client) newRequest(ctx context.Context, server, method, path string, query url.Values, contentType string, body []byte, stream bool) (*http.Request, error) {
	u := server + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body) // lets the transport replay it on a stale connection
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if stream {
		req.Header.Set("Accept", "application/json, */*")
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req, nil
}

// idempotent reports whether a request may be sent again after a failure
// that may have happened after the server received it. POST (create,
// subresources such as binding) and PATCH (a JSON patch may append) are not.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// isDialError reports whether err happened while connecting, so nothing of
// the request reached the server.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect")
}
