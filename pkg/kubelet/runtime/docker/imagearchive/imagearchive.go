// Package imagearchive writes a single-layer container image "FROM
// scratch" as a docker-archive tarball (the format of `docker save` and
// `docker load`), so kl can put images into a Docker Engine without a
// registry or a builder: the sandbox ("pause") image made from the kl
// binary, and the test images made from small static Go programs.
//
// The archive is deterministic: the same files and settings give the same
// bytes, hence the same image ID on every engine, so a caller can tell
// whether an image it finds is the one it would load (see ID).
package imagearchive

import (
	"archive/tar"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	goruntime "runtime"
	"slices"
	"strings"
	"time"
)

// Image is a one-layer image built from nothing ("FROM scratch").
type Image struct {
	// Ref names the image, "repository:tag" ("kl.local/pause:v0.1.0").
	// Empty loads the image untagged.
	Ref string
	// Files are the files of the only layer.
	Files []File
	// Dirs are extra directories of the layer ("tmp" with mode 01777).
	// Parents of Files are added with mode 0755 as needed.
	Dirs []Dir
	// Entrypoint, Cmd, Env ("K=V"), WorkingDir, User, Labels and
	// StopSignal ("SIGTERM" when empty) are the image's container
	// defaults.
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
	Labels     map[string]string
	StopSignal string
	// Architecture is the image's CPU architecture (default: this
	// program's GOARCH).
	Architecture string
}

// File is a regular file of the layer.
type File struct {
	// Path is the file's path in the image, relative or absolute
	// ("kl" and "/kl" are the same).
	Path string
	// Mode is the file's permission bits (0755 for a program).
	Mode int64
	// Size is the file's size in bytes; Open must yield exactly that.
	Size int64
	// Open returns the file's content. It is called twice per Write
	// (once to digest the layer, once to copy it), so it must return the
	// same bytes each time.
	Open func() (io.ReadCloser, error)
}

// Dir is a directory of the layer.
type Dir struct {
	Path string
	Mode int64
}

// FileFromDisk returns a File of the image at imagePath with the content
// of the local file src.
func FileFromDisk(src, imagePath string, mode int64) (File, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return File{}, fmt.Errorf("image file %s: %w", imagePath, err)
	}
	if !fi.Mode().IsRegular() {
		return File{}, fmt.Errorf("image file %s: %s is not a regular file", imagePath, src)
	}
	return File{
		Path: imagePath, Mode: mode, Size: fi.Size(),
		Open: func() (io.ReadCloser, error) { return os.Open(src) },
	}, nil
}

// created is the creation time of every image: a fixed time keeps the
// config, and so the image ID, reproducible.
var created = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Archive is an image whose layer has been digested, ready to be written.
type Archive struct {
	img    Image
	layer  layerInfo
	config []byte
	// ID is the image ID ("sha256:...") an engine gives the image once
	// loaded.
	ID string
}

// New digests img's layer (reading every file once) and returns the
// archive to write.
func New(img Image) (*Archive, error) {
	layer, cfg, err := digestLayer(img)
	if err != nil {
		return nil, err
	}
	return &Archive{img: img, layer: layer, config: cfg, ID: "sha256:" + sha256Hex(cfg)}, nil
}

// ID returns the ID ("sha256:...") an engine gives img once loaded. It
// reads every file once.
func ID(img Image) (string, error) {
	a, err := New(img)
	if err != nil {
		return "", err
	}
	return a.ID, nil
}

// Write writes img as a docker-archive tarball to w and returns its image
// ID. The layer is streamed, never held in memory.
func Write(w io.Writer, img Image) (string, error) {
	a, err := New(img)
	if err != nil {
		return "", err
	}
	if _, err := a.WriteTo(w); err != nil {
		return "", err
	}
	return a.ID, nil
}

// WriteTo writes the docker-archive tarball to w (reading every file a
// second time).
func (a *Archive) WriteTo(w io.Writer) (int64, error) {
	img := a.img
	cw := &countWriter{w: w}
	cfgHex := strings.TrimPrefix(a.ID, "sha256:")
	layerHex := strings.TrimPrefix(a.layer.diffID, "sha256:")
	entry := struct {
		Config   string
		RepoTags []string
		Layers   []string
	}{Config: cfgHex + ".json", Layers: []string{layerHex + "/layer.tar"}}
	if img.Ref != "" {
		entry.RepoTags = []string{img.Ref}
	}
	manifest, err := json.Marshal([]any{entry})
	if err != nil {
		return cw.n, fmt.Errorf("image %s: manifest: %w", img.Ref, err)
	}

	tw := tar.NewWriter(cw)
	if err := writeBytes(tw, "manifest.json", manifest); err != nil {
		return cw.n, err
	}
	if err := writeBytes(tw, cfgHex+".json", a.config); err != nil {
		return cw.n, err
	}
	if err := tw.WriteHeader(dirHeader(layerHex, 0o755)); err != nil {
		return cw.n, fmt.Errorf("image %s: %w", img.Ref, err)
	}
	if err := tw.WriteHeader(fileHeader(layerHex+"/layer.tar", 0o644, a.layer.size)); err != nil {
		return cw.n, fmt.Errorf("image %s: %w", img.Ref, err)
	}
	layer := &countWriter{w: tw}
	if err := writeLayer(layer, img); err != nil {
		return cw.n, err
	}
	if layer.n != a.layer.size {
		return cw.n, fmt.Errorf("image %s: a file changed while the image was written (layer %d bytes, then %d)", img.Ref, a.layer.size, layer.n)
	}
	if err := tw.Close(); err != nil {
		return cw.n, fmt.Errorf("image %s: %w", img.Ref, err)
	}
	return cw.n, nil
}

type layerInfo struct {
	diffID string
	size   int64
}

// digestLayer writes the layer once to learn its digest and size, and
// returns the image config that names it.
func digestLayer(img Image) (layerInfo, []byte, error) {
	h := sha256.New()
	count := &countWriter{w: h}
	if err := writeLayer(count, img); err != nil {
		return layerInfo{}, nil, err
	}
	info := layerInfo{diffID: "sha256:" + hex.EncodeToString(h.Sum(nil)), size: count.n}
	cfg, err := configJSON(img, info.diffID)
	return info, cfg, err
}

// configJSON is the image config (the OCI/Docker image JSON).
func configJSON(img Image, diffID string) ([]byte, error) {
	arch := img.Architecture
	if arch == "" {
		arch = goruntime.GOARCH
	}
	type containerConfig struct {
		User       string            `json:"User,omitempty"`
		Env        []string          `json:"Env,omitempty"`
		Entrypoint []string          `json:"Entrypoint,omitempty"`
		Cmd        []string          `json:"Cmd,omitempty"`
		WorkingDir string            `json:"WorkingDir,omitempty"`
		Labels     map[string]string `json:"Labels,omitempty"`
		StopSignal string            `json:"StopSignal,omitempty"`
	}
	type rootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	}
	type history struct {
		Created   time.Time `json:"created"`
		CreatedBy string    `json:"created_by"`
	}
	cfg := struct {
		Architecture string          `json:"architecture"`
		OS           string          `json:"os"`
		Created      time.Time       `json:"created"`
		Config       containerConfig `json:"config"`
		RootFS       rootFS          `json:"rootfs"`
		History      []history       `json:"history"`
	}{
		Architecture: arch, OS: "linux", Created: created,
		Config: containerConfig{
			User: img.User, Env: img.Env, Entrypoint: img.Entrypoint, Cmd: img.Cmd,
			WorkingDir: img.WorkingDir, Labels: img.Labels, StopSignal: img.StopSignal,
		},
		RootFS:  rootFS{Type: "layers", DiffIDs: []string{diffID}},
		History: []history{{Created: created, CreatedBy: "kl imagearchive"}},
	}
	data, err := json.Marshal(cfg) // map keys are sorted: deterministic
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", img.Ref, err)
	}
	return data, nil
}

// writeLayer writes the layer tarball: directories first, then files,
// each sorted by path.
func writeLayer(w io.Writer, img Image) error {
	dirs := map[string]int64{}
	addParents := func(p string) {
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := dirs[d]; !ok {
				dirs[d] = 0o755
			}
		}
	}
	for _, d := range img.Dirs {
		p := clean(d.Path)
		if p == "" {
			continue
		}
		dirs[p] = d.Mode
		addParents(p)
	}
	files := slices.Clone(img.Files)
	for i := range files {
		files[i].Path = clean(files[i].Path)
		if files[i].Path == "" {
			return fmt.Errorf("image %s: a file has no path", img.Ref)
		}
		addParents(files[i].Path)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	dirNames := make([]string, 0, len(dirs))
	for d := range dirs {
		dirNames = append(dirNames, d)
	}
	slices.Sort(dirNames)

	tw := tar.NewWriter(w)
	for _, d := range dirNames {
		if err := tw.WriteHeader(dirHeader(d, dirs[d])); err != nil {
			return fmt.Errorf("image %s: layer: %w", img.Ref, err)
		}
	}
	for _, f := range files {
		if err := copyFile(tw, f); err != nil {
			return fmt.Errorf("image %s: layer: %w", img.Ref, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("image %s: layer: %w", img.Ref, err)
	}
	return nil
}

func copyFile(tw *tar.Writer, f File) error {
	if f.Open == nil {
		return fmt.Errorf("file %s: no content", f.Path)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("file %s: %w", f.Path, err)
	}
	defer rc.Close()
	if err := tw.WriteHeader(fileHeader(f.Path, f.Mode, f.Size)); err != nil {
		return fmt.Errorf("file %s: %w", f.Path, err)
	}
	n, err := io.Copy(tw, io.LimitReader(rc, f.Size))
	if err != nil {
		return fmt.Errorf("file %s: %w", f.Path, err)
	}
	if n != f.Size {
		return fmt.Errorf("file %s: read %d bytes, want %d", f.Path, n, f.Size)
	}
	return nil
}

// clean makes p relative ("/kl" -> "kl"); "" for the root.
func clean(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	return p
}

func fileHeader(name string, mode, size int64) *tar.Header {
	return &tar.Header{
		Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: size,
		ModTime: created, Format: tar.FormatPAX,
	}
}

func dirHeader(name string, mode int64) *tar.Header {
	return &tar.Header{
		Typeflag: tar.TypeDir, Name: name + "/", Mode: mode,
		ModTime: created, Format: tar.FormatPAX,
	}
}

func writeBytes(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(fileHeader(name, 0o644, int64(len(data)))); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// countWriter counts what it passes on to w.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ErrNotStatic is returned by CheckStatic for a dynamically linked program.
var ErrNotStatic = errors.New("program is dynamically linked")

// CheckStatic returns nil when the file at path is a statically linked
// Linux (ELF) program, which runs in an image that has nothing else; a
// dynamically linked one (built with cgo) fails with ErrNotStatic.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: not a Linux program: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s: %w (build it with CGO_ENABLED=0)", path, ErrNotStatic)
		}
	}
	return nil
}
