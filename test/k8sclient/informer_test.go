package k8sclient

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	clientfeatures "k8s.io/client-go/features"
	clientfeaturestesting "k8s.io/client-go/features/testing"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// requestLog records the query of every request the informers send.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		l.mu.Lock()
		l.reqs = append(l.reqs, req.Method+" "+req.URL.Path+"?"+req.URL.RawQuery)
		l.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

// all returns every recorded request.
func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs...)
}

// gets returns the recorded GETs of path; watches selects those with
// watch=true or those without, and params (k=v) must all be in the query.
func (l *requestLog) gets(path string, watches bool, params ...string) []string {
	var out []string
	for _, r := range l.all() {
		p, q, _ := strings.Cut(r, "?")
		if p != "GET "+path {
			continue
		}
		has := func(kv string) bool { return strings.Contains("&"+q+"&", "&"+kv+"&") }
		ok := has("watch=true") == watches
		for _, kv := range params {
			ok = ok && has(kv)
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// event is one informer notification, reduced to what the test compares.
type event struct {
	typ, name, value string
}

// recorder collects informer notifications on a channel.
type recorder struct {
	ch    chan event
	value func(obj any) string
}

func newRecorder(value func(obj any) string) *recorder {
	return &recorder{ch: make(chan event, 100), value: value}
}

func (r *recorder) handler() cache.ResourceEventHandlerFuncs {
	name := func(obj any) string {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		return obj.(metav1.Object).GetName()
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { r.ch <- event{"add", name(obj), r.value(obj)} },
		UpdateFunc: func(_, obj any) { r.ch <- event{"update", name(obj), r.value(obj)} },
		DeleteFunc: func(obj any) { r.ch <- event{"delete", name(obj), ""} },
	}
}

// expect waits for the next notification and fails unless it is want.
func (r *recorder) expect(t *testing.T, want event) {
	t.Helper()
	select {
	case got := <-r.ch:
		if got != want {
			t.Fatalf("informer event: got %+v, want %+v", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("informer event %+v did not come within 10s", want)
	}
}

// expectNone fails if a notification is already waiting.
func (r *recorder) expectNone(t *testing.T) {
	t.Helper()
	select {
	case got := <-r.ch:
		t.Fatalf("unexpected informer event %+v", got)
	default:
	}
}

// TestSharedInformers runs client-go's SharedInformerFactory on configmaps
// and pods against kl, with the WatchList client (sendInitialEvents=true,
// the default since client-go 1.35) and with the classic list-then-watch:
// both must sync with the objects that already exist, then deliver add,
// update and delete events.
func TestSharedInformers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		watchList bool
	}{
		{"WatchList", true},
		{"ListThenWatch", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clientfeaturestesting.SetFeatureDuringTest(t, clientfeatures.WatchListClient, tc.watchList)
			c := startCluster(t)
			ctx := testContext(t, 25*time.Second)
			ns := createNamespace(t, c, "informers")
			cms := c.client.CoreV1().ConfigMaps(ns)
			pods := c.client.CoreV1().Pods(ns)

			// Objects that exist before the informers start come as adds
			// from the initial list (or the initial events of WatchList).
			if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "before"}, Data: map[string]string{"v": "0"}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := pods.Create(ctx, testPod("before", nil), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			// An object in another namespace must not reach the
			// namespaced informers.
			if _, err := c.client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere"}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}

			log := &requestLog{}
			cfg := rest.CopyConfig(c.config)
			cfg.Wrap(log.wrap)
			// Informers only read, so they keep client-go's default content
			// negotiation (protobuf preferred, JSON accepted).
			cfg.ContentType = ""
			client, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns))
			cmInformer := factory.Core().V1().ConfigMaps()
			podInformer := factory.Core().V1().Pods()
			cmEvents := newRecorder(func(obj any) string { return obj.(*corev1.ConfigMap).Data["v"] })
			podEvents := newRecorder(func(obj any) string { return obj.(*corev1.Pod).Spec.Containers[0].Image })
			cmReg, err := cmInformer.Informer().AddEventHandler(cmEvents.handler())
			if err != nil {
				t.Fatal(err)
			}
			podReg, err := podInformer.Informer().AddEventHandler(podEvents.handler())
			if err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			factory.Start(stop)
			t.Cleanup(func() { close(stop); factory.Shutdown() })
			syncCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if !cache.WaitForCacheSync(syncCtx.Done(), cmReg.HasSynced, podReg.HasSynced) {
				t.Fatalf("informers did not sync within 10s; requests sent: %v", log.all())
			}

			cmEvents.expect(t, event{"add", "before", "0"})
			podEvents.expect(t, event{"add", "before", "nginx:1.27"})
			if got, err := cmInformer.Lister().ConfigMaps(ns).Get("before"); err != nil || got.Data["v"] != "0" {
				t.Fatalf("lister get before: %v %v", got, err)
			}

			// Which protocol the informers spoke: WatchList opens one watch
			// with sendInitialEvents=true and never lists.
			for _, res := range []string{"configmaps", "pods"} {
				path := "/api/v1/namespaces/" + ns + "/" + res
				watchLists := log.gets(path, true, "sendInitialEvents=true", "allowWatchBookmarks=true")
				lists := log.gets(path, false)
				if tc.watchList && (len(watchLists) == 0 || len(lists) > 0) {
					t.Errorf("%s: want a WatchList request and no list, got watch-lists %v, lists %v", res, watchLists, lists)
				}
				if !tc.watchList && (len(watchLists) > 0 || len(lists) == 0) {
					t.Errorf("%s: want a list and no WatchList request, got watch-lists %v, lists %v", res, watchLists, lists)
				}
			}

			if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}, Data: map[string]string{"v": "1"}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			cmEvents.expect(t, event{"add", "cm", "1"})
			cm, err := cms.Get(ctx, "cm", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cm.Data["v"] = "2"
			if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			cmEvents.expect(t, event{"update", "cm", "2"})
			if err := cms.Delete(ctx, "cm", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			cmEvents.expect(t, event{"delete", "cm", ""})

			if _, err := pods.Create(ctx, testPod("pod", map[string]string{"app": "x"}), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			podEvents.expect(t, event{"add", "pod", "nginx:1.27"})
			pod, err := pods.Get(ctx, "pod", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			pod.Spec.Containers[0].Image = "nginx:1.28"
			if _, err := pods.Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			podEvents.expect(t, event{"update", "pod", "nginx:1.28"})
			if err := pods.Delete(ctx, "pod", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			podEvents.expect(t, event{"delete", "pod", ""})

			// The listers agree with the server once the events are in.
			eventually(t, 5*time.Second, "configmap lister matches the server", func() error {
				all, err := cmInformer.Lister().ConfigMaps(ns).List(labels.Everything())
				if err != nil {
					return err
				}
				if len(all) != 1 || all[0].Name != "before" {
					return fmt.Errorf("lister has %d configmaps, want only %q", len(all), "before")
				}
				return nil
			})
			cmEvents.expectNone(t)
			podEvents.expectNone(t)
		})
	}
}
