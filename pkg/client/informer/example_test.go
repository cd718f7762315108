package informer_test

import (
	"context"
	"log/slog"

	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
	"github.com/kl-dev/kl/pkg/client/workqueue"
)

// A controller: an informer feeds keys into a work queue; workers read the
// current state from the lister and write through the client.
func Example_controller() {
	c, err := client.New(client.Config{Servers: []string{"http://127.0.0.1:6443"}})
	if err != nil {
		panic(err)
	}
	widgets := client.NewResource[Widget](c, widgetsGVR, true)
	inf := informer.New(widgets, informer.Options[*Widget]{IndexLabels: true})
	queue := workqueue.New(workqueue.Config[string]{})
	enqueue := func(w *Widget) { queue.Add(informer.Key(w)) }
	inf.AddEventHandler(informer.HandlerFuncs[*Widget]{
		AddFunc:    enqueue,
		UpdateFunc: func(_, w *Widget) { enqueue(w) },
		DeleteFunc: func(w *Widget, _ bool) { enqueue(w) },
	})

	reconcile := func(ctx context.Context, key string) error {
		ns, name := informer.SplitKey(key)
		w, ok := inf.Lister().Get(ns, name)
		if !ok {
			return nil // deleted: nothing to do
		}
		if w.Spec.Size == 0 {
			cp := *w // cached objects are shared: change a copy
			cp.Spec.Size = 1
			_, err := widgets.Update(ctx, &cp, client.UpdateOptions{FieldManager: "widget-controller"})
			return err
		}
		return nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = inf.Run(ctx) }()
	if !informer.WaitForCacheSync(ctx, inf) {
		return
	}
	go func() {
		<-ctx.Done()
		queue.ShutDown()
	}()
	for {
		key, shutdown := queue.Get()
		if shutdown {
			return
		}
		if err := reconcile(ctx, key); err != nil {
			slog.Warn("reconcile failed, retrying", "key", key, "err", err)
			queue.AddRateLimited(key)
		} else {
			queue.Forget(key)
		}
		queue.Done(key)
	}
}
