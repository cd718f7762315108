package kubelet

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Names inside an atomically written volume directory, as Kubernetes'
// AtomicWriter names them.
const (
	dataDirName    = "..data"
	newDataDirName = "..data_tmp"
)

// fileProjection is one file of a ConfigMap or Secret volume.
type fileProjection struct {
	data []byte
	mode fs.FileMode
}

// writeAtomic makes dir hold exactly files (relative path -> content and
// mode) so that a reader never sees a mix of old and new content. It is
// Kubernetes' AtomicWriter:
//
//	dir/..2025_01_02_15_04_05.123456789/   the files of this version
//	dir/..data -> ..2025_01_02_15_04_05.123456789
//	dir/KEY -> ..data/KEY                   one link per top-level name
//
// A new version is written to a new timestamped directory, then ..data is
// switched to it in one rename of a new symlink over the old one; links of
// names that went away are removed, and the old version's directory last.
// Nothing is written when the content is unchanged. It reports whether it
// wrote.
func writeAtomic(dir string, files map[string]fileProjection) (bool, error) {
	for p := range files {
		if err := validateProjectedPath(p); err != nil {
			return false, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("create volume directory: %w", err)
	}
	oldTS, err := os.Readlink(filepath.Join(dir, dataDirName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("read %s: %w", dataDirName, err)
	}
	var oldFiles map[string]fileProjection
	if oldTS != "" {
		oldFiles, err = readProjection(filepath.Join(dir, oldTS))
		if err != nil {
			return false, err
		}
		if sameProjection(oldFiles, files) {
			// The content is there; make sure the links are too (a
			// previous write may have stopped half way).
			return false, linkTopLevel(dir, files, oldFiles)
		}
	}

	tsDir, err := os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return false, fmt.Errorf("create versioned directory: %w", err)
	}
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return false, errors.Join(fmt.Errorf("chmod %s: %w", tsDir, err), os.RemoveAll(tsDir))
	}
	if err := writeProjection(tsDir, files); err != nil {
		return false, errors.Join(err, os.RemoveAll(tsDir))
	}
	tmpLink := filepath.Join(dir, newDataDirName)
	_ = os.Remove(tmpLink)
	if err := os.Symlink(filepath.Base(tsDir), tmpLink); err != nil {
		return false, errors.Join(fmt.Errorf("link %s: %w", newDataDirName, err), os.RemoveAll(tsDir))
	}
	if err := os.Rename(tmpLink, filepath.Join(dir, dataDirName)); err != nil {
		return false, errors.Join(fmt.Errorf("switch %s: %w", dataDirName, err), os.Remove(tmpLink), os.RemoveAll(tsDir))
	}
	if err := linkTopLevel(dir, files, oldFiles); err != nil {
		return true, err
	}
	// The old version goes, with any left by a write that stopped half
	// way.
	entries, err := os.ReadDir(dir)
	if err != nil {
		return true, fmt.Errorf("read volume directory: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, "..") || name == filepath.Base(tsDir) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return true, fmt.Errorf("remove old version %s: %w", name, err)
		}
	}
	return true, nil
}

// validateProjectedPath refuses paths that could leave the volume or clash
// with the writer's own names: absolute paths, "..", names starting with
// "..".
func validateProjectedPath(p string) error {
	switch {
	case p == "":
		return errors.New("invalid path: must not be empty")
	case filepath.IsAbs(p):
		return fmt.Errorf("invalid path %q: must be relative", p)
	case len(p) > 4096:
		return fmt.Errorf("invalid path %q: must be at most 4096 characters", p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." || el == "" || el == "." {
			return fmt.Errorf("invalid path %q: must not contain '..', '.' or empty elements", p)
		}
	}
	if strings.HasPrefix(p, "..") {
		return fmt.Errorf("invalid path %q: must not start with '..'", p)
	}
	return nil
}

// writeProjection writes files under dir with their modes.
func writeProjection(dir string, files map[string]fileProjection) error {
	for _, p := range slices.Sorted(maps.Keys(files)) {
		f := files[p]
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("create directory of %s: %w", p, err)
		}
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		// WriteFile's mode is subject to the umask; the pod asked for
		// exactly this one.
		if err := os.Chmod(full, f.mode); err != nil {
			return fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	return nil
}

// readProjection reads the files under dir (one version).
func readProjection(dir string) (map[string]fileProjection, error) {
	out := map[string]fileProjection{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = fileProjection{data: data, mode: info.Mode().Perm()}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read current volume content: %w", err)
	}
	return out, nil
}

func sameProjection(a, b map[string]fileProjection) bool {
	if len(a) != len(b) {
		return false
	}
	for p, fa := range a {
		fb, ok := b[p]
		if !ok || fa.mode != fb.mode.Perm() || !bytes.Equal(fa.data, fb.data) {
			return false
		}
	}
	return true
}

// topLevel returns the first path elements of files.
func topLevel(files map[string]fileProjection) map[string]bool {
	out := map[string]bool{}
	for p := range files {
		first, _, _ := strings.Cut(p, "/")
		out[first] = true
	}
	return out
}

// linkTopLevel makes a link NAME -> ..data/NAME for every top-level name
// of files and removes those of old that are gone.
func linkTopLevel(dir string, files, old map[string]fileProjection) error {
	want := topLevel(files)
	for _, name := range slices.Sorted(maps.Keys(want)) {
		link := filepath.Join(dir, name)
		target := filepath.Join(dataDirName, name)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		_ = os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			return fmt.Errorf("link %s: %w", name, err)
		}
	}
	for name := range topLevel(old) {
		if want[name] {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", name, err)
		}
	}
	return nil
}
