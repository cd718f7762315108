package replicaset

import (
	"context"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller"
)

// FieldManager is the field manager of the controller's writes.
const FieldManager = "kl-controller-manager"

// writer is every write the controller makes (and the one fresh read it
// needs before adopting). The client implements it; unit tests record
// the calls instead.
type writer interface {
	createPod(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error)
	deletePod(ctx context.Context, namespace, name string) error
	patchPod(ctx context.Context, namespace, name string, patch []byte) error
	getReplicaSet(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error)
	updateReplicaSetStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error)
}

type clientWriter struct {
	pods *client.Resource[corev1.Pod, *corev1.Pod]
	rss  *client.Resource[appsv1.ReplicaSet, *appsv1.ReplicaSet]
}

func newClientWriter(c *client.Client) *clientWriter {
	return &clientWriter{
		pods: client.NewResource[corev1.Pod](c, controller.PodsResource, true),
		rss:  client.NewResource[appsv1.ReplicaSet](c, controller.ReplicaSetsResource, true),
	}
}

func (w *clientWriter) createPod(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	return w.pods.Create(ctx, pod, client.CreateOptions{FieldManager: FieldManager})
}

func (w *clientWriter) deletePod(ctx context.Context, namespace, name string) error {
	return w.pods.Namespace(namespace).Delete(ctx, name, meta.DeleteOptions{})
}

func (w *clientWriter) patchPod(ctx context.Context, namespace, name string, patch []byte) error {
	_, err := w.pods.Namespace(namespace).Patch(ctx, name, client.StrategicMergePatchType, patch, client.PatchOptions{FieldManager: FieldManager})
	return err
}

func (w *clientWriter) getReplicaSet(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error) {
	return w.rss.Namespace(namespace).Get(ctx, name)
}

func (w *clientWriter) updateReplicaSetStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return w.rss.UpdateStatus(ctx, rs, client.UpdateOptions{FieldManager: FieldManager})
}
