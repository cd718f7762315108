package kubelet

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// Directories of a pod's volumes under DATA_DIR/pods/UID/volumes, one per
// kind of volume.
const (
	volumeDirEmptyDir  = "emptydir"
	volumeDirConfigMap = "configmap"
	volumeDirSecret    = "secret"
)

// volumeManager prepares the volumes of the kubelet's pods on the node's
// disk, for the runtime to bind-mount into their containers:
//
//   - emptyDir: DATA_DIR/pods/UID/volumes/emptydir/NAME, mode 0777, shared
//     by the pod's containers and kept across their restarts (medium
//     Memory is a plain directory too);
//   - configMap and secret: DATA_DIR/pods/UID/volumes/{configmap,secret}/NAME,
//     the object's keys (or the items asked for) as files, written
//     atomically (see writeAtomic) and rewritten when the object changes;
//     always mounted read-only, as Kubernetes does;
//   - hostPath: the node's path itself, after the check its type asks for.
//
// A pod's directory is removed once the pod is gone from the node.
type volumeManager struct {
	root    string // DATA_DIR/pods ("" when the kubelet has no data directory)
	objects *objectCache
	log     *slog.Logger

	mu      sync.Mutex
	active  map[string]bool   // pod UIDs whose directories are in use
	written map[string]uint64 // volume directory -> hash of the content last written
}

func newVolumeManager(dataDir string, objects *objectCache, log *slog.Logger) *volumeManager {
	m := &volumeManager{objects: objects, log: log, active: map[string]bool{}, written: map[string]uint64{}}
	if dataDir != "" {
		m.root = filepath.Join(dataDir, "pods")
	}
	return m
}

// errNoDataDir is the error for volumes of a kubelet without a data
// directory.
var errNoDataDir = errors.New("the kubelet has no data directory (--data-dir) to hold pod volumes")

// volumePath returns where volume v of pod lives on the node.
func (m *volumeManager) volumePath(pod *corev1.Pod, v *corev1.Volume) string {
	var kind string
	switch {
	case v.HostPath != nil:
		return v.HostPath.Path
	case v.ConfigMap != nil:
		kind = volumeDirConfigMap
	case v.Secret != nil:
		kind = volumeDirSecret
	default:
		kind = volumeDirEmptyDir
	}
	return filepath.Join(m.root, pod.UID, "volumes", kind, v.Name)
}

// setUp makes every volume of pod ready and returns an error per volume
// that is not, by volume name (nil when all are ready). It is cheap when
// nothing changed: ConfigMaps and Secrets come from the object cache and
// unchanged content is not rewritten.
func (m *volumeManager) setUp(ctx context.Context, pod *corev1.Pod) map[string]error {
	if len(pod.Spec.Volumes) == 0 {
		return nil
	}
	var errs map[string]error
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if err := m.setUpVolume(ctx, pod, v); err != nil {
			if errs == nil {
				errs = map[string]error{}
			}
			errs[v.Name] = err
		}
	}
	return errs
}

func (m *volumeManager) setUpVolume(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) error {
	if v.HostPath != nil {
		return checkHostPath(v.HostPath)
	}
	if m.root == "" {
		return errNoDataDir
	}
	// The pod's directory is in use from now on: orphan cleanup leaves it.
	m.mu.Lock()
	m.active[pod.UID] = true
	m.mu.Unlock()
	dir := m.volumePath(pod, v)
	switch {
	case v.ConfigMap != nil:
		files, err := m.configMapFiles(ctx, pod.Namespace, v.ConfigMap)
		if err != nil {
			return err
		}
		return m.project(pod, v, dir, files)
	case v.Secret != nil:
		files, err := m.secretFiles(ctx, pod.Namespace, v.Secret)
		if err != nil {
			return err
		}
		return m.project(pod, v, dir, files)
	default:
		// emptyDir (the default source): world-writable, as in
		// Kubernetes, so containers running as any user can use it.
		if _, err := os.Stat(dir); err == nil {
			return nil
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create emptyDir: %w", err)
		}
		if err := os.Chmod(dir, 0o777); err != nil {
			return fmt.Errorf("create emptyDir: %w", err)
		}
		return nil
	}
}

// project writes a ConfigMap or Secret volume's files, unless this
// kubelet last wrote exactly them.
func (m *volumeManager) project(pod *corev1.Pod, v *corev1.Volume, dir string, files map[string]fileProjection) error {
	sum := hashProjection(files)
	m.mu.Lock()
	same := m.written[dir] == sum
	m.mu.Unlock()
	if same {
		return nil
	}
	wrote, err := writeAtomic(dir, files)
	if err != nil {
		return fmt.Errorf("write volume content: %w", err)
	}
	m.mu.Lock()
	m.written[dir] = sum
	m.mu.Unlock()
	if wrote {
		m.log.Debug("volume content written", "pod", pod.Namespace+"/"+pod.Name, "volume", v.Name, "files", len(files))
	}
	return nil
}

// configMapFiles returns the files of a configMap volume.
func (m *volumeManager) configMapFiles(ctx context.Context, namespace string, src *corev1.ConfigMapVolumeSource) (map[string]fileProjection, error) {
	cm, err := m.objects.configMap(ctx, namespace, src.Name)
	if err != nil {
		if meta.IsNotFound(err) && optional(src.Optional) {
			return map[string]fileProjection{}, nil
		}
		return nil, err
	}
	data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return projectKeys(data, src.Items, src.DefaultMode, optional(src.Optional), "configmap references non-existent config key: %s")
}

// secretFiles returns the files of a secret volume.
func (m *volumeManager) secretFiles(ctx context.Context, namespace string, src *corev1.SecretVolumeSource) (map[string]fileProjection, error) {
	s, err := m.objects.secret(ctx, namespace, src.SecretName)
	if err != nil {
		if meta.IsNotFound(err) && optional(src.Optional) {
			return map[string]fileProjection{}, nil
		}
		return nil, err
	}
	return projectKeys(s.Data, src.Items, src.DefaultMode, optional(src.Optional), "references non-existent secret key: %s")
}

// projectKeys maps an object's keys to files as Kubernetes does: every key
// to a file of its name, or only the items listed (key -> path, with their
// own mode); a listed key that is missing is an error unless the volume is
// optional. Modes default to defaultMode, else 0644.
func projectKeys(data map[string][]byte, items []corev1.KeyToPath, defaultMode *int32, optional bool, missingFormat string) (map[string]fileProjection, error) {
	mode := fs.FileMode(corev1.ConfigMapVolumeSourceDefaultMode)
	if defaultMode != nil {
		mode = fs.FileMode(*defaultMode) & fs.ModePerm
	}
	out := map[string]fileProjection{}
	if len(items) == 0 {
		for _, k := range slices.Sorted(maps.Keys(data)) {
			if err := validateProjectedPath(k); err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			out[k] = fileProjection{data: data[k], mode: mode}
		}
		return out, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf(missingFormat, it.Key)
		}
		if err := validateProjectedPath(it.Path); err != nil {
			return nil, fmt.Errorf("item %q: %w", it.Key, err)
		}
		m := mode
		if it.Mode != nil {
			m = fs.FileMode(*it.Mode) & fs.ModePerm
		}
		out[it.Path] = fileProjection{data: v, mode: m}
	}
	return out, nil
}

// hashProjection hashes files (paths, modes and contents).
func hashProjection(files map[string]fileProjection) uint64 {
	h := fnv.New64a()
	for _, p := range slices.Sorted(maps.Keys(files)) {
		f := files[p]
		fmt.Fprintf(h, "%d:%s:%o:%d:", len(p), p, f.mode, len(f.data))
		h.Write(f.data)
	}
	return h.Sum64()
}

// checkHostPath applies the checks of a hostPath volume's type, creating
// the directory or file for the *OrCreate types, with Kubernetes' messages.
func checkHostPath(src *corev1.HostPathVolumeSource) error {
	typ := corev1.HostPathUnset
	if src.Type != nil {
		typ = *src.Type
	}
	path := src.Path
	if !filepath.IsAbs(path) {
		return fmt.Errorf("hostPath %q must be an absolute path", path)
	}
	info, err := os.Stat(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("hostPath type check failed: %w", err)
	}
	failed := func(what string) error { return fmt.Errorf("hostPath type check failed: %s is not a %s", path, what) }
	switch typ {
	case corev1.HostPathUnset:
		return nil
	case corev1.HostPathDirectoryOrCreate:
		if !exists {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return fmt.Errorf("hostPath: create directory %s: %w", path, err)
			}
			return nil
		}
		if !info.IsDir() {
			return failed("directory")
		}
	case corev1.HostPathDirectory:
		if !exists || !info.IsDir() {
			return failed("directory")
		}
	case corev1.HostPathFileOrCreate:
		if !exists {
			f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("hostPath: create file %s: %w", path, err)
			}
			if f != nil {
				_ = f.Close()
			}
			return nil
		}
		if !info.Mode().IsRegular() {
			return failed("file")
		}
	case corev1.HostPathFile:
		if !exists || !info.Mode().IsRegular() {
			return failed("file")
		}
	case corev1.HostPathSocket:
		if !exists || info.Mode()&fs.ModeSocket == 0 {
			return failed("socket file")
		}
	case corev1.HostPathCharDev:
		if !exists || info.Mode()&fs.ModeCharDevice == 0 {
			return failed("character device")
		}
	case corev1.HostPathBlockDev:
		if !exists || info.Mode()&fs.ModeDevice == 0 || info.Mode()&fs.ModeCharDevice != 0 {
			return failed("block device")
		}
	default:
		return fmt.Errorf("hostPath %s: unknown type %q", path, typ)
	}
	return nil
}

// mounts maps the container's volume mounts to node paths for the runtime:
// configMap and secret volumes are always read-only, a subPath mounts a
// path inside the volume (created if need be, for directories; it must not
// lead out of the volume through a symlink).
func (m *volumeManager) mounts(pod *corev1.Pod, c *corev1.Container) ([]runtime.Mount, error) {
	var out []runtime.Mount
	for _, vm := range c.VolumeMounts {
		i := slices.IndexFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name })
		if i < 0 {
			return nil, fmt.Errorf("volume mount %q of container %q names no volume of the pod", vm.Name, c.Name)
		}
		v := &pod.Spec.Volumes[i]
		if v.HostPath == nil && m.root == "" {
			return nil, errNoDataDir
		}
		host := m.volumePath(pod, v)
		if vm.SubPath != "" {
			var err error
			if host, err = subPath(v, host, vm.SubPath); err != nil {
				return nil, err
			}
		}
		readOnly := vm.ReadOnly || v.ConfigMap != nil || v.Secret != nil
		out = append(out, runtime.Mount{HostPath: host, ContainerPath: vm.MountPath, ReadOnly: readOnly})
	}
	return out, nil
}

// subPath resolves a volume mount's subPath inside the volume at base.
func subPath(v *corev1.Volume, base, sub string) (string, error) {
	if filepath.IsAbs(sub) || slices.Contains(strings.Split(filepath.ToSlash(sub), "/"), "..") {
		return "", fmt.Errorf("subPath %q of volume %q must be a relative path without '..'", sub, v.Name)
	}
	full := filepath.Join(base, sub)
	if _, err := os.Lstat(full); errors.Is(err, fs.ErrNotExist) {
		if v.ConfigMap != nil || v.Secret != nil {
			return "", fmt.Errorf("subPath %q of volume %q does not exist", sub, v.Name)
		}
		perm := fs.FileMode(0o755)
		if info, err := os.Stat(base); err == nil {
			perm = info.Mode().Perm()
		}
		if err := os.MkdirAll(full, perm); err != nil {
			return "", fmt.Errorf("create subPath %q of volume %q: %w", sub, v.Name, err)
		}
	}
	realBase, err := filepath.EvalSymlinks(base)
	if err != nil {
		return "", fmt.Errorf("volume %q: %w", v.Name, err)
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return "", fmt.Errorf("subPath %q of volume %q: %w", sub, v.Name, err)
	}
	if rel, err := filepath.Rel(realBase, real); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("subPath %q of volume %q leads out of the volume (to %s)", sub, v.Name, real)
	}
	return real, nil
}

// tearDown removes the pod's directory (its emptyDir, ConfigMap and
// Secret volumes) once the pod is gone from the node. hostPath volumes are
// the node's and stay.
func (m *volumeManager) tearDown(uid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.active, uid)
	if m.root == "" || uid == "" {
		return nil
	}
	podDir := filepath.Join(m.root, uid) + string(filepath.Separator)
	for dir := range m.written {
		if strings.HasPrefix(dir, podDir) {
			delete(m.written, dir)
		}
	}
	if err := os.RemoveAll(filepath.Join(m.root, uid)); err != nil {
		return fmt.Errorf("remove the volumes of pod %s: %w", uid, err)
	}
	return nil
}

// cleanupOrphans removes the directories of pods that are neither in use
// nor known (bound to a node of this kubelet): pods deleted while the
// kubelet was down.
func (m *volumeManager) cleanupOrphans(known func(uid string) bool) {
	if m.root == "" {
		return
	}
	entries, err := os.ReadDir(m.root)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			m.log.Warn("cannot list pod directories for cleanup", "err", err)
		}
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range entries {
		uid := e.Name()
		if !e.IsDir() || m.active[uid] || known(uid) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(m.root, uid)); err != nil {
			m.log.Warn("cannot remove the directory of a pod that no longer exists", "uid", uid, "err", err)
			continue
		}
		m.log.Info("removed the volumes of a pod that no longer exists", "uid", uid)
	}
}

// reasonFailedMount is the event of a volume that cannot be set up.
const reasonFailedMount = "FailedMount"

// setUpVolumes registers the objects the pod uses (so their changes wake
// this worker) and sets up its volumes, keeping the failures for
// volumeError; a new failure of a volume is reported as a FailedMount
// event.
func (w *podWorker) setUpVolumes(ctx context.Context, pod *corev1.Pod) {
	n := w.n
	uid := w.uid
	n.k.objects.register(uid, podObjectRefs(pod), func() { n.wake(uid) })
	w.volumeErrs = n.k.volumes.setUp(ctx, pod)
	for name, err := range w.volumeErrs {
		if ctx.Err() != nil {
			return
		}
		msg := err.Error()
		if w.mountFailed[name] == msg {
			continue
		}
		w.mountFailed[name] = msg
		n.k.recorder.eventf(n.name, podRef(pod, "", false), corev1.EventTypeWarning, reasonFailedMount,
			"MountVolume.SetUp failed for volume %q : %s", name, msg)
	}
	for name := range w.mountFailed {
		if _, failing := w.volumeErrs[name]; !failing {
			delete(w.mountFailed, name)
		}
	}
}

// volumeError returns why the pod's volumes are not ready (the first
// failing volume by name), or nil.
func (w *podWorker) volumeError() error {
	if len(w.volumeErrs) == 0 {
		return nil
	}
	name := slices.Min(slices.Collect(maps.Keys(w.volumeErrs)))
	return fmt.Errorf("MountVolume.SetUp failed for volume %q : %w", name, w.volumeErrs[name])
}
