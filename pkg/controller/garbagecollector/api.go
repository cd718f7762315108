package garbagecollector

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/controller"
)

// api is what the collector asks of the apiserver besides its informers:
// live reads to be sure before it acts, deletes and metadata patches. The
// client implements it; unit tests use a fake that records the actions.
type api interface {
	get(ctx context.Context, res *controller.APIResource, namespace, name string) (*object, error)
	// list returns every object of the resource in the namespace ("": all).
	list(ctx context.Context, res *controller.APIResource, namespace string) ([]*object, error)
	delete(ctx context.Context, res *controller.APIResource, namespace, name string, opts meta.DeleteOptions) error
	// patchMetadata sends a JSON merge patch of the object's metadata.
	patchMetadata(ctx context.Context, res *controller.APIResource, namespace, name string, metadata map[string]any) error
}

// clientAPI is api over the dynamic client.
type clientAPI struct{ d *client.Dynamic }

func (a clientAPI) get(ctx context.Context, res *controller.APIResource, ns, name string) (*object, error) {
	data, err := a.d.Get(ctx, res.GVR, ns, name)
	if err != nil {
		return nil, err
	}
	o := &object{}
	if err := json.Unmarshal(data, o); err != nil {
		return nil, fmt.Errorf("decoding %s %s: %w", res.GVR, name, err)
	}
	return o, nil
}

func (a clientAPI) list(ctx context.Context, res *controller.APIResource, ns string) ([]*object, error) {
	var out []*object
	opts := client.ListOptions{Limit: 500}
	for {
		data, err := a.d.List(ctx, res.GVR, ns, opts)
		if err != nil {
			return nil, err
		}
		var page struct {
			Metadata meta.ListMeta `json:"metadata"`
			Items    []*object     `json:"items"`
		}
		if err := json.Unmarshal(data, &page); err != nil {
			return nil, fmt.Errorf("decoding %s list: %w", res.GVR, err)
		}
		out = append(out, page.Items...)
		if page.Metadata.Continue == "" {
			return out, nil
		}
		opts.Continue = page.Metadata.Continue
	}
}

func (a clientAPI) delete(ctx context.Context, res *controller.APIResource, ns, name string, opts meta.DeleteOptions) error {
	_, err := a.d.Delete(ctx, res.GVR, ns, name, opts)
	return err
}

func (a clientAPI) patchMetadata(ctx context.Context, res *controller.APIResource, ns, name string, metadata map[string]any) error {
	body, err := json.Marshal(map[string]any{"metadata": metadata})
	if err != nil {
		return fmt.Errorf("encoding patch of %s %s: %w", res.GVR, name, err)
	}
	_, err = a.d.Patch(ctx, res.GVR, ns, name, client.MergePatchType, body, client.PatchOptions{FieldManager: fieldManager})
	return err
}
