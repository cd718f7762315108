package docker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// PullImage implements runtime.Runtime. A failure carries the engine's
// message ("pull access denied ...", "no such host", "manifest unknown");
// the kubelet turns it into ErrImagePull and backs off.
func (r *Runtime) PullImage(ctx context.Context, image string, auth *runtime.AuthConfig) (string, error) {
	if image == "" {
		return "", errors.New("pull image: no image name given")
	}
	opts := client.ImagePullOptions{}
	if auth != nil {
		enc, err := encodeAuth(auth)
		if err != nil {
			return "", fmt.Errorf("pull image %q: %w", image, err)
		}
		opts.RegistryAuth = enc
	}
	resp, err := r.cli.ImagePull(ctx, image, opts)
	if err != nil {
		return "", fmt.Errorf("pull image %q: %w", image, err)
	}
	defer resp.Close()
	if err := resp.Wait(ctx); err != nil {
		return "", fmt.Errorf("pull image %q: %w", image, err)
	}
	img, err := r.ImageStatus(ctx, image)
	if err != nil {
		return "", fmt.Errorf("pull image %q: pulled, but: %w", image, err)
	}
	return img.ID, nil
}

// encodeAuth is the X-Registry-Auth header value of a pull.
func encodeAuth(a *runtime.AuthConfig) (string, error) {
	data, err := json.Marshal(registry.AuthConfig{
		Username: a.Username, Password: a.Password, ServerAddress: a.ServerAddress,
		IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken,
	})
	if err != nil {
		return "", fmt.Errorf("encode registry credentials: %w", err)
	}
	return base64.URLEncoding.EncodeToString(data), nil
}

// ImageStatus implements runtime.Runtime.
func (r *Runtime) ImageStatus(ctx context.Context, image string) (*runtime.Image, error) {
	if image == "" {
		return nil, fmt.Errorf("image status: no image name given: %w", runtime.ErrNotFound)
	}
	res, err := r.cli.ImageInspect(ctx, image)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", image, notFound(err))
	}
	return &runtime.Image{
		ID: res.ID, RepoTags: slices.Clone(res.RepoTags), RepoDigests: slices.Clone(res.RepoDigests), Size: res.Size,
	}, nil
}

// ListImages implements runtime.Runtime.
func (r *Runtime) ListImages(ctx context.Context) ([]*runtime.Image, error) {
	res, err := r.cli.ImageList(ctx, client.ImageListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	out := make([]*runtime.Image, 0, len(res.Items))
	for _, i := range res.Items {
		out = append(out, &runtime.Image{
			ID: i.ID, RepoTags: slices.Clone(i.RepoTags), RepoDigests: slices.Clone(i.RepoDigests), Size: i.Size,
		})
	}
	return out, nil
}

// RemoveImage implements runtime.Runtime. An image a container still
// uses is not removed (an error says so).
func (r *Runtime) RemoveImage(ctx context.Context, image string) error {
	_, err := r.cli.ImageRemove(ctx, image, client.ImageRemoveOptions{PruneChildren: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove image %q: %w", image, err)
	}
	return nil
}
