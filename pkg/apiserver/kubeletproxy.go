package apiserver

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
)

// pods/log and pods/exec are the one path from the apiserver to a node
// (DESIGN.md, principle 2): the apiserver looks up the pod, its node, and
// the node's kubelet endpoint (its InternalIP and
// status.daemonEndpoints.kubeletEndpoint.Port), and proxies the request to
// the kubelet server (pkg/kubelet, server.go):
//
//	GET  /api/v1/namespaces/NS/pods/NAME/log?container=&follow=&tailLines=&previous=&timestamps=&sinceSeconds=&sinceTime=&limitBytes=
//	  -> GET  /containerLogs/NS/NAME/CONTAINER?...   streamed back as text/plain, flushed as it comes
//	POST /api/v1/namespaces/NS/pods/NAME/exec?container=&command=CMD&command=ARG...[&stdin=true]
//	  -> POST /exec/NS/NAME/CONTAINER?...            answers {"stdout","stderr","exitCode"} (JSON)
//
// Exec is not interactive (no terminal, no SPDY or WebSocket upgrade): the
// command runs to its end, with the request body as its standard input
// when stdin=true, and the answer carries its output and exit code.
//
// Kubelets are reached over HTTPS with the apiserver's kubelet client
// certificate when Config.KubeletClientCertFile (or KubeletCAFile) is set,
// else over plain HTTP.

// kubeletDialTimeout bounds connecting to a kubelet.
const kubeletDialTimeout = 5 * time.Second

// serveKubeletProxy serves pods/log and pods/exec through the pod's
// kubelet.
func (s *Server) serveKubeletProxy(w http.ResponseWriter, req *http.Request, r *resource, info requestInfo) error {
	var method, path string
	switch info.Subresource {
	case "log":
		if info.Verb != "get" {
			return meta.NewMethodNotAllowed("pods/log supports only GET")
		}
		method, path = http.MethodGet, "/containerLogs/"
	case "exec":
		if info.Verb != "create" {
			return meta.NewMethodNotAllowed("pods/exec supports only POST: kl's exec runs a command to its end and answers with its output and exit code")
		}
		method, path = http.MethodPost, "/exec/"
	}
	ctx := req.Context()
	obj, _, err := s.getObject(ctx, r, info.Namespace, info.Name)
	if err != nil {
		return err
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return meta.NewInternalError(fmt.Errorf("pods/%s of a %T", info.Subresource, obj))
	}
	q := req.URL.Query()
	container, err := podContainer(pod, q.Get("container"))
	if err != nil {
		return err
	}
	var upstream url.Values
	if info.Subresource == "log" {
		upstream, err = podLogQuery(pod.Name, q)
	} else {
		upstream, err = execQuery(q)
	}
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		return meta.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	base, err := s.kubeletURL(req, pod.Spec.NodeName)
	if err != nil {
		return err
	}
	base.Path = path + url.PathEscape(pod.Namespace) + "/" + url.PathEscape(pod.Name) + "/" + url.PathEscape(container)
	base.RawQuery = upstream.Encode()

	tr, err := s.kubeletTransport()
	if err != nil {
		return err
	}
	defer tr.CloseIdleConnections()
	var body io.Reader
	if method == http.MethodPost && upstream.Get("stdin") == "true" {
		body = http.MaxBytesReader(w, req.Body, s.cfg.MaxRequestBodyBytes)
	}
	ureq, err := http.NewRequestWithContext(ctx, method, base.String(), body)
	if err != nil {
		return meta.NewInternalError(err)
	}
	ureq.Header.Set("User-Agent", "kube-apiserver (kl)")
	resp, err := (&http.Client{Transport: tr}).Do(ureq)
	if err != nil {
		if ctx.Err() != nil {
			return nil // the client went away
		}
		return meta.NewStatusError(http.StatusServiceUnavailable, meta.StatusReasonServiceUnavailable,
			fmt.Sprintf("cannot reach the kubelet of node %q at %s: %v%s", pod.Spec.NodeName, base.Host, unwrapURLError(err), kubeletDialHint(err)))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return kubeletError(resp, pod.Spec.NodeName)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	copyFlushing(w, resp.Body)
	return nil
}

// copyFlushing copies a kubelet's answer to the client, flushing each
// piece as it comes so a followed log shows lines at once.
func copyFlushing(w http.ResponseWriter, src io.Reader) {
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// podContainer returns the container a request is about: the one named,
// or the pod's only container; with Kubernetes' messages otherwise.
func podContainer(pod *corev1.Pod, name string) (string, error) {
	names := func(list []corev1.Container) string {
		out := make([]string, len(list))
		for i := range list {
			out[i] = list[i].Name
		}
		return strings.Join(out, " ")
	}
	if name == "" {
		if len(pod.Spec.Containers) == 1 {
			return pod.Spec.Containers[0].Name, nil
		}
		msg := fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", pod.Name, names(pod.Spec.Containers))
		if len(pod.Spec.InitContainers) > 0 {
			msg += fmt.Sprintf(" or one of the init containers: [%s]", names(pod.Spec.InitContainers))
		}
		return "", meta.NewBadRequest(msg)
	}
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return name, nil
			}
		}
	}
	return "", meta.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
}

// podLogQuery checks Kubernetes' PodLogOptions and returns the kubelet's
// query.
func podLogQuery(pod string, q url.Values) (url.Values, error) {
	out := url.Values{}
	var causes []meta.StatusCause
	invalid := func(field, value, msg string) {
		causes = append(causes, meta.StatusCause{Type: "FieldValueInvalid", Field: field, Message: fmt.Sprintf("Invalid value: %s: %s", value, msg)})
	}
	for _, k := range []string{"follow", "previous", "timestamps"} {
		if v := q.Get(k); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, meta.NewBadRequest(fmt.Sprintf("%s: %q is not a boolean", k, v))
			}
			out.Set(k, strconv.FormatBool(b))
		}
	}
	for _, p := range []struct {
		name string
		min  int64
		msg  string
	}{
		{"tailLines", 0, "must be greater than or equal to 0"},
		{"sinceSeconds", 1, "must be greater than 0"},
		{"limitBytes", 1, "must be greater than 0"},
	} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, meta.NewBadRequest(fmt.Sprintf("%s: %q is not an integer", p.name, v))
		}
		if n < p.min {
			invalid(p.name, v, p.msg)
			continue
		}
		out.Set(p.name, strconv.FormatInt(n, 10))
	}
	if v := q.Get("sinceTime"); v != "" {
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return nil, meta.NewBadRequest(fmt.Sprintf("sinceTime: %q is not an RFC 3339 time", v))
		}
		if q.Get("sinceSeconds") != "" {
			causes = append(causes, meta.StatusCause{Type: "FieldValueForbidden", Message: "at most one of `sinceTime` or `sinceSeconds` may be specified"})
		}
		out.Set("sinceTime", v)
	}
	if len(causes) > 0 {
		return nil, meta.NewInvalid("", "PodLogOptions", pod, causes)
	}
	return out, nil
}

// execQuery checks an exec request's parameters and returns the kubelet's
// query.
func execQuery(q url.Values) (url.Values, error) {
	cmd := q["command"]
	if len(cmd) == 0 || cmd[0] == "" {
		return nil, meta.NewBadRequest("you must specify at least one command for the container")
	}
	if v := q.Get("tty"); v != "" {
		if b, err := strconv.ParseBool(v); err != nil || b {
			return nil, meta.NewBadRequest("tty is not supported: kl's exec runs commands without a terminal")
		}
	}
	out := url.Values{"command": cmd}
	if v := q.Get("stdin"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, meta.NewBadRequest(fmt.Sprintf("stdin: %q is not a boolean", v))
		}
		out.Set("stdin", strconv.FormatBool(b))
	}
	return out, nil
}

// kubeletURL returns the base URL of a node's kubelet server.
func (s *Server) kubeletURL(req *http.Request, nodeName string) (*url.URL, error) {
	nodes := s.resources.lookup("", "v1", "nodes")
	obj, _, err := s.getObject(req.Context(), nodes, "", nodeName)
	if meta.IsNotFound(err) {
		return nil, meta.NewStatusError(http.StatusServiceUnavailable, meta.StatusReasonServiceUnavailable,
			fmt.Sprintf("node %q of the pod does not exist: no kubelet to ask", nodeName))
	}
	if err != nil {
		return nil, err
	}
	node, ok := obj.(*corev1.Node)
	if !ok {
		return nil, meta.NewInternalError(fmt.Errorf("node %s is a %T", nodeName, obj))
	}
	ip := corev1.GetNodeAddress(node, corev1.NodeInternalIP)
	port := node.Status.DaemonEndpoints.KubeletEndpoint.Port
	if ip == "" || port <= 0 {
		return nil, meta.NewStatusError(http.StatusServiceUnavailable, meta.StatusReasonServiceUnavailable,
			fmt.Sprintf("node %q does not report where its kubelet listens (an InternalIP address and status.daemonEndpoints.kubeletEndpoint.Port)", nodeName))
	}
	scheme := "http"
	if s.kubeletTLS() {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: net.JoinHostPort(ip, strconv.Itoa(int(port)))}, nil
}

// kubeletTLS reports whether kubelets are reached over HTTPS.
func (s *Server) kubeletTLS() bool {
	c := &s.cfg
	return c.KubeletClientCertFile != "" || c.KubeletCAFile != ""
}

// kubeletTransport returns a transport for one proxied request. It reads
// the certificate files each time, so rotated files are picked up.
func (s *Server) kubeletTransport() (*http.Transport, error) {
	c := &s.cfg
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: kubeletDialTimeout}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		DisableKeepAlives:   true,
	}
	if !s.kubeletTLS() {
		return tr, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.KubeletClientCertFile != "" || c.KubeletClientKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(c.KubeletClientCertFile, c.KubeletClientKeyFile)
		if err != nil {
			return nil, meta.NewInternalError(fmt.Errorf("load the kubelet client certificate: %w", err))
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if c.KubeletCAFile != "" {
		pem, err := os.ReadFile(c.KubeletCAFile)
		if err != nil {
			return nil, meta.NewInternalError(fmt.Errorf("read the kubelet certificate authority: %w", err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, meta.NewInternalError(fmt.Errorf("kubelet certificate authority %s holds no PEM certificate", c.KubeletCAFile))
		}
		tc.RootCAs = pool
	} else {
		// As Kubernetes without --kubelet-certificate-authority: the
		// kubelet's serving certificate (often self-signed) is not
		// verified; the kubelet verifies ours.
		tc.InsecureSkipVerify = true
	}
	tr.TLSClientConfig = tc
	return tr, nil
}

// kubeletError turns a kubelet's failure answer into a Status: the
// kubelet's own Status when it sent one, else one naming the node.
func kubeletError(resp *http.Response, node string) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var st meta.Status
	isStatus := json.Unmarshal(data, &st) == nil && st.Kind == "Status" && st.Message != ""
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		// The kubelet refused the apiserver, not the user: say so rather
		// than pass a 401/403 the user would take for their own.
		msg := strings.TrimSpace(string(data))
		if isStatus {
			msg = st.Message
		}
		return meta.NewStatusError(http.StatusBadGateway, meta.StatusReasonInternalError,
			fmt.Sprintf("the kubelet of node %q refused the apiserver (%s): %s; check the apiserver's --kubelet-client-certificate and the kubelet's --client-ca-file", node, resp.Status, msg))
	}
	if isStatus {
		if st.Code == 0 {
			st.Code = int32(resp.StatusCode)
		}
		return &meta.APIError{Status: st}
	}
	msg := strings.TrimSpace(string(data))
	if msg == "" {
		msg = resp.Status
	}
	if strings.Contains(msg, "HTTP request to an HTTPS server") {
		return meta.NewStatusError(http.StatusBadGateway, meta.StatusReasonInternalError,
			fmt.Sprintf("the kubelet of node %q serves HTTPS: give the apiserver --kubelet-client-certificate and --kubelet-client-key", node))
	}
	code := resp.StatusCode
	if code < 400 {
		code = http.StatusBadGateway
	}
	reason := meta.StatusReasonInternalError
	switch code {
	case http.StatusNotFound:
		reason = meta.StatusReasonNotFound
	case http.StatusBadRequest:
		reason = meta.StatusReasonBadRequest
	}
	return meta.NewStatusError(code, reason, fmt.Sprintf("the kubelet of node %q answered %s: %s", node, resp.Status, msg))
}

// kubeletDialHint explains the usual causes of a failed connection to a
// kubelet that answered: TLS on one side only, or certificates of the
// wrong CA.
func kubeletDialHint(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return " (the kubelet serves plain HTTP: give it --client-ca-file, or drop the apiserver's --kubelet-client-certificate)"
	case strings.Contains(msg, "certificate"):
		return " (the apiserver's --kubelet-client-certificate must be signed by the CA of the kubelet's --client-ca-file, and the kubelet's serving certificate by the apiserver's --kubelet-certificate-authority, if given)"
	}
	return ""
}

// unwrapURLError drops net/http's "Get URL:" prefix from a transport error.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
