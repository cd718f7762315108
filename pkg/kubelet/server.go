package kubelet

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/certs"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// The kubelet server is how the apiserver reaches containers (pods/log and
// pods/exec are proxied to it). Its API, on Config.ServerAddress:
// Config.ServerPort:
//
//	GET  /healthz
//	GET  /containerLogs/{namespace}/{pod}/{container}?follow=&tailLines=&timestamps=&previous=&sinceSeconds=&sinceTime=&limitBytes=
//	POST /exec/{namespace}/{pod}/{container}?command=CMD&command=ARG...[&stdin=true]
//
// containerLogs streams the container's output as text/plain (Kubernetes'
// PodLogOptions: previous is the last terminated attempt of the
// container; with follow the stream stays open, flushed as lines come,
// until the container exits or the client goes). exec runs the command
// without a terminal, the request body as its standard input when
// stdin=true, and answers 200 with an ExecResult in JSON whatever the
// command's exit code. Errors are Kubernetes Status objects with the
// matching HTTP code.
//
// With Config.ClientCAFile the server speaks HTTPS and only the apiserver
// may call it: a client certificate signed by that CA whose CommonName is
// kube-apiserver (/healthz needs none). Otherwise it speaks plain HTTP to
// whoever reaches the node IP, which is only fit for --insecure clusters.

// ExecResult is the response of an exec, from the kubelet and from the
// apiserver's pods/exec: what the command wrote, as text (bytes that are
// not UTF-8 become U+FFFD), and its exit code.
type ExecResult struct {
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	ExitCode int    `json:"exitCode"`
	// Truncated says the output went past MaxExecOutput bytes on stdout or
	// stderr and the rest was dropped.
	Truncated bool `json:"truncated,omitempty"`
}

// MaxExecOutput bounds what an exec returns of stdout and of stderr.
const MaxExecOutput = 4 << 20

// maxExecStdin bounds the standard input an exec accepts.
const maxExecStdin = 4 << 20

// server is the kubelet server (see above).
type server struct {
	k   *Kubelet
	ln  net.Listener
	tls *tls.Config
	log *slog.Logger
}

// newServer loads the TLS configuration and binds the server's address.
func newServer(k *Kubelet) (*server, error) {
	cfg := &k.cfg
	s := &server{k: k, log: k.log.With("component", "kubelet-server")}
	if cfg.ClientCAFile != "" {
		tc, err := serverTLS(cfg)
		if err != nil {
			return nil, err
		}
		s.tls = tc
	}
	addr := net.JoinHostPort(cfg.ServerAddress, strconv.Itoa(cfg.ServerPort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("kubelet server: listen on %s: %w", addr, err)
	}
	s.ln = ln
	return s, nil
}

// serverTLS builds the server's TLS configuration: the certificate of
// TLSCertFile/TLSKeyFile or a self-signed one, and client certificates
// verified against ClientCAFile when given.
func serverTLS(cfg *Config) (*tls.Config, error) {
	caPEM, err := os.ReadFile(cfg.ClientCAFile)
	if err != nil {
		return nil, fmt.Errorf("kubelet server: read client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("kubelet server: client CA file %s holds no PEM certificate", cfg.ClientCAFile)
	}
	var cert tls.Certificate
	if cfg.TLSCertFile != "" {
		if cert, err = tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
			return nil, fmt.Errorf("kubelet server: load serving certificate: %w", err)
		}
	} else if cert, err = selfSignedCert(cfg); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		// /healthz needs no certificate; the handlers check the rest.
		ClientAuth: tls.VerifyClientCertIfGiven,
	}, nil
}

// selfSignedCert makes a serving certificate for the node's name and IP,
// signed by a throw-away CA, as Kubernetes' kubelet does without
// --tls-cert-file. The apiserver accepts it unless it was given
// --kubelet-certificate-authority.
func selfSignedCert(cfg *Config) (tls.Certificate, error) {
	now := time.Now()
	ca, err := certs.NewCA("kl-kubelet-"+cfg.NodeName+"-ca", certs.DefaultValidity, now)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("kubelet server: self-signed certificate: %w", err)
	}
	req := certs.Request{CommonName: cfg.NodeName, Server: true, DNSNames: []string{cfg.NodeName}}
	for _, a := range []string{cfg.NodeIP, cfg.ServerAddress} {
		if ip := net.ParseIP(a); ip != nil && !ip.IsUnspecified() {
			req.IPs = append(req.IPs, ip)
		}
	}
	leaf, key, err := ca.Issue(req, now)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("kubelet server: self-signed certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{leaf.Raw, ca.Cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// port returns the port the server listens on.
func (s *server) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// run serves until ctx is cancelled; open log streams and execs end then.
func (s *server) run(ctx context.Context) error {
	hs := &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	ln := s.ln
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("kubelet server listening", "address", s.ln.Addr().String(), "tls", s.tls != nil)
	select {
	case <-ctx.Done():
		// Streams end with ctx (their requests' base context); what is
		// left gets a moment to finish.
		shutCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := hs.Shutdown(shutCtx); err != nil {
			_ = hs.Close()
		}
		<-errc
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("kubelet server: %w", err)
	}
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.k.healthy(ctx); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", s.authorized(s.serveLogs))
	mux.HandleFunc("POST /exec/{namespace}/{pod}/{container}", s.authorized(s.serveExec))
	mux.HandleFunc("/", s.authorized(func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, meta.NewStatusError(http.StatusNotFound, meta.StatusReasonNotFound,
			fmt.Sprintf("the kubelet serves no %s %s: see GET /containerLogs/NS/POD/CONTAINER and POST /exec/NS/POD/CONTAINER", r.Method, r.URL.Path)))
	}))
	return mux
}

// authorized lets a request through when the server is plain HTTP, or the
// client presented a certificate of the client CA naming the apiserver.
func (s *server) authorized(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.tls != nil {
			if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.PeerCertificates) == 0 {
				writeStatus(w, meta.NewStatusError(http.StatusUnauthorized, meta.StatusReasonUnauthorized,
					"Unauthorized: the kubelet serves logs and exec only to clients with a certificate signed by its client CA"))
				return
			}
			if cn := r.TLS.PeerCertificates[0].Subject.CommonName; cn != certs.UserAPIServer {
				writeStatus(w, meta.NewForbidden(fmt.Sprintf("user %q may not use the kubelet API: only the apiserver (%s) may", cn, certs.UserAPIServer)))
				return
			}
		}
		h(w, r)
	}
}

// target is the container a request is about.
type target struct {
	pod  *corev1.Pod
	node *node
	name string
	// containers are the runtime's containers of that name, newest
	// attempt first.
	containers []*runtime.Container
}

// lookup finds the pod (bound to a node of this kubelet) and the
// runtime's containers of the requested name.
func (s *server) lookup(r *http.Request) (*target, error) {
	ns, podName, name := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	pod, ok := s.k.informer.Lister().Get(ns, podName)
	var n *node
	if ok {
		n = s.k.byName[pod.Spec.NodeName]
	}
	if !ok || n == nil {
		return nil, meta.NewStatusError(http.StatusNotFound, meta.StatusReasonNotFound,
			fmt.Sprintf("pod %q in namespace %q is not running on this kubelet's nodes", podName, ns))
	}
	if !hasContainer(pod, name) {
		return nil, meta.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, podName))
	}
	list, err := n.rt.ListContainers(r.Context(), runtime.ContainerFilter{
		PodUID: pod.UID, Labels: map[string]string{runtime.LabelContainerName: name},
	})
	if err != nil {
		return nil, meta.NewInternalError(fmt.Errorf("list containers: %w", err))
	}
	slices.SortStableFunc(list, func(a, b *runtime.Container) int {
		if a.Attempt != b.Attempt {
			return int(b.Attempt) - int(a.Attempt)
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	return &target{pod: pod, node: n, name: name, containers: list}, nil
}

func hasContainer(pod *corev1.Pod, name string) bool {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return true
			}
		}
	}
	return false
}

// notStarted explains why a container has no logs yet, as Kubernetes'
// kubelet does, from the pod's status.
func (t *target) notStarted() error {
	msg := fmt.Sprintf("container %q in pod %q is waiting to start - no logs yet", t.name, t.pod.Name)
	if cs := apiContainerStatus(t.pod, t.name, isInitContainer(t.pod, t.name)); cs != nil && cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
		switch reason := cs.State.Waiting.Reason; reason {
		case waitErrImagePull:
			msg = fmt.Sprintf("container %q in pod %q is waiting to start: image can't be pulled", t.name, t.pod.Name)
		case waitImagePullBackOff:
			msg = fmt.Sprintf("container %q in pod %q is waiting to start: trying and failing to pull image", t.name, t.pod.Name)
		default:
			msg = fmt.Sprintf("container %q in pod %q is waiting to start: %s", t.name, t.pod.Name, reason)
		}
	}
	return meta.NewBadRequest(msg)
}

// logContainer picks the container whose logs are asked for: the newest
// that has started, or with previous the last terminated attempt before
// it (the newest itself when it has exited and waits to be restarted).
func (t *target) logContainer(previous bool) (*runtime.Container, error) {
	list := t.containers
	started := func(c *runtime.Container) bool { return c.State != runtime.ContainerCreated }
	if !previous {
		for _, c := range list {
			if started(c) {
				return c, nil
			}
		}
		return nil, t.notStarted()
	}
	if len(list) > 0 && list[0].State == runtime.ContainerExited && t.restarting() {
		return list[0], nil
	}
	for _, c := range list[min(1, len(list)):] {
		if c.State == runtime.ContainerExited {
			return c, nil
		}
	}
	return nil, meta.NewBadRequest(fmt.Sprintf("previous terminated container %q in pod %q not found", t.name, t.pod.Name))
}

// restarting reports whether the pod's status shows the container waiting
// for its next attempt (crash loop): its last attempt is then "previous".
func (t *target) restarting() bool {
	cs := apiContainerStatus(t.pod, t.name, isInitContainer(t.pod, t.name))
	return cs != nil && cs.State.Waiting != nil && cs.LastTerminationState.Terminated != nil
}

// logOptions parses the query of a containerLogs request.
func logOptions(q map[string][]string, now time.Time) (runtime.LogOptions, bool, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	var opts runtime.LogOptions
	var errs []string
	boolean := func(k string) bool {
		v := get(k)
		if v == "" {
			return false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %q is not true or false", k, v))
		}
		return b
	}
	integer := func(k string, minimum int64) (int64, bool) {
		v := get(k)
		if v == "" {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < minimum {
			errs = append(errs, fmt.Sprintf("%s: %q must be an integer greater than or equal to %d", k, v, minimum))
			return 0, false
		}
		return n, true
	}
	opts.Follow = boolean("follow")
	opts.Timestamps = boolean("timestamps")
	previous := boolean("previous")
	if n, ok := integer("tailLines", 0); ok {
		opts.TailLines = &n
	}
	if n, ok := integer("limitBytes", 1); ok {
		opts.LimitBytes = n
	}
	since, hasSince := integer("sinceSeconds", 1)
	if hasSince {
		opts.Since = now.Add(-time.Duration(since) * time.Second)
	}
	if v := get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Sprintf("sinceTime: %q is not an RFC 3339 time", v))
		case hasSince:
			errs = append(errs, "at most one of sinceTime or sinceSeconds may be specified")
		default:
			opts.Since = t
		}
	}
	if len(errs) > 0 {
		return opts, false, meta.NewBadRequest("invalid log options: " + strings.Join(errs, "; "))
	}
	return opts, previous, nil
}

func (s *server) serveLogs(w http.ResponseWriter, r *http.Request) {
	opts, previous, err := logOptions(r.URL.Query(), time.Now())
	if err != nil {
		writeStatus(w, err)
		return
	}
	t, err := s.lookup(r)
	if err != nil {
		writeStatus(w, err)
		return
	}
	c, err := t.logContainer(previous)
	if err != nil {
		writeStatus(w, err)
		return
	}
	rc, err := t.node.rt.ContainerLogs(r.Context(), c.ID, opts)
	if err != nil {
		writeStatus(w, runtimeError(fmt.Sprintf("logs of container %q in pod %q", t.name, t.pod.Name), err))
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rcon := http.NewResponseController(w)
	_ = rcon.Flush()
	buf := make([]byte, 32<<10)
	for {
		n, err := rc.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return // the client went away
			}
			if opts.Follow {
				_ = rcon.Flush()
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && r.Context().Err() == nil {
				s.log.Debug("log stream ended", "pod", t.pod.Namespace+"/"+t.pod.Name, "container", t.name, "err", err)
			}
			return
		}
	}
}

func (s *server) serveExec(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cmd := q["command"]
	if len(cmd) == 0 || cmd[0] == "" {
		writeStatus(w, meta.NewBadRequest("you must specify at least one command for the container"))
		return
	}
	var stdin io.Reader
	if v := q.Get("stdin"); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			writeStatus(w, meta.NewBadRequest(fmt.Sprintf("stdin: %q is not true or false", v)))
			return
		}
		if on {
			data, err := io.ReadAll(io.LimitReader(r.Body, maxExecStdin+1))
			if err != nil {
				writeStatus(w, meta.NewBadRequest(fmt.Sprintf("reading standard input: %v", err)))
				return
			}
			if len(data) > maxExecStdin {
				writeStatus(w, meta.NewStatusError(http.StatusRequestEntityTooLarge, meta.StatusReasonRequestEntityTooLarge,
					fmt.Sprintf("standard input of an exec is limited to %d bytes", maxExecStdin)))
				return
			}
			stdin = bytes.NewReader(data)
		}
	}
	t, err := s.lookup(r)
	if err != nil {
		writeStatus(w, err)
		return
	}
	if len(t.containers) == 0 || t.containers[0].State != runtime.ContainerRunning {
		state := "it has not started"
		if len(t.containers) > 0 {
			state = "it is " + string(t.containers[0].State)
		}
		writeStatus(w, meta.NewBadRequest(fmt.Sprintf("cannot exec in container %q of pod %q: %s", t.name, t.pod.Name, state)))
		return
	}
	stdout, stderr := &cappedBuffer{max: MaxExecOutput}, &cappedBuffer{max: MaxExecOutput}
	code, err := t.node.rt.Exec(r.Context(), t.containers[0].ID, runtime.ExecOptions{Cmd: cmd, Stdin: stdin, Stdout: stdout, Stderr: stderr})
	if err != nil {
		writeStatus(w, runtimeError(fmt.Sprintf("exec in container %q of pod %q", t.name, t.pod.Name), err))
		return
	}
	res := ExecResult{
		Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: code,
		Truncated: stdout.truncated || stderr.truncated,
	}
	data, err := json.Marshal(res)
	if err != nil {
		writeStatus(w, meta.NewInternalError(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(data, '\n'))
}

// runtimeError maps a runtime failure to a Status.
func runtimeError(what string, err error) error {
	if errors.Is(err, runtime.ErrNotFound) {
		return meta.NewStatusError(http.StatusNotFound, meta.StatusReasonNotFound, fmt.Sprintf("%s: %v", what, err))
	}
	return meta.NewInternalError(fmt.Errorf("%s: %w", what, err))
}

// cappedBuffer keeps the first max bytes written and drops the rest.
type cappedBuffer struct {
	bytes.Buffer
	max       int
	truncated bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.Len()
	if len(p) > room {
		b.truncated = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// writeStatus writes err as a Kubernetes Status.
func writeStatus(w http.ResponseWriter, err error) {
	var ae *meta.APIError
	if !errors.As(err, &ae) {
		ae = meta.NewInternalError(err)
	}
	st := ae.Status
	st.Kind, st.APIVersion, st.Status = "Status", "v1", meta.StatusFailure
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	data, _ := json.Marshal(st)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(st.Code))
	_, _ = w.Write(append(data, '\n'))
}
