package wait_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/wait"
)

var (
	deployments = meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	pods        = meta.GroupVersionResource{Version: "v1", Resource: "pods"}
	services    = meta.GroupVersionResource{Version: "v1", Resource: "services"}
	endpoints   = meta.GroupVersionResource{Version: "v1", Resource: "endpoints"}
)

const (
	deploymentJSON = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,
"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}`
	podJSON     = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}`
	serviceJSON = `{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}`
)

// fixture creates a Deployment, a Pod and a Service, none ready, and
// returns the targets for them.
func fixture(t *testing.T, d *client.Dynamic) []wait.Target {
	t.Helper()
	ctx := context.Background()
	var targets []wait.Target
	for _, o := range []struct {
		gvr         meta.GroupVersionResource
		group, kind string
		name, body  string
		ref         string
	}{
		{deployments, "apps", "Deployment", "web", deploymentJSON, "deployment.apps/web"},
		{pods, "", "Pod", "solo", strings.Replace(podJSON, "%s", "solo", 1), "pod/solo"},
		{services, "", "Service", "web", serviceJSON, "service/web"},
	} {
		obj, err := d.Create(ctx, o.gvr, "default", []byte(o.body), client.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, wait.Target{Ref: o.ref, Group: o.group, Kind: o.kind, Namespace: "default", Name: o.name, Object: obj})
	}
	return targets
}

func patchStatus(t *testing.T, d *client.Dynamic, gvr meta.GroupVersionResource, name, patch string) {
	t.Helper()
	if _, err := d.Patch(context.Background(), gvr, "default", name, client.MergePatchType, []byte(patch), client.PatchOptions{Subresource: "status"}); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// linesWith counts the lines of s that start with prefix.
func linesWith(s, prefix string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// waitFor polls cond (a test-side check of output, not of the system
// under test) for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestWaitFollowsStatusChangesUntilEverythingIsReady(t *testing.T) {
	d := apiservertest.StartClient(t).Dynamic()
	targets := fixture(t, d)
	var out syncBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- wait.Wait(context.Background(), d, targets, wait.Options{Timeout: 30 * time.Second, Out: &out, Interval: time.Hour})
	}()
	// The first report lists what is not ready.
	waitFor(t, "the first report", func() bool { return linesWith(out.String(), "waiting for ") == 3 })
	for _, want := range []string{
		"waiting for deployment.apps/web: 0/2 available, waiting for the controller to see the new spec\n",
		"waiting for pod/solo: not ready: not scheduled yet\n",
		"waiting for service/web: no ready endpoints\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q lacks %q", out.String(), want)
		}
	}
	patchStatus(t, d, deployments, "web", `{"status":{"observedGeneration":1,"replicas":2,"updatedReplicas":2,"readyReplicas":2,"availableReplicas":2}}`)
	waitFor(t, "the deployment to be ready", func() bool { return strings.Contains(out.String(), "deployment.apps/web ready\n") })
	patchStatus(t, d, pods, "solo", `{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}`)
	if _, err := d.Create(context.Background(), endpoints, "default", []byte(`{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"web"},"subsets":[{"addresses":[{"ip":"10.1.0.5"}],"ports":[{"port":80}]}]}`), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Wait did not return")
	}
	for _, want := range []string{"pod/solo ready\n", "service/web ready\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q lacks %q", out.String(), want)
		}
	}
}

func TestWaitTimesOutNamingWhatIsNotReadyAndWhy(t *testing.T) {
	d := apiservertest.StartClient(t).Dynamic()
	targets := fixture(t, d)
	// The deployment's newest pod (created last; the name breaks a tie of
	// the creation times, which have a resolution of a second) crash-loops;
	// the solo pod cannot pull its image.
	for _, name := range []string{"web-a", "web-b"} {
		if _, err := d.Create(context.Background(), pods, "default", []byte(strings.Replace(podJSON, "%s", name, 1)), client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	patchStatus(t, d, pods, "web-b", `{"status":{"phase":"Running","containerStatuses":[{"name":"web","ready":false,"restartCount":3,"image":"nginx","imageID":"","state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}`)
	patchStatus(t, d, pods, "solo", `{"status":{"phase":"Pending","containerStatuses":[{"name":"web","ready":false,"restartCount":0,"image":"nginx","imageID":"","state":{"waiting":{"reason":"ImagePullBackOff"}}}]}}`)
	patchStatus(t, d, deployments, "web", `{"status":{"observedGeneration":1,"replicas":2,"updatedReplicas":2,"readyReplicas":1,"availableReplicas":1}}`)
	// The service is ready.
	if _, err := d.Create(context.Background(), endpoints, "default", []byte(`{"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"web"},"subsets":[{"addresses":[{"ip":"10.1.0.5"}]}]}`), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	err := wait.Wait(context.Background(), d, targets, wait.Options{Timeout: 2 * time.Second, Out: &out, Interval: time.Hour})
	var we *wait.Error
	if !errors.As(err, &we) {
		t.Fatalf("err = %v, want a *wait.Error", err)
	}
	want := "timed out after 2s waiting for 2 of 3 objects to be ready:\n" +
		"  deployment.apps/web: 1/2 available (pod web-b: CrashLoopBackOff)\n" +
		"  pod/solo: not ready: ImagePullBackOff"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	if !strings.Contains(out.String(), "service/web ready\n") {
		t.Errorf("output %q: want service/web ready", out.String())
	}
}

func TestWaitIgnoresWhatHasNothingToWaitFor(t *testing.T) {
	d := apiservertest.StartClient(t).Dynamic()
	headless := `{"apiVersion":"v1","kind":"Service","metadata":{"name":"ext"},"spec":{"ports":[{"port":80}]}}`
	obj, err := d.Create(context.Background(), services, "default", []byte(headless), client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	targets := []wait.Target{
		{Ref: "service/ext", Kind: "Service", Namespace: "default", Name: "ext", Object: obj},
		{Ref: "configmap/cfg", Kind: "ConfigMap", Namespace: "default", Name: "cfg"},
	}
	var out bytes.Buffer
	if err := wait.Wait(context.Background(), d, targets, wait.Options{Timeout: time.Second, Out: &out}); err != nil || out.Len() != 0 {
		t.Errorf("Wait = %v, output %q; want nil and nothing (a service without selector gets no endpoints)", err, out.String())
	}
	if !wait.Waitable("apps", "Deployment") || wait.Waitable("", "ConfigMap") {
		t.Error("Waitable")
	}
}

func TestWaitWithBarsEndsWithEveryObjectShown(t *testing.T) {
	d := apiservertest.StartClient(t).Dynamic()
	targets := fixture(t, d)
	patchStatus(t, d, deployments, "web", `{"status":{"observedGeneration":1,"replicas":2,"updatedReplicas":2,"readyReplicas":2,"availableReplicas":2}}`)
	patchStatus(t, d, pods, "solo", `{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}`)
	var out syncBuffer
	err := wait.Wait(context.Background(), d, targets, wait.Options{Timeout: 2 * time.Second, Out: &out, Bars: true})
	if !wait.IsError(err) {
		t.Fatalf("err = %v, want the service's timeout", err)
	}
	for _, want := range []string{"deployment.apps/web", "ready", "service/web", "no ready endpoints"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bars %q lack %q", out.String(), want)
		}
	}
}

func TestWaitStopsWhenCancelled(t *testing.T) {
	d := apiservertest.StartClient(t).Dynamic()
	targets := fixture(t, d)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	var out syncBuffer
	go func() { errc <- wait.Wait(ctx, d, targets, wait.Options{Out: &out}) }()
	waitFor(t, "the first report", func() bool { return strings.Contains(out.String(), "waiting for") })
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return after cancel")
	}
}
