// Package auth is the apiserver's authentication and authorization: the
// identity of a request comes from its verified client certificate (user =
// CommonName, groups = Organizations), and a small fixed role model decides
// what each identity may do.
//
// The roles (README, "Security"):
//
//   - system:masters may do everything;
//   - kl:viewers may get, list and watch everything except Secrets;
//   - system:kube-controller-manager may do everything its loops need: its
//     garbage collector and namespace controller list and delete every
//     resource, so it may use all verbs on all resources;
//   - system:kube-scheduler reads pods, nodes, namespaces, services and
//     events, binds pods, writes pod status and events, and holds its Lease
//     in kube-system;
//   - system:kube-proxy reads services, endpoints and nodes and writes events;
//   - a node, system:node:NAME in group system:nodes, may (as Kubernetes'
//     node authorizer) read nodes, services, endpoints and namespaces;
//     create and update only its own Node (and its status) and its own
//     Lease in kube-node-lease; watch and list pods bound to it (field
//     selector spec.nodeName=NAME), read, update the status of and delete
//     pods bound to it; read the ConfigMaps and Secrets its pods use; and
//     write events. Nothing else.
package auth

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
)

// User is an authenticated identity.
type User struct {
	Name   string
	Groups []string
}

// Well-known identities and groups.
const (
	GroupMasters          = "system:masters"
	GroupViewers          = "kl:viewers"
	GroupNodes            = "system:nodes"
	NodeUserPrefix        = "system:node:"
	UserControllerManager = "system:kube-controller-manager"
	UserScheduler         = "system:kube-scheduler"
	UserProxy             = "system:kube-proxy"
	UserAPIServer         = "kube-apiserver"
	// UserInsecure is everyone on an --insecure apiserver.
	UserInsecure = "system:insecure"
)

// FromCertificate returns the identity a verified client certificate names.
func FromCertificate(c *x509.Certificate) User {
	return User{Name: c.Subject.CommonName, Groups: slices.Clone(c.Subject.Organization)}
}

// InGroup reports whether u is in group g.
func (u User) InGroup(g string) bool { return slices.Contains(u.Groups, g) }

// NodeName returns the node name of a node identity.
func (u User) NodeName() (string, bool) {
	if !u.InGroup(GroupNodes) || !strings.HasPrefix(u.Name, NodeUserPrefix) {
		return "", false
	}
	return strings.TrimPrefix(u.Name, NodeUserPrefix), true
}

type userKey struct{}

// WithUser returns a context carrying u.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user of a request context.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}

// Attributes describe a request to authorize.
type Attributes struct {
	Verb        string // get list watch create update patch delete deletecollection
	Group       string
	Resource    string
	Subresource string
	Namespace   string
	Name        string
	// FieldSelector of list/watch requests (nodes may only list their pods).
	FieldSelector string
	// NonResourcePath is set for /healthz, /metrics, discovery...
	NonResourcePath string
}

// PodGraph answers what the node authorizer needs to know about pods.
type PodGraph interface {
	// PodNode returns the node a pod is bound to ("" if none or unknown).
	PodNode(ctx context.Context, namespace, name string) string
	// NodeUses reports whether a pod bound to node uses the ConfigMap or
	// Secret (resource "configmaps"/"secrets") namespace/name.
	NodeUses(ctx context.Context, node, resource, namespace, name string) bool
}

// Authorizer decides requests.
type Authorizer struct {
	Pods PodGraph
}

// Decision is an authorization answer; Reason explains a denial.
type Decision struct {
	Allowed bool
	Reason  string
}

func allow() Decision { return Decision{Allowed: true} }

func deny(reason string) Decision { return Decision{Reason: reason} }

var readVerbs = []string{"get", "list", "watch"}

// Authorize decides whether u may make the request a describes.
func (z *Authorizer) Authorize(ctx context.Context, u User, a Attributes) Decision {
	if u.Name == UserInsecure || u.InGroup(GroupMasters) {
		return allow()
	}
	if a.NonResourcePath != "" {
		// Health, version and discovery are open to every authenticated
		// identity; metrics to masters and the components.
		if a.NonResourcePath == "/metrics" && !isComponent(u) {
			return deny("")
		}
		// Profiles show the process's memory: masters only.
		if strings.HasPrefix(a.NonResourcePath, "/debug/") {
			return deny("")
		}
		return allow()
	}
	read := slices.Contains(readVerbs, a.Verb)
	switch {
	case u.Name == UserControllerManager:
		// The garbage collector and the namespace controller act on every
		// resource, Secrets included (to find and delete dependents).
		return allow()
	case u.Name == UserScheduler:
		return z.scheduler(a, read)
	case u.Name == UserProxy:
		if read && oneOf(a.Resource, "services", "endpoints", "nodes") && a.Subresource == "" {
			return allow()
		}
		if a.Resource == "events" && oneOf(a.Verb, "create", "update", "patch") {
			return allow()
		}
		return deny("")
	}
	if node, ok := u.NodeName(); ok {
		return z.node(ctx, node, a, read)
	}
	if u.InGroup(GroupViewers) && read && a.Resource != "secrets" {
		return allow()
	}
	return deny("")
}

func isComponent(u User) bool {
	return oneOf(u.Name, UserControllerManager, UserScheduler, UserProxy, UserAPIServer)
}

func oneOf(s string, set ...string) bool { return slices.Contains(set, s) }

func (z *Authorizer) scheduler(a Attributes, read bool) Decision {
	switch {
	case read && a.Subresource == "" && oneOf(a.Resource, "pods", "nodes", "namespaces", "services", "events", "replicasets", "deployments"):
		return allow()
	case a.Resource == "pods" && a.Subresource == "binding" && a.Verb == "create":
		return allow()
	case a.Resource == "pods" && a.Subresource == "status" && oneOf(a.Verb, "get", "update", "patch"):
		return allow()
	case a.Resource == "events" && oneOf(a.Verb, "create", "update", "patch"):
		return allow()
	case a.Group == "coordination.k8s.io" && a.Resource == "leases" && a.Namespace == "kube-system":
		return allow()
	}
	return deny("")
}

// node is the node authorizer: a node may touch only what its pods need.
func (z *Authorizer) node(ctx context.Context, node string, a Attributes, read bool) Decision {
	switch a.Resource {
	case "nodes":
		if read && a.Subresource == "" {
			return allow()
		}
		// For a create, Name is the name in the request body.
		if a.Name == node && oneOf(a.Verb, "create", "get", "update", "patch") {
			return allow()
		}
		return deny(fmt.Sprintf("can only modify node %q", node))
	case "leases":
		if a.Group == "coordination.k8s.io" && a.Namespace == "kube-node-lease" && a.Name == node &&
			oneOf(a.Verb, "get", "create", "update", "patch") {
			return allow()
		}
		return deny(fmt.Sprintf("can only access lease kube-node-lease/%s", node))
	case "services", "endpoints", "namespaces":
		if read && a.Subresource == "" {
			return allow()
		}
	case "events":
		if oneOf(a.Verb, "create", "update", "patch") {
			return allow()
		}
	case "pods":
		switch {
		case (a.Verb == "list" || a.Verb == "watch") && a.Subresource == "":
			if a.FieldSelector == "spec.nodeName="+node || a.FieldSelector == "spec.nodeName=="+node {
				return allow()
			}
			return deny(fmt.Sprintf("can only list and watch pods with fieldSelector spec.nodeName=%s", node))
		case a.Name != "" && z.Pods != nil && z.Pods.PodNode(ctx, a.Namespace, a.Name) == node:
			switch {
			case a.Subresource == "" && oneOf(a.Verb, "get", "delete"):
				return allow()
			case a.Subresource == "status" && oneOf(a.Verb, "get", "update", "patch"):
				return allow()
			}
		}
		return deny(fmt.Sprintf("can only access pods bound to node %q", node))
	case "configmaps", "secrets":
		if a.Verb == "get" && a.Name != "" && z.Pods != nil && z.Pods.NodeUses(ctx, node, a.Resource, a.Namespace, a.Name) {
			return allow()
		}
		return deny(fmt.Sprintf("no relationship found between node %q and this object", node))
	}
	return deny("")
}

// Forbidden formats Kubernetes' denial message.
func Forbidden(u User, a Attributes, reason string) string {
	if a.NonResourcePath != "" {
		return fmt.Sprintf("forbidden: User %q cannot %s path %q", u.Name, a.Verb, a.NonResourcePath)
	}
	res := a.Resource
	if a.Subresource != "" {
		res += "/" + a.Subresource
	}
	scope := "at the cluster scope"
	if a.Namespace != "" {
		scope = fmt.Sprintf("in the namespace %q", a.Namespace)
	}
	what := res
	if a.Group != "" {
		what = res + "." + a.Group
	}
	subject := what
	if a.Name != "" {
		subject = fmt.Sprintf("%s %q", what, a.Name)
	}
	msg := fmt.Sprintf("%s is forbidden: User %q cannot %s resource %q in API group %q %s", subject, u.Name, a.Verb, res, a.Group, scope)
	if reason != "" {
		msg += ": " + reason
	}
	return msg
}
