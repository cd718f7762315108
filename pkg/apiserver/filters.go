package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/auth"
	"github.com/kl-dev/kl/pkg/apiserver/cacher"
)

// This file is what every request passes before its handler: who is
// asking (authentication), may they (authorization), is there room
// (in-flight and watch limits), and the audit record of what happened.

// authenticate returns the identity of a request: everyone is
// UserInsecure on an --insecure server; otherwise the verified client
// certificate names the user. ok is false for a request without one.
func (s *Server) authenticate(req *http.Request) (auth.User, bool) {
	if s.tlsConfig == nil {
		return auth.User{Name: auth.UserInsecure, Groups: []string{auth.GroupMasters}}, true
	}
	if req.TLS == nil || len(req.TLS.VerifiedChains) == 0 || len(req.TLS.PeerCertificates) == 0 {
		return auth.User{}, false
	}
	return auth.FromCertificate(req.TLS.PeerCertificates[0]), true
}

func unauthorized() error {
	return meta.NewStatusError(http.StatusUnauthorized, meta.StatusReasonUnauthorized,
		"Unauthorized: a client certificate signed by the cluster CA is required")
}

// attributes describes a resource request for the authorizer. For creates
// the name comes from the body (a node may register only itself), which is
// read here and put back for the handler.
func (s *Server) attributes(req *http.Request, info requestInfo) (auth.Attributes, error) {
	a := auth.Attributes{
		Verb: info.Verb, Group: info.Group, Resource: info.Resource, Subresource: info.Subresource,
		Namespace: info.Namespace, Name: info.Name, FieldSelector: req.URL.Query().Get("fieldSelector"),
	}
	if info.Verb == "create" && info.Name == "" && req.Body != nil {
		body, err := io.ReadAll(io.LimitReader(req.Body, s.cfg.MaxRequestBodyBytes+1))
		if err != nil {
			return a, meta.NewBadRequest(fmt.Sprintf("reading the request body: %v", err))
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		var peek struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if json.Unmarshal(body, &peek) == nil {
			a.Name = peek.Metadata.Name
		}
	}
	return a, nil
}

// authorize answers 403 with Kubernetes' wording when u may not do a.
func (s *Server) authorize(ctx context.Context, u auth.User, a auth.Attributes) error {
	d := s.authz.Authorize(ctx, u, a)
	if d.Allowed {
		return nil
	}
	e := meta.NewForbidden(auth.Forbidden(u, a, d.Reason))
	e.Status.Details = &meta.StatusDetails{Name: a.Name, Group: a.Group, Kind: a.Resource}
	return e
}

// limits caps concurrent requests (watches apart) and watches per identity.
type limits struct {
	inflight chan struct{}
	maxWatch int

	mu      sync.Mutex
	watches map[string]int
}

func newLimits(maxInflight, maxWatches int) *limits {
	return &limits{inflight: make(chan struct{}, maxInflight), maxWatch: maxWatches, watches: map[string]int{}}
}

func tooMany(msg string) error {
	e := meta.NewStatusError(http.StatusTooManyRequests, meta.StatusReasonTooManyRequests, msg)
	e.Status.Details = &meta.StatusDetails{RetryAfterSeconds: 1}
	return e
}

// acquire takes an in-flight slot; release with the returned func.
func (l *limits) acquire() (func(), error) {
	select {
	case l.inflight <- struct{}{}:
		return func() { <-l.inflight }, nil
	default:
		return nil, tooMany("too many requests in flight, please try again later")
	}
}

// watch counts an open watch of user; release with the returned func.
func (l *limits) watch(user string) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.watches[user] >= l.maxWatch {
		return nil, tooMany(fmt.Sprintf("too many open watches for %q (limit %d)", user, l.maxWatch))
	}
	l.watches[user]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.watches[user]--; l.watches[user] <= 0 {
			delete(l.watches, user)
		}
	}, nil
}

// auditRecord is one line of the audit log.
type auditRecord struct {
	Time      string   `json:"time"`
	User      string   `json:"user"`
	Groups    []string `json:"groups,omitempty"`
	Verb      string   `json:"verb"`
	Group     string   `json:"group,omitempty"`
	Resource  string   `json:"resource,omitempty"`
	Sub       string   `json:"subresource,omitempty"`
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name,omitempty"`
	Path      string   `json:"path,omitempty"`
	Code      int      `json:"code"`
	LatencyMS float64  `json:"latencyMs"`
}

// auditLog appends JSON lines to a file.
type auditLog struct {
	mu sync.Mutex
	f  *os.File
}

func openAuditLog(path string) (*auditLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return &auditLog{f: f}, nil
}

func (l *auditLog) write(r auditRecord) {
	data, err := json.Marshal(r)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.f.Write(append(data, '\n'))
}

func (l *auditLog) close() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}

func (s *Server) audit(start time.Time, u auth.User, info requestInfo, path string, code int) {
	if s.auditLog == nil {
		return
	}
	r := auditRecord{
		Time: start.UTC().Format(time.RFC3339Nano), User: u.Name, Groups: u.Groups, Verb: info.Verb,
		Group: info.Group, Resource: info.Resource, Sub: info.Subresource, Namespace: info.Namespace,
		Name: info.Name, Code: code, LatencyMS: float64(time.Since(start).Microseconds()) / 1000,
	}
	if info.Resource == "" {
		r.Path = path
	}
	s.auditLog.write(r)
}

// podGraph answers the node authorizer from the watch cache.
type podGraph struct{ s *Server }

func (g podGraph) PodNode(_ context.Context, ns, name string) string {
	r := g.s.resources.lookup("", "v1", "pods")
	o, _, ok := g.s.cache.Get(r.keyPrefix(), r.key(ns, name))
	if !ok {
		return ""
	}
	node, _ := o.Fields.Get("spec.nodeName")
	return node
}

func (g podGraph) NodeUses(_ context.Context, node, resource, ns, name string) bool {
	r := g.s.resources.lookup("", "v1", "pods")
	res, err := g.s.cache.List(r.keyPrefix(), r.within(ns), "", 0, func(o *cacher.Object) bool {
		n, _ := o.Fields.Get("spec.nodeName")
		return n == node
	})
	if err != nil {
		return false
	}
	for _, o := range res.Items {
		var pod corev1.Pod
		if json.Unmarshal(o.Data, &pod) != nil {
			continue
		}
		if podReferences(&pod, resource, name) {
			return true
		}
	}
	return false
}

// podReferences reports whether pod uses the ConfigMap or Secret name.
func podReferences(pod *corev1.Pod, resource, name string) bool {
	secret := resource == "secrets"
	for _, v := range pod.Spec.Volumes {
		if secret && v.Secret != nil && v.Secret.SecretName == name {
			return true
		}
		if !secret && v.ConfigMap != nil && v.ConfigMap.Name == name {
			return true
		}
	}
	if secret {
		for _, s := range pod.Spec.ImagePullSecrets {
			if s.Name == name {
				return true
			}
		}
	}
	containers := append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range containers {
		for _, e := range c.EnvFrom {
			if secret && e.SecretRef != nil && e.SecretRef.Name == name {
				return true
			}
			if !secret && e.ConfigMapRef != nil && e.ConfigMapRef.Name == name {
				return true
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if secret && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == name {
				return true
			}
			if !secret && e.ValueFrom.ConfigMapKeyRef != nil && e.ValueFrom.ConfigMapKeyRef.Name == name {
				return true
			}
		}
	}
	return false
}

// nonResourceVerb maps an HTTP method for paths outside the API.
func nonResourceVerb(method string) string {
	return strings.ToLower(method)
}
