package resource

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// fakeDiscovery serves discovery documents from a map and counts requests.
type fakeDiscovery struct {
	docs  map[string]string
	calls int
	fail  error
}

func (f *fakeDiscovery) Do(_ context.Context, method, path string, _ url.Values, _ string, _ []byte) ([]byte, error) {
	f.calls++
	if f.fail != nil {
		return nil, f.fail
	}
	doc, ok := f.docs[path]
	if !ok {
		return nil, meta.NewNotFound("", "paths", path)
	}
	return []byte(doc), nil
}

func newFakeDiscovery() *fakeDiscovery {
	return &fakeDiscovery{docs: map[string]string{
		"/apis": `{"kind":"APIGroupList","groups":[
			{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}},
			{"name":"coordination.k8s.io","versions":[{"groupVersion":"coordination.k8s.io/v1","version":"v1"}],"preferredVersion":{"groupVersion":"coordination.k8s.io/v1","version":"v1"}}]}`,
		"/api/v1": `{"kind":"APIResourceList","groupVersion":"v1","resources":[
			{"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","shortNames":["po"],"categories":["all"]},
			{"name":"pods/status","singularName":"","namespaced":true,"kind":"Pod"},
			{"name":"services","singularName":"service","namespaced":true,"kind":"Service","shortNames":["svc"],"categories":["all"]},
			{"name":"nodes","singularName":"node","namespaced":false,"kind":"Node","shortNames":["no"]},
			{"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace","shortNames":["ns"]},
			{"name":"endpoints","singularName":"endpoints","namespaced":true,"kind":"Endpoints","shortNames":["ep"]},
			{"name":"events","singularName":"event","namespaced":true,"kind":"Event","shortNames":["ev"]}]}`,
		"/apis/apps/v1": `{"kind":"APIResourceList","groupVersion":"apps/v1","resources":[
			{"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment","shortNames":["deploy"],"categories":["all"]},
			{"name":"deployments/scale","singularName":"","namespaced":true,"kind":"Scale","group":"autoscaling","version":"v1"},
			{"name":"replicasets","singularName":"replicaset","namespaced":true,"kind":"ReplicaSet","shortNames":["rs"]}]}`,
		"/apis/coordination.k8s.io/v1": `{"kind":"APIResourceList","groupVersion":"coordination.k8s.io/v1","resources":[
			{"name":"leases","singularName":"lease","namespaced":true,"kind":"Lease"}]}`,
	}}
}

func TestResolver_ResolvesEveryNameFormCaseInsensitively(t *testing.T) {
	r := NewResolver(newFakeDiscovery())
	deploy := Mapping{GVR: meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, Kind: "Deployment", Namespaced: true}
	pods := Mapping{GVR: meta.GroupVersionResource{Version: "v1", Resource: "pods"}, Kind: "Pod", Namespaced: true}
	nodes := Mapping{GVR: meta.GroupVersionResource{Version: "v1", Resource: "nodes"}, Kind: "Node"}
	leases := Mapping{GVR: meta.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}, Kind: "Lease", Namespaced: true}
	for arg, want := range map[string]Mapping{
		"deployments": deploy, "deployment": deploy, "deploy": deploy, "Deployment": deploy, "DEPLOY": deploy,
		"deployments.apps": deploy, "deployment.apps": deploy, "deploy.apps": deploy, "deployments.v1.apps": deploy,
		"pods": pods, "pod": pods, "po": pods, "Pod": pods, "pods.": Mapping{},
		"no": nodes, "nodes": nodes,
		"leases.coordination.k8s.io": leases, "lease": leases,
	} {
		got, err := r.Resolve(context.Background(), arg)
		if want == (Mapping{}) {
			if err == nil {
				t.Errorf("Resolve(%q) = %v, want an error", arg, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %v, %v; want %v", arg, got, err, want)
		}
	}
}

func TestResolver_ReadsDiscoveryOnce(t *testing.T) {
	d := newFakeDiscovery()
	r := NewResolver(d)
	for _, arg := range []string{"po", "svc", "deploy", "rs"} {
		if _, err := r.Resolve(context.Background(), arg); err != nil {
			t.Fatal(err)
		}
	}
	if d.calls != 4 { // /apis, /api/v1, /apis/apps/v1, /apis/coordination.k8s.io/v1
		t.Errorf("discovery requests = %d, want 4", d.calls)
	}
	ms, err := r.Mappings(context.Background())
	if err != nil || len(ms) != 9 {
		t.Errorf("Mappings() = %d mappings, %v; want 9 (subresources excluded)", len(ms), err)
	}
}

func TestResolver_UnknownTypeUsesKubectlWordingAndSuggests(t *testing.T) {
	r := NewResolver(newFakeDiscovery())
	for arg, want := range map[string]string{
		"widgets":     `the server doesn't have a resource type "widgets"`,
		"pdos":        `the server doesn't have a resource type "pdos" (did you mean "pods"?)`,
		"deploymnets": `the server doesn't have a resource type "deploymnets" (did you mean "deployments"?)`,
		"svcs":        `the server doesn't have a resource type "svcs" (did you mean "services"?)`,
		"pods.batch":  `the server doesn't have a resource type "pods.batch"`,
	} {
		_, err := r.Resolve(context.Background(), arg)
		var ute *UnknownTypeError
		if !errors.As(err, &ute) || err.Error() != want {
			t.Errorf("Resolve(%q) error = %v, want %q", arg, err, want)
		}
	}
}

func TestResolver_DiscoveryFailureIsReportedAndNotCached(t *testing.T) {
	d := newFakeDiscovery()
	d.fail = errors.New("connection refused")
	r := NewResolver(d)
	if _, err := r.Resolve(context.Background(), "pods"); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("got %v, want the discovery error", err)
	}
	d.fail = nil
	if _, err := r.Resolve(context.Background(), "pods"); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestResolver_ForKind(t *testing.T) {
	r := NewResolver(newFakeDiscovery())
	m, err := r.ForKind(context.Background(), "apps/v1", "Deployment")
	if err != nil || m.GVR.Resource != "deployments" {
		t.Errorf("ForKind(apps/v1, Deployment) = %v, %v", m, err)
	}
	if _, err := r.ForKind(context.Background(), "v1", "Deployment"); err == nil {
		t.Errorf("ForKind(v1, Deployment) succeeded, want an error")
	}
}

func TestParseArgs_Forms(t *testing.T) {
	tests := []struct {
		args    []string
		want    []Selection
		wantErr string
	}{
		{args: []string{"pods"}, want: []Selection{{Type: "pods"}}},
		{args: []string{"pods", "a", "b"}, want: []Selection{{Type: "pods", Names: []string{"a", "b"}}}},
		{args: []string{"deploy,svc"}, want: []Selection{{Type: "deploy"}, {Type: "svc"}}},
		{args: []string{"deploy,svc", "web"}, want: []Selection{{Type: "deploy", Names: []string{"web"}}, {Type: "svc", Names: []string{"web"}}}},
		{args: []string{"pod/a", "svc/web", "pod/b"}, want: []Selection{{Type: "pod", Names: []string{"a", "b"}}, {Type: "svc", Names: []string{"web"}}}},
		{args: nil, wantErr: "you must specify the type of resource"},
		{args: []string{"pods", "pod/a"}, wantErr: "no need to specify a resource type as a separate argument"},
		{args: []string{"pod/a", "b"}, wantErr: "must have a single resource and name"},
		{args: []string{"pod/"}, wantErr: "must have a single resource and name"},
		{args: []string{"pods,,svc"}, wantErr: "empty resource type"},
	}
	for _, tt := range tests {
		got, err := ParseArgs(tt.args)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseArgs(%q) = %v, %v; want error %q", tt.args, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseArgs(%q) = %#v, %v; want %#v", tt.args, got, err, tt.want)
		}
	}
}

func TestResolveArgs_MergesAliasesOfOneResource(t *testing.T) {
	r := NewResolver(newFakeDiscovery())
	got, err := r.ResolveArgs(context.Background(), []string{"po,pods,svc", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Mapping.Kind != "Pod" || got[1].Mapping.Kind != "Service" || !reflect.DeepEqual(got[0].Names, []string{"a"}) {
		t.Errorf("got %+v, want pods [a] and services [a]", got)
	}
}

func TestMapping_TypeAndRef(t *testing.T) {
	deploy := Mapping{GVR: meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, Kind: "Deployment"}
	pod := Mapping{GVR: meta.GroupVersionResource{Version: "v1", Resource: "pods"}, Kind: "Pod"}
	if got := deploy.Ref("web"); got != "deployment.apps/web" {
		t.Errorf("Ref = %q", got)
	}
	if got := pod.Ref("web-1"); got != "pod/web-1" {
		t.Errorf("Ref = %q", got)
	}
	if got := deploy.APIVersion(); got != "apps/v1" {
		t.Errorf("APIVersion = %q", got)
	}
}

func TestFormatError(t *testing.T) {
	if got := FormatError(meta.NewNotFound("", "pods", "x")); got != `Error from server (NotFound): pods "x" not found` {
		t.Errorf("got %q", got)
	}
	if got := FormatError(errors.New("boom")); got != "error: boom" {
		t.Errorf("got %q", got)
	}
}

func TestResolveArgs_CategoryAllExpands(t *testing.T) {
	r := NewResolver(newFakeDiscovery())
	got, err := r.ResolveArgs(context.Background(), []string{"all,svc"})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, tg := range got {
		kinds = append(kinds, tg.Mapping.Kind)
	}
	if !reflect.DeepEqual(kinds, []string{"Pod", "Service", "Deployment"}) {
		t.Errorf("all,svc resolved to %v, want [Pod Service Deployment]", kinds)
	}
	if _, err := r.ResolveArgs(context.Background(), []string{"everything"}); err == nil {
		t.Errorf("an unknown category resolved")
	}
}
