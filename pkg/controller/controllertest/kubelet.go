package controllertest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
)

// KubeletConfig configures FakeKubelet.
type KubeletConfig struct {
	// Ready decides which pods become ready (nil: all).
	Ready func(*corev1.Pod) bool
	// Delay is how long after a pod appears it becomes ready.
	Delay time.Duration
}

// FakeKubelet plays the kubelets of an integration test: it writes the
// status of the pods it decides to start (phase Running, condition
// Ready=True) through the status subresource, as a kubelet would once the
// containers run. Pods are not scheduled: none has a node.
type FakeKubelet struct {
	pods *client.Resource[corev1.Pod, *corev1.Pod]
	cfg  KubeletConfig

	mu      sync.Mutex
	pending map[string]bool
	wg      sync.WaitGroup
	ctx     context.Context
}

// StartFakeKubelet runs a FakeKubelet against c until the test ends.
func StartFakeKubelet(t testing.TB, c *client.Client, cfg KubeletConfig) *FakeKubelet {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	k := &FakeKubelet{
		pods:    client.NewResource[corev1.Pod](c, meta.GroupVersionResource{Version: "v1", Resource: "pods"}, true),
		cfg:     cfg,
		pending: map[string]bool{},
		ctx:     ctx,
	}
	inf := informer.New[*corev1.Pod](k.pods, informer.Options[*corev1.Pod]{})
	inf.AddEventHandler(informer.HandlerFuncs[*corev1.Pod]{
		AddFunc:    k.consider,
		UpdateFunc: func(_, p *corev1.Pod) { k.consider(p) },
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = inf.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		k.wg.Wait()
	})
	return k
}

func (k *FakeKubelet) consider(p *corev1.Pod) {
	if p.DeletionTimestamp != nil || corev1.IsPodReady(p) || corev1.IsPodTerminal(p) {
		return
	}
	if k.cfg.Ready != nil && !k.cfg.Ready(p) {
		return
	}
	key := informer.Key(p)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.pending[key] || k.ctx.Err() != nil {
		return
	}
	k.pending[key] = true
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		defer func() {
			k.mu.Lock()
			delete(k.pending, key)
			k.mu.Unlock()
		}()
		if k.cfg.Delay > 0 {
			t := time.NewTimer(k.cfg.Delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-k.ctx.Done():
				return
			}
		}
		_ = MarkPodReady(k.ctx, k.pods, p.Namespace, p.Name, p.UID)
	}()
}

// MarkPodReady writes a Running phase and Ready=True condition on the pod
// (only if it still has uid).
func MarkPodReady(ctx context.Context, pods *client.Resource[corev1.Pod, *corev1.Pod], namespace, name, uid string) error {
	now := meta.Now().UTC().Format(time.RFC3339)
	patch := fmt.Sprintf(`{"metadata":{"uid":%q},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":%q}]}}`, uid, now)
	_, err := pods.Namespace(namespace).Patch(ctx, name, client.MergePatchType, []byte(patch), client.PatchOptions{Subresource: "status"})
	return err
}
