package apiserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/storage"
)

// fuzzMethods are the methods FuzzServeHTTP picks from (one byte of input
// chooses); the last two are not served.
var fuzzMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "BREW"}

// fuzzContentTypes are the content types FuzzServeHTTP picks from; a byte
// beyond the list uses the fuzzed string instead.
var fuzzContentTypes = []string{
	"application/json", "application/yaml", mediaJSONPatch, mediaMergePatch, mediaStrategicPatch, mediaApplyPatch,
	"", "text/plain", "application/json; charset=utf-8",
}

// fuzzSeed is one request of the seed corpus.
type fuzzSeed struct {
	method  string
	path    string
	query   string
	ct      string
	body    string
	otherCT string
}

func fuzzMethodIndex(m string) uint8 {
	for i, x := range fuzzMethods {
		if x == m {
			return uint8(i)
		}
	}
	return 0
}

func fuzzCTIndex(ct string) uint8 {
	for i, x := range fuzzContentTypes {
		if x == ct {
			return uint8(i)
		}
	}
	return 255
}

const (
	fuzzCMPath     = "/api/v1/namespaces/default/configmaps"
	fuzzPodPath    = "/api/v1/namespaces/default/pods"
	fuzzDeployPath = "/apis/apps/v1/namespaces/default/deployments"
	fuzzSvcPath    = "/api/v1/namespaces/default/services"
)

var fuzzSeeds = []fuzzSeed{
	{method: "POST", path: fuzzCMPath, ct: "application/json", body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"app":"x"}},"data":{"k":"v"}}`},
	{method: "POST", path: fuzzCMPath, ct: "application/yaml", body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n  k: v\n"},
	{method: "POST", path: fuzzCMPath, query: "dryRun=All", ct: "application/json", body: `{"metadata":{"name":"dry"}}`},
	{method: "POST", path: fuzzCMPath, ct: "application/json", body: `{"metadata":{"name":"a"}} {}`},
	{method: "POST", path: fuzzCMPath, ct: "application/json", body: `[1,2]`},
	{method: "POST", path: fuzzCMPath, ct: "application/json", body: `{"metadata":{"name":"Bad_Name"},"data":{"k":1}}`},
	{method: "POST", path: fuzzCMPath, ct: "application/json", body: `{"kind":"Pod","metadata":{"name":"c"}}`},
	{method: "POST", path: fuzzCMPath, ct: "application/yaml", body: "a: &a [*a, *a]\n"},
	{method: "POST", path: fuzzCMPath, ct: "", otherCT: "application/xml", body: `<x/>`},
	{method: "POST", path: fuzzPodPath, ct: "application/json", body: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80}],"resources":{"limits":{"cpu":"100m","memory":"1Gi"}}}]}}`},
	{method: "POST", path: fuzzPodPath + "/p/binding", ct: "application/json", body: `{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},"target":{"kind":"Node","name":"n1"}}`},
	{method: "PUT", path: fuzzPodPath + "/p/status", ct: "application/json", body: `{"metadata":{"name":"p"},"status":{"phase":"Running"}}`},
	{method: "POST", path: fuzzDeployPath, ct: "application/json", body: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`},
	{method: "PUT", path: fuzzDeployPath + "/d/scale", ct: "application/json", body: `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"d"},"spec":{"replicas":5}}`},
	{method: "PATCH", path: fuzzDeployPath + "/d/scale", ct: mediaMergePatch, body: `{"spec":{"replicas":-1}}`},
	{method: "POST", path: fuzzSvcPath, ct: "application/json", body: `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"NodePort","selector":{"app":"d"},"ports":[{"port":80,"nodePort":30080}]}}`},
	{method: "POST", path: fuzzSvcPath, ct: "application/json", body: `{"metadata":{"name":"s2"},"spec":{"clusterIP":"10.96.0.1","ports":[{"port":80}]}}`},
	{method: "POST", path: "/api/v1/namespaces", ct: "application/json", body: `{"metadata":{"name":"ns1"}}`},
	{method: "POST", path: "/api/v1/nodes", ct: "application/json", body: `{"metadata":{"name":"n1"},"status":{"capacity":{"cpu":"4","pods":"110"}}}`},
	{method: "POST", path: "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", ct: "application/json", body: `{"metadata":{"name":"n1"},"spec":{"holderIdentity":"n1","renewTime":"2024-01-01T00:00:00.000000Z"}}`},
	{method: "PUT", path: fuzzCMPath + "/a", ct: "application/json", body: `{"metadata":{"name":"a","resourceVersion":"1"},"data":{"k":"w"}}`},
	{method: "PUT", path: fuzzCMPath + "/a", ct: "application/json", body: `{"metadata":{"name":"a","resourceVersion":"x"}}`},
	{method: "PUT", path: fuzzCMPath + "/zz", ct: "application/json", body: `{"metadata":{"name":"other"}}`},
	{method: "PATCH", path: fuzzCMPath + "/a", ct: mediaJSONPatch, body: `[{"op":"add","path":"/data/x","value":"y"},{"op":"remove","path":"/metadata/name"}]`},
	{method: "PATCH", path: fuzzCMPath + "/a", ct: mediaJSONPatch, body: `[{"op":"move","from":"/data","path":"/data/x"}]`},
	{method: "PATCH", path: fuzzCMPath + "/a", ct: mediaMergePatch, body: `{"data":{"k":null},"metadata":{"labels":{"l":"v"}}}`},
	{method: "PATCH", path: fuzzCMPath + "/a", ct: mediaStrategicPatch, body: `{"$patch":"replace","metadata":{"name":"a"}}`},
	{method: "PATCH", path: fuzzPodPath + "/p", ct: mediaStrategicPatch, body: `{"spec":{"containers":[{"name":"c","image":"j"},{"name":"c","$patch":"delete"}]}}`},
	{method: "PATCH", path: fuzzCMPath + "/ap", query: "fieldManager=m&force=true", ct: mediaApplyPatch, body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ap\ndata:\n  a: b\n"},
	{method: "PATCH", path: fuzzDeployPath + "/d", query: "fieldManager=m", ct: mediaApplyPatch, body: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":3}}`},
	{method: "PATCH", path: fuzzCMPath + "/a", ct: "", otherCT: "application/apply-patch+yaml; charset=utf-8", body: "{}"},
	{method: "GET", path: fuzzCMPath, query: "labelSelector=app%3Dx,!b&fieldSelector=metadata.name%3Da&limit=1"},
	{method: "GET", path: fuzzCMPath, query: "limit=1&continue=eyJydiI6MSwic3RhcnQiOiJhIn0"},
	{method: "GET", path: fuzzCMPath, query: "continue=%%%&resourceVersion=99999999999999999999"},
	{method: "GET", path: fuzzCMPath, query: "resourceVersion=0&resourceVersionMatch=NotOlderThan&timeoutSeconds=-1"},
	{method: "GET", path: fuzzCMPath, query: "watch=true&resourceVersion=1&allowWatchBookmarks=true"},
	{method: "GET", path: "/api/v1/pods", query: "watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&fieldSelector=spec.nodeName%3Dn1"},
	{method: "GET", path: fuzzCMPath + "/a", otherCT: "application/json;as=Table;v=v1;g=meta.k8s.io"},
	{method: "GET", path: fuzzPodPath, query: "includeObject=Object"},
	{method: "DELETE", path: fuzzCMPath + "/a", ct: "application/json", body: `{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0,"preconditions":{"uid":"x"}}`},
	{method: "DELETE", path: fuzzCMPath + "/b", query: "dryRun=All&propagationPolicy=Foreground"},
	{method: "DELETE", path: fuzzCMPath, query: "labelSelector=app+in+(x)", body: `{"propagationPolicy":"Orphan"}`},
	{method: "DELETE", path: fuzzCMPath + "/b", body: `{"unknown":1}`},
	{method: "PUT", path: "/api/v1/namespaces/ns1/finalize", ct: "application/json", body: `{"metadata":{"name":"ns1"},"spec":{"finalizers":[]}}`},
	{method: "GET", path: "/api/v1/namespaces/default/pods/p/log"},
	{method: "GET", path: "/api/v1/namespaces/../configmaps/a"},
	{method: "GET", path: "/api/v1/namespaces/default/configmaps/a/b/c"},
	{method: "GET", path: "/apis/apps/v1"},
	{method: "GET", path: "/apis"},
	{method: "GET", path: "/api"},
	{method: "GET", path: "/version"},
	{method: "GET", path: "/openapi/v2"},
	{method: "GET", path: "/apis/nope/v9/things"},
	{method: "BREW", path: fuzzCMPath},
	{method: "OPTIONS", path: "/"},
	{method: "HEAD", path: fuzzCMPath + "/a"},
}

// FuzzServeHTTP sends arbitrary methods, paths, queries, content types and
// bodies through Server.ServeHTTP (in-process, memory storage) and checks
// what a client can rely on:
//   - no input makes the server panic or answer 500 (the memory store has
//     no internal failures, so a 500 is a bug);
//   - every error answer is a Status object whose code is the HTTP code;
//   - a refused request (4xx) or a dry run stores nothing: the store's
//     revision does not move;
//   - a watch streams one JSON event per line.
func FuzzServeHTTP(f *testing.F) {
	for _, s := range fuzzSeeds {
		ct := fuzzCTIndex(s.ct)
		other := s.otherCT
		if s.otherCT != "" {
			ct = 255
		}
		f.Add(fuzzMethodIndex(s.method), s.path, s.query, ct, other, []byte(s.body))
	}
	srv := startServer(f).srv  // one server shared by the inputs of one fuzzing process
	var snap map[string]string // the store's content at revision snapRev
	snapRev := int64(-1)
	f.Fuzz(func(t *testing.T, method uint8, path, query string, ctIdx uint8, otherCT string, body []byte) {
		m := fuzzMethods[int(method)%len(fuzzMethods)]
		ct := otherCT
		if int(ctIdx) < len(fuzzContentTypes) {
			ct = fuzzContentTypes[ctIdx]
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req := httptest.NewRequest(m, "/", bytes.NewReader(body))
		req.URL = &url.URL{Path: path, RawQuery: query}
		req.RequestURI = req.URL.RequestURI()
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.Header.Set("Accept", ct)
		info, isResource, _ := parseRequestInfo(req)
		if isResource && (info.Subresource == "log" || info.Subresource == "exec") {
			// pods/log and pods/exec dial a kubelet at the address a node
			// object names; the fuzzer may not make the server dial out.
			t.Skip()
		}
		watch := isResource && info.Verb == "watch"
		timeout := 30 * time.Second
		if watch {
			timeout = 50 * time.Millisecond // a watch streams until its context ends
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req = req.WithContext(ctx)

		before, err := srv.store.CurrentRevision(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if before != snapRev {
			snap, snapRev = fuzzStoreContent(t, srv), before
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		after, err := srv.store.CurrentRevision(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		code := rec.Code
		desc := m + " " + req.URL.RequestURI() + " (" + ct + ")"
		if code >= 500 && code != http.StatusServiceUnavailable && code != http.StatusGatewayTimeout {
			t.Fatalf("%s with body %q: HTTP %d: %s", desc, body, code, rec.Body.Bytes())
		}
		if code >= 400 {
			fuzzCheckStatus(t, desc, code, rec.Body.Bytes())
		}
		// A refused request or a dry run may write and undo bookkeeping
		// (a Service's ClusterIP allocated, then released), but must leave
		// the store's content as it was.
		if after != before && ((code >= 400 && code < 500) || (code < 300 && fuzzDryRun(req.URL))) {
			if d := fuzzDiffContent(snap, fuzzStoreContent(t, srv)); d != "" {
				t.Fatalf("%s with body %q: HTTP %d, but the store changed: %s", desc, body, code, d)
			}
		}
		if watch && code == http.StatusOK {
			fuzzCheckWatch(t, desc, rec.Body.Bytes())
		}
	})
}

// fuzzStoreContent returns every key of the store with its value.
func fuzzStoreContent(t *testing.T, srv *Server) map[string]string {
	t.Helper()
	res, err := srv.store.List(context.Background(), "/", storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]string, len(res.Items))
	for _, kv := range res.Items {
		m[kv.Key] = string(kv.Value)
	}
	return m
}

// fuzzDiffContent names the keys that differ ("" when none do).
func fuzzDiffContent(before, after map[string]string) string {
	var d []string
	for k, v := range after {
		if w, ok := before[k]; !ok {
			d = append(d, "added "+k)
		} else if w != v {
			d = append(d, "changed "+k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			d = append(d, "removed "+k)
		}
	}
	sort.Strings(d)
	return strings.Join(d, ", ")
}

func fuzzDryRun(u *url.URL) bool {
	for _, d := range u.Query()["dryRun"] {
		if d == "All" {
			return true
		}
	}
	return false
}

// fuzzCheckStatus fails unless body is a Status of kind Status with the
// HTTP code.
func fuzzCheckStatus(t *testing.T, desc string, code int, body []byte) {
	t.Helper()
	var st struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
		Status     string `json:"status"`
		Message    string `json:"message"`
		Code       int    `json:"code"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("%s: HTTP %d with a body that is not a Status: %v: %q", desc, code, err, body)
	}
	if st.Kind != "Status" || st.APIVersion != "v1" || st.Status != "Failure" || st.Code != code || st.Message == "" {
		t.Fatalf("%s: HTTP %d with a malformed Status: %s", desc, code, body)
	}
}

// fuzzCheckWatch fails unless every line of a watch answer is an event
// with a known type and an object.
func fuzzCheckWatch(t *testing.T, desc string, body []byte) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		var ev struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("%s: watch line is not JSON: %v: %q", desc, err, sc.Bytes())
		}
		switch ev.Type {
		case "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR":
		default:
			t.Fatalf("%s: watch event of type %q: %q", desc, ev.Type, sc.Bytes())
		}
		if len(ev.Object) == 0 || ev.Object[0] != '{' {
			t.Fatalf("%s: watch event without an object: %q", desc, sc.Bytes())
		}
	}
}
