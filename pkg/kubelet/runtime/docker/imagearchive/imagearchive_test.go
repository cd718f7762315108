package imagearchive_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker/imagearchive"
)

func testImage(t *testing.T) imagearchive.Image {
	t.Helper()
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog")
	if err := os.WriteFile(prog, []byte("#!not really a program\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := imagearchive.FileFromDisk(prog, "/bin/app", 0o755)
	if err != nil {
		t.Fatal(err)
	}
	return imagearchive.Image{
		Ref:        "kl.test/archive:1",
		Files:      []imagearchive.File{f},
		Dirs:       []imagearchive.Dir{{Path: "tmp", Mode: 0o1777}},
		Entrypoint: []string{"/bin/app"},
		Cmd:        []string{"serve"},
		Env:        []string{"A=1"},
		Labels:     map[string]string{"b": "2", "a": "1"},
		StopSignal: "SIGWINCH",
	}
}

// readTar returns the regular files of a tarball by name, and the order of
// all its entries.
func readTar(t *testing.T, r io.Reader) (map[string][]byte, []*tar.Header) {
	t.Helper()
	files := map[string][]byte{}
	var headers []*tar.Header
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, headers
		}
		if err != nil {
			t.Fatal(err)
		}
		headers = append(headers, h)
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = data
		}
	}
}

// The archive has the docker-archive layout `docker load` reads: a
// manifest naming the tag, the config and the layer; the layer's digest is
// the config's diff ID and the image ID is the config's digest.
func TestWriteProducesALoadableArchive(t *testing.T) {
	img := testImage(t)
	var buf bytes.Buffer
	id, err := imagearchive.Write(&buf, img)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := readTar(t, &buf)
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json = %s, %v", files["manifest.json"], err)
	}
	m := manifest[0]
	if !slices.Equal(m.RepoTags, []string{"kl.test/archive:1"}) || len(m.Layers) != 1 {
		t.Fatalf("manifest = %+v, want the tag and one layer", m)
	}
	cfgData := files[m.Config]
	if got := "sha256:" + hexSum(cfgData); got != id || m.Config != strings.TrimPrefix(id, "sha256:")+".json" {
		t.Errorf("image ID %s, config %s (digest %s): want the config's digest", id, m.Config, got)
	}
	var cfg struct {
		OS     string `json:"os"`
		Config struct {
			Entrypoint, Cmd, Env []string
			Labels               map[string]string
			StopSignal           string
		} `json:"config"`
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(cfgData, &cfg); err != nil {
		t.Fatal(err)
	}
	layer := files[m.Layers[0]]
	if cfg.OS != "linux" || !slices.Equal(cfg.RootFS.DiffIDs, []string{"sha256:" + hexSum(layer)}) {
		t.Errorf("config os %q diff IDs %v, want linux and the layer's digest sha256:%s", cfg.OS, cfg.RootFS.DiffIDs, hexSum(layer))
	}
	if !slices.Equal(cfg.Config.Entrypoint, img.Entrypoint) || !slices.Equal(cfg.Config.Cmd, img.Cmd) ||
		!slices.Equal(cfg.Config.Env, img.Env) || cfg.Config.Labels["a"] != "1" || cfg.Config.StopSignal != "SIGWINCH" {
		t.Errorf("container config = %+v", cfg.Config)
	}

	content, headers := readTar(t, bytes.NewReader(layer))
	var names []string
	for _, h := range headers {
		names = append(names, h.Name)
	}
	if want := []string{"bin/", "tmp/", "bin/app"}; !slices.Equal(names, want) {
		t.Errorf("layer entries = %v, want %v (parents first)", names, want)
	}
	if string(content["bin/app"]) != "#!not really a program\n" || headers[2].Mode != 0o755 || headers[1].Mode != 0o1777 {
		t.Errorf("layer file %q mode %o, tmp mode %o", content["bin/app"], headers[2].Mode, headers[1].Mode)
	}
}

// The same image gives the same bytes, so the same ID on every engine;
// ID tells it without writing the archive.
func TestArchiveIsReproducible(t *testing.T) {
	img := testImage(t)
	var a, b bytes.Buffer
	idA, err := imagearchive.Write(&a, img)
	if err != nil {
		t.Fatal(err)
	}
	idB, err := imagearchive.Write(&b, img)
	if err != nil {
		t.Fatal(err)
	}
	id, err := imagearchive.ID(img)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) || idA != idB || id != idA {
		t.Errorf("two writes differ (IDs %s %s, ID() %s)", idA, idB, id)
	}
	img.Env = []string{"A=2"}
	if other, _ := imagearchive.ID(img); other == id {
		t.Errorf("a different image has the same ID %s", id)
	}
}

// A file that changes between the two reads is caught.
func TestWriteFailsWhenAFileChangesSize(t *testing.T) {
	img := testImage(t)
	calls := 0
	img.Files = []imagearchive.File{{Path: "x", Mode: 0o644, Size: 3, Open: func() (io.ReadCloser, error) {
		calls++
		if calls > 1 {
			return io.NopCloser(strings.NewReader("ab")), nil
		}
		return io.NopCloser(strings.NewReader("abc")), nil
	}}}
	if _, err := imagearchive.Write(io.Discard, img); err == nil {
		t.Errorf("Write with a file that shrank succeeded, want an error")
	}
}

func TestCheckStatic(t *testing.T) {
	notELF := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := imagearchive.CheckStatic(notELF); err == nil || errors.Is(err, imagearchive.ErrNotStatic) {
		t.Errorf("CheckStatic(a script) = %v, want a not-a-program error", err)
	}
	// /bin/sh is dynamically linked on the distributions kl runs on.
	if err := imagearchive.CheckStatic("/bin/sh"); err != nil && !errors.Is(err, imagearchive.ErrNotStatic) {
		t.Skipf("/bin/sh: %v", err)
	} else if err == nil {
		t.Skip("/bin/sh is static here")
	} else if !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("CheckStatic(/bin/sh) = %v, want advice to build with CGO_ENABLED=0", err)
	}
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
