package kubelet

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/kubelet/runtime"
	"github.com/kl-dev/kl/pkg/kubelet/runtime/fake"
)

// readVolume returns what a container sees in a volume directory: each
// visible file (through the links), its content and mode.
func readVolume(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(filepath.Join(dir, dataDirName)+"/", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(dir, dataDirName), path)
		// Read through the top-level link, as a container would.
		visible := filepath.Join(dir, rel)
		data, err := os.ReadFile(visible)
		if err != nil {
			return err
		}
		info, err := os.Stat(visible)
		if err != nil {
			return err
		}
		out[rel] = info.Mode().Perm().String() + " " + string(data)
		return nil
	})
	if err != nil {
		t.Fatalf("read volume %s: %v", dir, err)
	}
	return out
}

// versions lists the versioned directories (..TIMESTAMP) of a volume.
func versions(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "..") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestWriteAtomicSwapsVersionsThroughDataLink(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	v1 := map[string]fileProjection{
		"a":           {data: []byte("1"), mode: 0o644},
		"conf/b.yaml": {data: []byte("b: 1"), mode: 0o400},
		"gone":        {data: []byte("x"), mode: 0o644},
	}
	wrote, err := writeAtomic(dir, v1)
	if err != nil || !wrote {
		t.Fatalf("first write = %v, %v", wrote, err)
	}
	if got, want := readVolume(t, dir), map[string]string{"a": "-rw-r--r-- 1", "conf/b.yaml": "-r-------- b: 1", "gone": "-rw-r--r-- x"}; !maps.Equal(got, want) {
		t.Errorf("content = %v, want %v", got, want)
	}
	for _, name := range []string{"a", "conf", "gone"} {
		if target, err := os.Readlink(filepath.Join(dir, name)); err != nil || target != filepath.Join(dataDirName, name) {
			t.Errorf("%s links to %q (%v), want %s/%s", name, target, err, dataDirName, name)
		}
	}
	first, _ := os.Readlink(filepath.Join(dir, dataDirName))

	// The same content writes nothing.
	if wrote, err := writeAtomic(dir, v1); err != nil || wrote {
		t.Errorf("unchanged write = %v, %v; want nothing written", wrote, err)
	}

	v2 := map[string]fileProjection{
		"a":           {data: []byte("2"), mode: 0o644},
		"conf/b.yaml": {data: []byte("b: 1"), mode: 0o400},
	}
	if wrote, err := writeAtomic(dir, v2); err != nil || !wrote {
		t.Fatalf("second write = %v, %v", wrote, err)
	}
	second, _ := os.Readlink(filepath.Join(dir, dataDirName))
	if second == first || !strings.HasPrefix(second, "..") {
		t.Errorf("..data points to %q after an update, was %q: want a new version", second, first)
	}
	if got := versions(t, dir); !slices.Equal(got, []string{second}) {
		t.Errorf("versioned directories = %v, want only the current %s", got, second)
	}
	if _, err := os.Lstat(filepath.Join(dir, "gone")); !os.IsNotExist(err) {
		t.Errorf("the link of a removed key is still there: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, newDataDirName)); !os.IsNotExist(err) {
		t.Errorf("%s left behind: %v", newDataDirName, err)
	}
	if got, want := readVolume(t, dir), map[string]string{"a": "-rw-r--r-- 2", "conf/b.yaml": "-r-------- b: 1"}; !maps.Equal(got, want) {
		t.Errorf("content after update = %v, want %v", got, want)
	}
}

func TestWriteAtomicRefusesPathsLeavingTheVolume(t *testing.T) {
	for _, p := range []string{"/etc/passwd", "../x", "a/../../x", "..data", "..x/y", "a//b", ""} {
		dir := t.TempDir()
		if _, err := writeAtomic(dir, map[string]fileProjection{p: {data: []byte("x"), mode: 0o644}}); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
}

func TestProjectKeysFollowsItemsModesAndOptional(t *testing.T) {
	data := map[string][]byte{"a": []byte("A"), "b": []byte("B")}
	mode := func(m int32) *int32 { return &m }
	tests := []struct {
		name        string
		items       []corev1.KeyToPath
		defaultMode *int32
		optional    bool
		want        map[string]string // path -> "mode content"
		wantErr     string
	}{
		{name: "every key, 0644", want: map[string]string{"a": "-rw-r--r-- A", "b": "-rw-r--r-- B"}},
		{name: "defaultMode", defaultMode: mode(0o600), want: map[string]string{"a": "-rw------- A", "b": "-rw------- B"}},
		{name: "items with paths and modes", defaultMode: mode(0o640),
			items: []corev1.KeyToPath{{Key: "a", Path: "dir/a.txt", Mode: mode(0o400)}, {Key: "b", Path: "b.txt"}},
			want:  map[string]string{"dir/a.txt": "-r-------- A", "b.txt": "-rw-r----- B"}},
		{name: "missing item key", items: []corev1.KeyToPath{{Key: "c", Path: "c"}}, wantErr: "non-existent config key: c"},
		{name: "missing item key, optional", optional: true, items: []corev1.KeyToPath{{Key: "c", Path: "c"}, {Key: "a", Path: "a"}},
			want: map[string]string{"a": "-rw-r--r-- A"}},
		{name: "item path leaving the volume", items: []corev1.KeyToPath{{Key: "a", Path: "../a"}}, wantErr: `invalid path "../a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := projectKeys(data, tt.items, tt.defaultMode, tt.optional, "configmap references non-existent config key: %s")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for p, f := range files {
				got[p] = f.mode.String() + " " + string(f.data)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("files = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHostPathTypeChecks(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	missing := filepath.Join(dir, "missing")
	typ := func(s corev1.HostPathType) *corev1.HostPathType { return &s }
	tests := []struct {
		path    string
		typ     corev1.HostPathType
		wantErr string
		created bool
	}{
		{path: missing, typ: corev1.HostPathUnset},
		{path: dir, typ: corev1.HostPathDirectory},
		{path: file, typ: corev1.HostPathDirectory, wantErr: "hostPath type check failed: " + file + " is not a directory"},
		{path: missing, typ: corev1.HostPathDirectory, wantErr: "is not a directory"},
		{path: filepath.Join(dir, "new/dir"), typ: corev1.HostPathDirectoryOrCreate, created: true},
		{path: file, typ: corev1.HostPathDirectoryOrCreate, wantErr: "is not a directory"},
		{path: file, typ: corev1.HostPathFile},
		{path: dir, typ: corev1.HostPathFile, wantErr: "hostPath type check failed: " + dir + " is not a file"},
		{path: filepath.Join(dir, "new-file"), typ: corev1.HostPathFileOrCreate, created: true},
		{path: sock, typ: corev1.HostPathSocket},
		{path: file, typ: corev1.HostPathSocket, wantErr: "is not a socket file"},
		{path: file, typ: corev1.HostPathCharDev, wantErr: "is not a character device"},
		{path: file, typ: corev1.HostPathBlockDev, wantErr: "is not a block device"},
		{path: "relative", typ: corev1.HostPathUnset, wantErr: "must be an absolute path"},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+" "+filepath.Base(tt.path), func(t *testing.T) {
			err := checkHostPath(&corev1.HostPathVolumeSource{Path: tt.path, Type: typ(tt.typ)})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(tt.path); tt.created && err != nil {
				t.Errorf("%s not created: %v", tt.path, err)
			}
		})
	}
}

func TestSubPathStaysInsideTheVolume(t *testing.T) {
	base := t.TempDir()
	if err := os.Symlink("/etc", filepath.Join(base, "escape")); err != nil {
		t.Fatal(err)
	}
	empty := &corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	got, err := subPath(empty, base, "logs/app")
	if err != nil {
		t.Fatal(err)
	}
	realBase, _ := filepath.EvalSymlinks(base)
	if got != filepath.Join(realBase, "logs/app") {
		t.Errorf("subPath = %s, want it created under the volume", got)
	}
	if info, err := os.Stat(got); err != nil || !info.IsDir() {
		t.Errorf("subPath directory not created: %v", err)
	}
	for _, sub := range []string{"../x", "/abs", "escape"} {
		if _, err := subPath(empty, base, sub); err == nil {
			t.Errorf("subPath %q accepted", sub)
		}
	}
	cm := &corev1.Volume{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}
	if _, err := subPath(cm, base, "no-such-key"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing subPath of a configMap volume: %v", err)
	}
}

// ---------------------------------------------------------------------------
// On a running kubelet

// recordingRuntime is the fake runtime that remembers the config of the
// containers it creates (the mounts the kubelet asked for).
type recordingRuntime struct {
	*fake.Runtime
	mu      sync.Mutex
	configs map[string]runtime.ContainerConfig // container name -> last config
}

func (r *recordingRuntime) CreateContainer(ctx context.Context, sandboxID string, cfg runtime.ContainerConfig) (string, error) {
	r.mu.Lock()
	r.configs[cfg.Name] = cfg
	r.mu.Unlock()
	return r.Runtime.CreateContainer(ctx, sandboxID, cfg)
}

func (r *recordingRuntime) config(name string) (runtime.ContainerConfig, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, ok := r.configs[name]
	return cfg, ok
}

// withRecorder makes cfg's node run on a recordingRuntime, returned.
func withRecorder(t *testing.T, cfg *Config) *recordingRuntime {
	t.Helper()
	rec := &recordingRuntime{configs: map[string]runtime.ContainerConfig{}}
	cfg.NewRuntime = func(node string, _ int, cidr string) (runtime.Runtime, error) {
		f, err := fake.New(fake.Config{PodCIDR: cidr, NodeIP: cfg.NodeIP, ExitDelay: cfg.FakeExitDelay, Logger: testLogger()})
		if err != nil {
			return nil, err
		}
		rec.Runtime = f
		return rec, nil
	}
	return rec
}

func (c *cluster) configMaps() *client.Resource[corev1.ConfigMap, *corev1.ConfigMap] {
	return client.NewResource[corev1.ConfigMap](c.client, configMapsGVR, true).Namespace("default")
}

func (c *cluster) secrets() *client.Resource[corev1.Secret, *corev1.Secret] {
	return client.NewResource[corev1.Secret](c.client, secretsGVR, true).Namespace("default")
}

func (c *cluster) createConfigMap(name string, data map[string]string) *corev1.ConfigMap {
	c.t.Helper()
	cm, err := c.configMaps().Create(c.t.Context(), &corev1.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default"}, Data: data}, client.CreateOptions{})
	if err != nil {
		c.t.Fatalf("create configmap %s: %v", name, err)
	}
	return cm
}

func (c *cluster) createSecret(name string, data map[string][]byte) {
	c.t.Helper()
	if _, err := c.secrets().Create(c.t.Context(), &corev1.Secret{ObjectMeta: meta.ObjectMeta{Name: name, Namespace: "default"}, Data: data}, client.CreateOptions{}); err != nil {
		c.t.Fatalf("create secret %s: %v", name, err)
	}
}

// eventually polls cond until it holds, failing after waitTimeout with
// what it last said.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not reached within %v: %s", what, waitTimeout, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func volumePod(name string, volumes []corev1.Volume, mounts []corev1.VolumeMount) *corev1.Pod {
	p := pod(name, "n1", "nginx")
	p.Spec.Volumes = volumes
	p.Spec.Containers[0].VolumeMounts = mounts
	return p
}

func TestVolumesAreMaterialisedAndMounted(t *testing.T) {
	c := startCluster(t)
	cfg := c.testConfig("n1")
	rec := withRecorder(t, &cfg)
	c.startKubelet(cfg)
	c.createConfigMap("app", map[string]string{"app.yaml": "port: 80", "level": "debug"})
	c.createSecret("creds", map[string][]byte{"password": []byte("s3cret")})
	hostDir := filepath.Join(t.TempDir(), "host", "logs")

	mode := func(m int32) *int32 { return &m }
	dirOrCreate := corev1.HostPathDirectoryOrCreate
	p := volumePod("vols", []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app"}, DefaultMode: mode(0o640)}}},
		{Name: "picked", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app"},
			Items: []corev1.KeyToPath{{Key: "app.yaml", Path: "conf/app.yaml", Mode: mode(0o400)}}}}},
		{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "creds"}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
		{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir, Type: &dirOrCreate}}},
	}, []corev1.VolumeMount{
		{Name: "config", MountPath: "/etc/app"},
		{Name: "picked", MountPath: "/etc/picked"},
		{Name: "creds", MountPath: "/run/creds"},
		{Name: "scratch", MountPath: "/scratch"},
		{Name: "scratch", MountPath: "/cache", SubPath: "cache"},
		{Name: "host", MountPath: "/var/log/app", ReadOnly: true},
	})
	created := c.create(p)
	c.waitPod("vols", "Running", running)

	vols := filepath.Join(cfg.DataDir, "pods", created.UID, "volumes")
	if got, want := readVolume(t, filepath.Join(vols, "configmap", "config")), map[string]string{"app.yaml": "-rw-r----- port: 80", "level": "-rw-r----- debug"}; !maps.Equal(got, want) {
		t.Errorf("configMap volume = %v, want %v", got, want)
	}
	if got, want := readVolume(t, filepath.Join(vols, "configmap", "picked")), map[string]string{"conf/app.yaml": "-r-------- port: 80"}; !maps.Equal(got, want) {
		t.Errorf("configMap volume with items = %v, want %v", got, want)
	}
	if got, want := readVolume(t, filepath.Join(vols, "secret", "creds")), map[string]string{"password": "-rw-r--r-- s3cret"}; !maps.Equal(got, want) {
		t.Errorf("secret volume = %v, want %v", got, want)
	}
	if info, err := os.Stat(filepath.Join(vols, "emptydir", "scratch")); err != nil || info.Mode().Perm() != 0o777 {
		t.Errorf("emptyDir = %v, %v; want a 0777 directory", info, err)
	}
	if info, err := os.Stat(hostDir); err != nil || !info.IsDir() {
		t.Errorf("hostPath DirectoryOrCreate not created: %v", err)
	}

	cc, ok := rec.config("app")
	if !ok {
		t.Fatal("no container created")
	}
	realVols, _ := filepath.EvalSymlinks(vols)
	want := []runtime.Mount{
		{HostPath: filepath.Join(vols, "configmap", "config"), ContainerPath: "/etc/app", ReadOnly: true},
		{HostPath: filepath.Join(vols, "configmap", "picked"), ContainerPath: "/etc/picked", ReadOnly: true},
		{HostPath: filepath.Join(vols, "secret", "creds"), ContainerPath: "/run/creds", ReadOnly: true},
		{HostPath: filepath.Join(vols, "emptydir", "scratch"), ContainerPath: "/scratch"},
		{HostPath: filepath.Join(realVols, "emptydir", "scratch", "cache"), ContainerPath: "/cache"},
		{HostPath: hostDir, ContainerPath: "/var/log/app", ReadOnly: true},
	}
	if !slices.Equal(cc.Mounts, want) {
		t.Errorf("mounts =\n%+v\nwant\n%+v", cc.Mounts, want)
	}

	// Deleting the pod removes its volumes, not the node's hostPath.
	if err := c.pods.Namespace("default").Delete(t.Context(), "vols", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	c.waitGone("vols")
	eventually(t, "pod directory removed", func() (bool, string) {
		_, err := os.Stat(filepath.Join(cfg.DataDir, "pods", created.UID))
		return os.IsNotExist(err), "stat: " + errString(err)
	})
	if _, err := os.Stat(hostDir); err != nil {
		t.Errorf("hostPath removed with the pod: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// A ConfigMap update reaches the files of running pods through a new
// version and a switch of ..data, so a reader never sees half of it.
func TestConfigMapChangeUpdatesTheVolumeAtomically(t *testing.T) {
	c := startCluster(t)
	cfg := c.testConfig("n1")
	c.startKubelet(cfg)
	cm := c.createConfigMap("app", map[string]string{"a": "1", "b": "1"})
	p := volumePod("watcher", []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app"}}}},
	}, []corev1.VolumeMount{{Name: "config", MountPath: "/etc/app"}})
	created := c.create(p)
	c.waitPod("watcher", "Running", running)
	dir := filepath.Join(cfg.DataDir, "pods", created.UID, "volumes", "configmap", "config")
	before, err := os.Readlink(filepath.Join(dir, dataDirName))
	if err != nil {
		t.Fatal(err)
	}

	cm.Data = map[string]string{"a": "2", "c": "2"}
	if _, err := c.configMaps().Update(t.Context(), cm, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "-rw-r--r-- 2", "c": "-rw-r--r-- 2"}
	// Every observation is one whole version: the old or the new.
	old := map[string]string{"a": "-rw-r--r-- 1", "b": "-rw-r--r-- 1"}
	eventually(t, "the volume shows the new ConfigMap", func() (bool, string) {
		got := readVolume(t, dir)
		if !maps.Equal(got, old) && !maps.Equal(got, want) {
			t.Fatalf("volume shows a mix of versions: %v", got)
		}
		return maps.Equal(got, want), "content " + strings.Join(slices.Sorted(maps.Keys(got)), ",")
	})
	after, _ := os.Readlink(filepath.Join(dir, dataDirName))
	if after == before {
		t.Errorf("..data still points to %s after the update", before)
	}
	// The writer removes the old version right after switching ..data.
	eventually(t, "only the new version is left", func() (bool, string) {
		got := versions(t, dir)
		return slices.Equal(got, []string{after}), fmt.Sprintf("versions = %v, want only %s", got, after)
	})
	if _, err := os.Lstat(filepath.Join(dir, "b")); !os.IsNotExist(err) {
		t.Errorf("the removed key b is still visible: %v", err)
	}
	if got := containerStatus(c.get("watcher"), "app").RestartCount; got != 0 {
		t.Errorf("restartCount = %d: a ConfigMap change must not restart containers", got)
	}
}

func TestMissingConfigMapOrKeyIsCreateContainerConfigError(t *testing.T) {
	c := startCluster(t)
	c.startKubelet(c.testConfig("n1"))
	waitingWith := func(msg string) func(*corev1.Pod) bool {
		return func(p *corev1.Pod) bool {
			w := containerStatus(p, "app").State.Waiting
			return w != nil && w.Reason == "CreateContainerConfigError" && w.Message == msg
		}
	}

	// A volume of a ConfigMap that does not exist yet.
	vol := c.create(volumePod("vol", []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "later"}}}},
	}, []corev1.VolumeMount{{Name: "config", MountPath: "/etc/app"}}))
	c.waitPod("vol", "CreateContainerConfigError", waitingWith(`MountVolume.SetUp failed for volume "config" : configmap "later" not found`))
	c.waitEvent(vol, `FailedMount: MountVolume.SetUp failed for volume "config" : configmap "later" not found`)

	// Items naming a key the Secret lacks.
	c.createSecret("creds", map[string][]byte{"user": []byte("u")})
	c.create(volumePod("item", []corev1.Volume{
		{Name: "creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "creds", Items: []corev1.KeyToPath{{Key: "password", Path: "pw"}}}}},
	}, nil))
	c.waitPod("item", "CreateContainerConfigError", waitingWith(`MountVolume.SetUp failed for volume "creds" : references non-existent secret key: password`))

	// An env key the ConfigMap lacks, and a Secret that does not exist.
	c.createConfigMap("env", map[string]string{"url": "http://x"})
	envPod := pod("envkey", "n1", "nginx")
	envPod.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "PORT", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "env"}, Key: "port"}}}}
	c.create(envPod)
	c.waitPod("envkey", "CreateContainerConfigError", waitingWith("couldn't find key port in ConfigMap default/env"))
	envSecret := pod("envsecret", "n1", "nginx")
	envSecret.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}}}}
	c.create(envSecret)
	c.waitPod("envsecret", "CreateContainerConfigError", waitingWith(`secret "nope" not found`))

	// Optional sources that are missing do not hold the pod.
	yes := true
	opt := volumePod("optional", []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Optional: &yes}}},
	}, []corev1.VolumeMount{{Name: "config", MountPath: "/etc/app"}})
	opt.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "nope", Optional: &yes}}}}
	c.create(opt)
	c.waitPod("optional", "Running", running)

	// Once the ConfigMap exists the waiting pod starts.
	c.createConfigMap("later", map[string]string{"k": "v"})
	c.waitPod("vol", "Running", running)
}

func TestHostPathTypeMismatchHoldsThePod(t *testing.T) {
	c := startCluster(t)
	c.startKubelet(c.testConfig("n1"))
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dirType := corev1.HostPathDirectory
	c.create(volumePod("hp", []corev1.Volume{
		{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: file, Type: &dirType}}},
	}, []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}))
	want := `MountVolume.SetUp failed for volume "data" : hostPath type check failed: ` + file + ` is not a directory`
	c.waitPod("hp", "CreateContainerConfigError", func(p *corev1.Pod) bool {
		w := containerStatus(p, "app").State.Waiting
		return w != nil && w.Reason == "CreateContainerConfigError" && w.Message == want
	})
}

// A kubelet that starts removes the volumes of pods deleted while it was
// down, and keeps those of its pods.
func TestKubeletStartRemovesVolumesOfPodsThatAreGone(t *testing.T) {
	c := startCluster(t)
	cfg := c.testConfig("n1")
	rk := c.startKubelet(cfg)
	kept := c.create(volumePod("kept", []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		[]corev1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}}))
	c.waitPod("kept", "Running", running)
	keptFile := filepath.Join(cfg.DataDir, "pods", kept.UID, "volumes", "emptydir", "scratch", "data")
	if err := os.WriteFile(keptFile, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	rk.stop(t)
	orphan := filepath.Join(cfg.DataDir, "pods", "0f0e0d0c-dead-4bee-8fad-000000000001")
	if err := os.MkdirAll(filepath.Join(orphan, "volumes", "emptydir", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	c.startKubelet(cfg)
	eventually(t, "orphaned pod directory removed", func() (bool, string) {
		_, err := os.Stat(orphan)
		return os.IsNotExist(err), errString(err)
	})
	if data, err := os.ReadFile(keptFile); err != nil || string(data) != "x" {
		t.Errorf("emptyDir of a live pod lost across a kubelet restart: %q, %v", data, err)
	}
}

// A relative --data-dir (`make run` uses ./.kl/data) still gives the
// runtime absolute host paths, which a container engine requires.
func TestRelativeDataDirGivesAbsoluteMountPaths(t *testing.T) {
	c := startCluster(t)
	cfg := c.testConfig("n1")
	t.Chdir(filepath.Dir(cfg.DataDir))
	cfg.DataDir = filepath.Base(cfg.DataDir)
	rec := withRecorder(t, &cfg)
	c.startKubelet(cfg)
	c.create(volumePod("rel", []corev1.Volume{
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}, []corev1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}}))
	c.waitPod("rel", "Running", running)
	cc, ok := rec.config("app")
	if !ok {
		t.Fatal("no container created")
	}
	if len(cc.Mounts) != 1 || !filepath.IsAbs(cc.Mounts[0].HostPath) {
		t.Fatalf("mounts = %+v, want one with an absolute host path", cc.Mounts)
	}
}
