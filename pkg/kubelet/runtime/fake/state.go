package fake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// stateVersion is the format of the state file.
const stateVersion = 1

// state is the content of Config.StateFile.
type state struct {
	Version    int                       `json:"version"`
	Sandboxes  []*sandbox                `json:"sandboxes"`
	Containers []*container              `json:"containers"`
	Images     map[string]*runtime.Image `json:"images"`
	IPNext     int                       `json:"ipNext"`
	Seq        uint64                    `json:"seq"`
}

// load reads the state file, if there is one, and settles containers that
// were due to exit while nobody was watching.
func (r *Runtime) load() error {
	data, err := os.ReadFile(r.cfg.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fake runtime: read state: %w", err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("fake runtime: state file %s is corrupt: %w (remove it to start empty)", r.cfg.StateFile, err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("fake runtime: state file %s has version %d, want %d (remove it to start empty)", r.cfg.StateFile, st.Version, stateVersion)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq, r.ipNext = st.Seq, st.IPNext
	for _, s := range st.Sandboxes {
		r.sandboxes[s.ID] = s
		if s.State == runtime.SandboxReady && !s.HostNetwork && s.IP != "" {
			if ip, err := netip.ParseAddr(s.IP); err == nil && r.prefix.Contains(ip) {
				r.ipUsed[ip] = s.ID
			}
		}
	}
	for name, img := range st.Images {
		r.images[name] = img
	}
	now := time.Now()
	for _, c := range st.Containers {
		r.addContainerLocked(c)
		if c.State != runtime.ContainerRunning || c.ExitAt.IsZero() {
			continue
		}
		if !c.ExitAt.After(now) {
			r.exitLocked(c, c.B.ExitCode, c.B.Reason, c.ExitAt)
		} else {
			r.armExitLocked(c)
		}
	}
	return nil
}

// markDirtyLocked schedules a state file write.
func (r *Runtime) markDirtyLocked() {
	if r.cfg.StateFile == "" || r.closed {
		return
	}
	r.dirty = true
	if r.saveTimer == nil {
		r.saveTimer = time.AfterFunc(r.cfg.SaveInterval, func() {
			if err := r.flush(); err != nil {
				r.log.Error("fake runtime: cannot save state", "file", r.cfg.StateFile, "err", err)
			}
		})
	}
}

// flush writes the state file if anything changed (atomically: write a
// temporary file, then rename it).
func (r *Runtime) flush() error {
	if r.cfg.StateFile == "" {
		return nil
	}
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	r.mu.Lock()
	r.saveTimer = nil
	if !r.dirty {
		r.mu.Unlock()
		return nil
	}
	st := state{Version: stateVersion, Images: r.images, IPNext: r.ipNext, Seq: r.seq}
	for _, s := range r.sandboxes {
		st.Sandboxes = append(st.Sandboxes, s)
	}
	for _, c := range r.containers {
		st.Containers = append(st.Containers, c)
	}
	data, err := json.Marshal(&st)
	r.dirty = false
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("fake runtime: encode state: %w", err)
	}
	if err := writeFileAtomic(r.cfg.StateFile, data); err != nil {
		r.mu.Lock()
		r.dirty = true // try again with the next change
		r.mu.Unlock()
		return err
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("fake runtime: create state directory: %w", err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("fake runtime: write state: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp)
		return fmt.Errorf("fake runtime: write state %s: %w", path, errors.Join(werr, cerr))
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("fake runtime: write state %s: %w", path, err)
	}
	return nil
}
