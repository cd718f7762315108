package deployment

import (
	"context"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller"
)

// FieldManager is the field manager of the controller's writes.
const FieldManager = "kl-controller-manager"

// writer is every write the controller makes, and the fresh reads it
// needs. The client implements it; unit tests record the calls instead.
type writer interface {
	createReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error)
	updateReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error)
	deleteReplicaSet(ctx context.Context, namespace, name string) error
	patchReplicaSet(ctx context.Context, namespace, name string, patch []byte) error
	getReplicaSet(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error)
	getDeployment(ctx context.Context, namespace, name string) (*appsv1.Deployment, error)
	patchDeployment(ctx context.Context, namespace, name string, patch []byte) (*appsv1.Deployment, error)
	updateDeploymentStatus(ctx context.Context, d *appsv1.Deployment) (*appsv1.Deployment, error)
}

type clientWriter struct {
	rss *client.Resource[appsv1.ReplicaSet, *appsv1.ReplicaSet]
	ds  *client.Resource[appsv1.Deployment, *appsv1.Deployment]
}

func newClientWriter(c *client.Client) *clientWriter {
	return &clientWriter{
		rss: client.NewResource[appsv1.ReplicaSet](c, controller.ReplicaSetsResource, true),
		ds:  client.NewResource[appsv1.Deployment](c, controller.DeploymentsResource, true),
	}
}

func (w *clientWriter) createReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return w.rss.Create(ctx, rs, client.CreateOptions{FieldManager: FieldManager})
}

func (w *clientWriter) updateReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return w.rss.Update(ctx, rs, client.UpdateOptions{FieldManager: FieldManager})
}

func (w *clientWriter) deleteReplicaSet(ctx context.Context, namespace, name string) error {
	return w.rss.Namespace(namespace).Delete(ctx, name, meta.DeleteOptions{})
}

func (w *clientWriter) patchReplicaSet(ctx context.Context, namespace, name string, patch []byte) error {
	_, err := w.rss.Namespace(namespace).Patch(ctx, name, client.StrategicMergePatchType, patch, client.PatchOptions{FieldManager: FieldManager})
	return err
}

func (w *clientWriter) getReplicaSet(ctx context.Context, namespace, name string) (*appsv1.ReplicaSet, error) {
	return w.rss.Namespace(namespace).Get(ctx, name)
}

func (w *clientWriter) getDeployment(ctx context.Context, namespace, name string) (*appsv1.Deployment, error) {
	return w.ds.Namespace(namespace).Get(ctx, name)
}

func (w *clientWriter) patchDeployment(ctx context.Context, namespace, name string, patch []byte) (*appsv1.Deployment, error) {
	return w.ds.Namespace(namespace).Patch(ctx, name, client.MergePatchType, patch, client.PatchOptions{FieldManager: FieldManager})
}

func (w *clientWriter) updateDeploymentStatus(ctx context.Context, d *appsv1.Deployment) (*appsv1.Deployment, error) {
	return w.ds.UpdateStatus(ctx, d, client.UpdateOptions{FieldManager: FieldManager})
}
