package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker/imagearchive"
)

// ensureSetup makes sure the pod network (when network is true) and the
// sandbox image exist, creating them if needed. Calls are serialised; once
// found, each is not checked again until reset says the engine lost it.
func (r *Runtime) ensureSetup(ctx context.Context, network bool) error {
	r.setupMu.Lock()
	defer r.setupMu.Unlock()
	if network && !r.networkOK {
		if err := r.ensureNetwork(ctx); err != nil {
			return err
		}
		r.networkOK = true
	}
	if !r.imageOK {
		if err := r.ensureSandboxImage(ctx); err != nil {
			return err
		}
		r.imageOK = true
	}
	return nil
}

// resetSetup forgets that the network and the image were found, so the
// next ensureSetup checks them again (after the engine said one is gone).
func (r *Runtime) resetSetup() {
	r.setupMu.Lock()
	defer r.setupMu.Unlock()
	r.networkOK, r.imageOK = false, false
}

// ensureNetwork creates the pod network unless a network of that name
// exists. Several kubelets sharing an engine may race to create it: the
// loser's create fails (same name or overlapping subnet) and it uses the
// winner's network.
func (r *Runtime) ensureNetwork(ctx context.Context) error {
	name := r.cfg.Network
	nw, err := r.cli.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	if err == nil {
		if nw.Network.Labels[LabelManaged] != "true" {
			r.log.Warn("the pod network was not created by kl; using it as it is", "network", name)
		}
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspect pod network %q: %w", name, err)
	}
	subnet, err := netip.ParsePrefix(r.cfg.Subnet)
	if err != nil {
		return fmt.Errorf("pod network %q: subnet %q: %w", name, r.cfg.Subnet, err)
	}
	_, cerr := r.cli.NetworkCreate(ctx, name, client.NetworkCreateOptions{
		Driver: "bridge",
		IPAM:   &network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: subnet.Masked()}}},
		Labels: map[string]string{LabelManaged: "true"},
	})
	if cerr == nil {
		r.log.Info("created the pod network", "network", name, "subnet", subnet.Masked().String())
		return nil
	}
	// Someone else may have created it meanwhile.
	if _, err := r.cli.NetworkInspect(ctx, name, client.NetworkInspectOptions{}); err == nil {
		return nil
	}
	return fmt.Errorf("create pod network %q on %s: %w", name, subnet, cerr)
}

// ensureSandboxImage loads the sandbox image unless an image of that name
// is present.
func (r *Runtime) ensureSandboxImage(ctx context.Context) error {
	ref := r.cfg.SandboxImage
	if _, err := r.cli.ImageInspect(ctx, ref); err == nil {
		return nil
	} else if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspect sandbox image %s: %w", ref, err)
	}
	if err := imagearchive.CheckStatic(r.cfg.PauseBinary); err != nil {
		return fmt.Errorf("make sandbox image %s: %w", ref, err)
	}
	file, err := imagearchive.FileFromDisk(r.cfg.PauseBinary, "kl", 0o755)
	if err != nil {
		return fmt.Errorf("make sandbox image %s: %w", ref, err)
	}
	img := imagearchive.Image{
		Ref:        ref,
		Files:      []imagearchive.File{file},
		Entrypoint: []string{"/kl", "pause"},
		Labels:     map[string]string{LabelManaged: "true"},
	}
	id, err := LoadImage(ctx, r.cli, img)
	if err != nil {
		return fmt.Errorf("make sandbox image %s: %w", ref, err)
	}
	r.log.Info("made the sandbox image", "image", ref, "id", id, "from", r.cfg.PauseBinary)
	return nil
}

// LoadImage loads img into the engine (ImageLoad of a docker-archive
// tarball streamed from imagearchive) and returns its image ID.
func LoadImage(ctx context.Context, cli client.ImageAPIClient, img imagearchive.Image) (string, error) {
	archive, err := imagearchive.New(img)
	if err != nil {
		return "", fmt.Errorf("load image %s: %w", img.Ref, err)
	}
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		_, err := archive.WriteTo(pw)
		pw.CloseWithError(err)
		written <- err
	}()
	resp, err := cli.ImageLoad(ctx, pr, client.ImageLoadWithQuiet(true))
	if err == nil {
		err = loadResult(resp)
		_ = resp.Close()
	}
	// Unblock the writer if the engine stopped reading early (it may
	// leave the archive's end padding unread).
	pr.CloseWithError(errLoadEnded)
	if werr := <-written; werr != nil && !errors.Is(werr, errLoadEnded) {
		return "", fmt.Errorf("load image %s: %w", img.Ref, werr)
	}
	if err != nil {
		return "", fmt.Errorf("load image %s: %w", img.Ref, err)
	}
	return archive.ID, nil
}

var errLoadEnded = errors.New("image load ended")

// loadResult reads the JSON messages of an image load and returns the
// error one of them reports.
func loadResult(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if m.Error != nil {
			return errors.New(strings.TrimSpace(m.Error.Message))
		}
	}
}
