// Package informer keeps a local, indexed cache of one resource in sync
// with the apiserver (list, then watch), and tells event handlers what
// changed. It is a small version of client-go's SharedIndexInformer, generic
// over the object type.
//
// How it works: Run lists the resource page by page (Options.PageSize),
// stores the objects keyed "namespace/name" ("name" for cluster-scoped
// ones), then watches from the list's resourceVersion with bookmarks,
// resuming after disconnects from the last resourceVersion seen. When the
// watch reports 410 Gone (the history it needs was compacted) or fails for
// good, Run lists again and turns the difference between the new list and
// its cache into the add, update and delete notifications the missed events
// would have produced; a delete found this way passes the last known object
// with finalStateUnknown set.
//
// Handlers are called from one goroutine per informer, one at a time, in
// the order the changes were applied to the cache; when a handler runs, the
// cache already holds the change (or a later one). Handlers should be quick
// — typically they queue the object's key (see Key) in a workqueue and a
// worker reads the current state from the Lister.
//
// Objects handed out by the cache (handlers, Lister) are shared with the
// cache and every other reader: never modify them. Copy one before changing
// it, and write changes through the client.
//
// A controller's start-up:
//
//	pods := client.NewResource[corev1.Pod](c, podsGVR, true)
//	inf := informer.New(pods, informer.Options[*corev1.Pod]{IndexLabels: true})
//	inf.AddEventHandler(informer.HandlerFuncs[*corev1.Pod]{
//		AddFunc: func(p *corev1.Pod) { queue.Add(informer.Key(p)) },
//		...
//	})
//	go inf.Run(ctx)
//	if !informer.WaitForCacheSync(ctx, inf) {
//		return ctx.Err()
//	}
//	// start workers that read inf.Lister()
package informer
