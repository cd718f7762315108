// Package images makes kl's test images in the local Docker Engine with
// no registry and no builder: each is a one-layer image FROM scratch
// holding the static test program of test/images/echo (compiled here with
// CGO_ENABLED=0 by the go command) and loaded with ImageLoad (see package
// imagearchive). Images are reproducible, so Ensure loads an image only
// when the engine lacks it or holds another build of it.
//
// `make images` (go run ./test/images/build) makes them all; tests call
// Ensure with the ones they need.
package images

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker/imagearchive"
)

// The test images. Every one runs the echo program (its package doc lists
// the commands); the entrypoint is ["/echo"], so a container's command is
// ["/echo", "sleep"] or its args ["sleep"].
const (
	// Echo1 and Echo2 are the HTTP echo server in versions 1 and 2 (for
	// rollouts): GET / answers "version=N hostname=H path=P".
	Echo1 = "kl.test/echo:1"
	Echo2 = "kl.test/echo:2"
	// IgnoreSIGTERM is echo with IGNORE_SIGTERM=1 whose stop signal is
	// SIGWINCH, which every process ignores from its first instant: only
	// SIGKILL stops it, even when it is stopped as it starts (before a Go
	// program can ignore SIGTERM, SIGTERM kills it with exit code 2).
	IgnoreSIGTERM = "kl.test/ignore-sigterm:1"
	// Pause is a sandbox image: echo as /kl, entrypoint ["/kl", "pause"],
	// the shape of the image the Docker runtime makes from the kl binary.
	Pause = "kl.test/pause:1"
)

// Spec describes a test image.
type Spec struct {
	// Ref is the image's name.
	Ref string
	// Version is the echo program's version (-X main.version).
	Version string
	// Path is the program's path in the image (default "echo").
	Path       string
	Entrypoint []string
	Env        []string
	StopSignal string
}

// All are the test images `make images` makes.
var All = []Spec{
	{Ref: Echo1, Version: "1"},
	{Ref: Echo2, Version: "2"},
	{Ref: IgnoreSIGTERM, Version: "1", Env: []string{"IGNORE_SIGTERM=1"}, StopSignal: "SIGWINCH"},
	{Ref: Pause, Version: "1", Path: "kl", Entrypoint: []string{"/kl", "pause"}},
}

// Lookup returns the Spec of a test image named ref.
func Lookup(ref string) (Spec, bool) {
	for _, s := range All {
		if s.Ref == ref {
			return s, true
		}
	}
	return Spec{}, false
}

// program is the echo program's package.
const program = "github.com/kl-dev/kl/test/images/echo"

// BuildProgram compiles the echo program of the given version, static,
// into dir and returns its path. It needs the go command and must run
// inside the kl module (tests and `make images` do).
func BuildProgram(ctx context.Context, version, dir string) (string, error) {
	out := filepath.Join(dir, "echo-"+version)
	gocmd, err := exec.LookPath("go")
	if err != nil {
		gocmd = filepath.Join(goruntime.GOROOT(), "bin", "go")
	}
	cmd := exec.CommandContext(ctx, gocmd, "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X main.version="+version, "-o", out, program)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s (version %s): %w\n%s", program, version, err, strings.TrimSpace(string(msg)))
	}
	return out, nil
}

// Image returns the image of spec made from the program at binary.
func (s Spec) Image(binary string) (imagearchive.Image, error) {
	p := s.Path
	if p == "" {
		p = "echo"
	}
	f, err := imagearchive.FileFromDisk(binary, p, 0o755)
	if err != nil {
		return imagearchive.Image{}, err
	}
	entry := s.Entrypoint
	if len(entry) == 0 {
		entry = []string{"/" + p}
	}
	return imagearchive.Image{
		Ref: s.Ref, Files: []imagearchive.File{f}, Dirs: []imagearchive.Dir{{Path: "tmp", Mode: 0o1777}},
		Entrypoint: entry, Env: s.Env, StopSignal: s.StopSignal, Labels: map[string]string{"kl.test.image": "true"},
	}, nil
}

// Ensure makes the named test images (all of them when refs is empty)
// present in the engine cli talks to, loading each that is missing or
// differs from this checkout's build.
func Ensure(ctx context.Context, cli client.ImageAPIClient, refs ...string) error {
	specs := All
	if len(refs) > 0 {
		specs = nil
		for _, ref := range refs {
			s, ok := Lookup(ref)
			if !ok {
				return fmt.Errorf("no test image %q", ref)
			}
			specs = append(specs, s)
		}
	}
	dir, err := os.MkdirTemp("", "kl-test-images-")
	if err != nil {
		return fmt.Errorf("test images: %w", err)
	}
	defer os.RemoveAll(dir)
	binaries := map[string]string{}
	for _, s := range specs {
		bin, ok := binaries[s.Version]
		if !ok {
			if bin, err = BuildProgram(ctx, s.Version, dir); err != nil {
				return err
			}
			binaries[s.Version] = bin
		}
		img, err := s.Image(bin)
		if err != nil {
			return fmt.Errorf("test image %s: %w", s.Ref, err)
		}
		want, err := imagearchive.ID(img)
		if err != nil {
			return fmt.Errorf("test image %s: %w", s.Ref, err)
		}
		have, err := cli.ImageInspect(ctx, s.Ref)
		switch {
		case err == nil && have.ID == want:
			continue
		case err != nil && !cerrdefs.IsNotFound(err):
			return fmt.Errorf("test image %s: %w", s.Ref, err)
		}
		if _, err := docker.LoadImage(ctx, cli, img); err != nil {
			return fmt.Errorf("test image %s: %w", s.Ref, err)
		}
		if have.ID != "" {
			// The previous build, now untagged; kept if a container uses it.
			_, _ = cli.ImageRemove(ctx, have.ID, client.ImageRemoveOptions{PruneChildren: true})
		}
	}
	return nil
}
