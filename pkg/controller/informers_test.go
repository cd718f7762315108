package controller_test

import (
	"context"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/controller"
	"github.com/kl-dev/kl/pkg/controller/controllertest"
)

func TestInformersAreSharedIndexedAndStopped(t *testing.T) {
	c := controllertest.StartAPIServer(t)
	ctx := context.Background()
	pods := client.NewResource[corev1.Pod](c, controller.PodsResource, true)
	owner := meta.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "uid-web", Controller: meta.Boolp(true)}
	for _, p := range []*corev1.Pod{
		{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "owned", Labels: map[string]string{"app": "web"}, OwnerReferences: []meta.OwnerReference{owner}}},
		{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "orphan", Labels: map[string]string{"app": "web"}}},
	} {
		p.Spec.Containers = []corev1.Container{{Name: "c", Image: "img"}}
		if _, err := pods.Create(ctx, p, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	f := controller.NewInformers(c, nil)
	if f.Pods() != f.Pods() {
		t.Fatal("Pods returned two informers")
	}
	runCtx, cancel := context.WithCancel(ctx)
	f.Start(runCtx)
	late := f.Nodes() // asked for after Start: started at once
	wait, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	if !informer.WaitForCacheSync(wait, f.Pods(), late) {
		t.Fatal("caches did not sync")
	}
	owned, err := f.Pods().Lister().ByIndex(controller.IndexOwnerUID, "uid-web")
	if err != nil || len(owned) != 1 || owned[0].Name != "owned" {
		t.Errorf("by owner uid: %v, %v", owned, err)
	}
	unscheduled, err := f.Pods().Lister().ByIndex(controller.IndexNodeName, "")
	if err != nil || len(unscheduled) != 2 {
		t.Errorf("by node name \"\": %d pods, %v", len(unscheduled), err)
	}
	if sel, _ := meta.ParseSelector("app=web"); len(f.Pods().Lister().List(sel)) != 2 {
		t.Error("label selection")
	}

	cancel()
	done := make(chan struct{})
	go func() {
		f.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return after the context ended")
	}
}
