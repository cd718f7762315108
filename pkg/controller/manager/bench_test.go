package manager_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/controllertest"
	"github.com/kl-dev/kl/pkg/controller/manager"
)

// BenchmarkDeploymentsToPods measures the controllers' part of the
// reference workload W1: from creating the Deployments (in parallel, as
// `kl apply` of a directory would) until every pod exists and every
// ReplicaSet's status counts its pods. An in-process apiserver (memory
// storage) and a controller-manager run in the same process; there is no
// scheduler or kubelet, so pods stay Pending.
func BenchmarkDeploymentsToPods(b *testing.B) {
	for _, w := range []struct{ deployments, replicas int }{{50, 20}, {100, 100}} {
		b.Run(fmt.Sprintf("%dx%d", w.deployments, w.replicas), func(b *testing.B) {
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				benchmarkDeploymentsToPods(b, w.deployments, w.replicas)
			}
		})
	}
}

func benchmarkDeploymentsToPods(b *testing.B, deployments, replicas int) {
	c := controllertest.StartAPIServer(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	startManager(b, manager.Config{Client: c, Controllers: []string{"replicaset", "deployment"}})

	// Watch ReplicaSets (not poll): done when every one reports its pods.
	want := int32(replicas)
	rsInf := informer.New[*appsv1.ReplicaSet](client.NewResource[appsv1.ReplicaSet](c, controller.ReplicaSetsResource, true), informer.Options[*appsv1.ReplicaSet]{})
	podInf := informer.New[*corev1.Pod](client.NewResource[corev1.Pod](c, controller.PodsResource, true), informer.Options[*corev1.Pod]{})
	var full atomic.Int32
	done := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	counted := map[string]bool{}
	rsInf.AddEventHandler(informer.HandlerFuncs[*appsv1.ReplicaSet]{UpdateFunc: func(_, rs *appsv1.ReplicaSet) {
		mu.Lock()
		defer mu.Unlock()
		if rs.Status.Replicas == want && rs.Status.ObservedGeneration == rs.Generation && !counted[rs.Name] {
			counted[rs.Name] = true
			if int(full.Add(1)) == deployments {
				once.Do(func() { close(done) })
			}
		}
	}})
	var wg sync.WaitGroup
	for _, inf := range []interface{ Run(context.Context) error }{rsInf, podInf} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = inf.Run(ctx)
		}()
	}
	defer wg.Wait()
	defer cancel()
	if !informer.WaitForCacheSync(ctx, rsInf, podInf) {
		b.Fatal("caches did not sync")
	}

	ds := client.NewResource[appsv1.Deployment](c, controller.DeploymentsResource, true)
	b.StartTimer()
	start := time.Now()
	var errs atomic.Int32
	var cw sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := 0; i < deployments; i++ {
		d := deploymentSpec(fmt.Sprintf("app-%03d", i), int32(replicas), "registry.local/app:1")
		d.Spec.Template.Spec.Containers[0].Resources.Requests = corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi"),
		}
		sem <- struct{}{}
		cw.Add(1)
		go func() {
			defer func() { <-sem; cw.Done() }()
			if _, err := ds.Create(ctx, d, client.CreateOptions{}); err != nil {
				errs.Add(1)
			}
		}()
	}
	cw.Wait()
	if errs.Load() > 0 {
		b.Fatalf("%d Deployment creates failed", errs.Load())
	}
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("after 5 minutes %d of %d ReplicaSets are full", full.Load(), deployments)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if n := podInf.Lister().Len(); n < deployments*replicas {
		b.Fatalf("%d pods, want %d", n, deployments*replicas)
	}
	b.ReportMetric(float64(deployments*replicas)/elapsed.Seconds(), "pods/s")
}
