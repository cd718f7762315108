package fake

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kl-dev/kl/pkg/kubelet/runtime"
)

// Config configures a fake runtime. The zero value works.
type Config struct {
	// PodCIDR is the range sandbox IPs come from (default 10.244.0.0/24).
	PodCIDR string
	// NodeIP is the IP of host-network sandboxes (default 127.0.0.1).
	NodeIP string
	// StartDelay is how long StartContainer takes before the container
	// runs (default 0).
	StartDelay time.Duration
	// ExitDelay is how long a short-lived container (kl.test/exit,
	// kl.test/crash, echo, true, ...) runs before it exits (default 10ms).
	ExitDelay time.Duration
	// PullDelay is how long PullImage takes (default 0).
	PullDelay time.Duration
	// StateFile, if set, is where the state is kept across restarts.
	StateFile string
	// SaveInterval bounds how long a change waits before it is written to
	// StateFile (default 3s; Close writes what is pending).
	SaveInterval time.Duration
	// Logger receives state file errors (default: discard).
	Logger *slog.Logger
}

// Version is the fake runtime's version (containerRuntimeVersion fake://0.1).
const Version = "0.1"

// maxLogBytes bounds the log kept per container; older lines are dropped.
const maxLogBytes = 1 << 20

// Runtime is the fake container runtime. Make one with New.
type Runtime struct {
	cfg    Config
	log    *slog.Logger
	prefix netip.Prefix
	nodeIP string

	mu         sync.Mutex
	sandboxes  map[string]*sandbox
	containers map[string]*container
	byPod      map[string]map[string]*container // pod UID -> ID -> container
	images     map[string]*runtime.Image        // by normalized name
	ipUsed     map[netip.Addr]string            // IP -> sandbox ID
	ipNext     int
	seq        uint64
	statusErr  error
	closed     bool
	subs       map[*subscriber]struct{}
	timers     map[string]*time.Timer // container ID -> exit timer
	dirty      bool
	saveTimer  *time.Timer
	done       chan struct{}
	saveMu     sync.Mutex // orders state file writes
	closeOnce  sync.Once
	closeError error
}

var _ runtime.Runtime = (*Runtime)(nil)

type sandbox struct {
	ID          string
	Name        string
	Namespace   string
	UID         string
	Attempt     uint32
	State       runtime.SandboxState
	IP          string
	Hostname    string
	HostNetwork bool
	CreatedAt   time.Time
	Labels      map[string]string
	Seq         uint64
}

type logLine struct {
	Time   time.Time
	Stream string
	Text   string
}

type container struct {
	ID         string
	SandboxID  string
	Name       string
	Attempt    uint32
	PodName    string
	PodNS      string
	PodUID     string
	Image      string
	ImageRef   string
	State      runtime.ContainerState
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int32
	Reason     string
	Message    string
	Labels     map[string]string
	Argv       []string
	Env        []runtime.KeyValue
	Seq        uint64
	// ExitAt is when a running container that ends by itself exits.
	ExitAt time.Time
	B      behaviourState
	Logs   []logLine
	// LogBytes is the size of Logs.
	LogBytes int

	// changed is closed (and replaced) whenever logs or state change.
	changed chan struct{}
}

// behaviourState is behaviour in exported (persistable) form.
type behaviourState struct {
	Exits      bool
	RunFor     time.Duration
	ExitCode   int32
	Reason     string
	IgnoreTerm bool
	Output     string
}

// New returns a fake runtime, loading cfg.StateFile if it exists.
func New(cfg Config) (*Runtime, error) {
	if cfg.PodCIDR == "" {
		cfg.PodCIDR = "10.244.0.0/24"
	}
	if cfg.NodeIP == "" {
		cfg.NodeIP = "127.0.0.1"
	}
	if cfg.ExitDelay == 0 {
		cfg.ExitDelay = 10 * time.Millisecond
	}
	if cfg.SaveInterval <= 0 {
		cfg.SaveInterval = 3 * time.Second
	}
	prefix, err := netip.ParsePrefix(cfg.PodCIDR)
	if err != nil || !prefix.Addr().Is4() {
		return nil, fmt.Errorf("fake runtime: pod CIDR %q: want an IPv4 CIDR such as 10.244.0.0/24", cfg.PodCIDR)
	}
	if prefix.Bits() > 30 {
		return nil, fmt.Errorf("fake runtime: pod CIDR %q is too small (at most /30)", cfg.PodCIDR)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runtime{
		cfg: cfg, log: log, prefix: prefix.Masked(), nodeIP: cfg.NodeIP,
		sandboxes:  map[string]*sandbox{},
		containers: map[string]*container{},
		byPod:      map[string]map[string]*container{},
		images:     map[string]*runtime.Image{},
		ipUsed:     map[netip.Addr]string{},
		subs:       map[*subscriber]struct{}{},
		timers:     map[string]*time.Timer{},
		done:       make(chan struct{}),
	}
	if cfg.StateFile != "" {
		if err := r.load(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// SetStatus makes Status return err (nil: healthy), to simulate a runtime
// that is down.
func (r *Runtime) SetStatus(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statusErr = err
}

// Version implements runtime.Runtime.
func (r *Runtime) Version(context.Context) (runtime.VersionInfo, error) {
	return runtime.VersionInfo{RuntimeName: "fake", RuntimeVersion: Version, RuntimeAPIVersion: Version}, nil
}

// Status implements runtime.Runtime.
func (r *Runtime) Status(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("fake runtime is closed")
	}
	return r.statusErr
}

// Close stops the runtime's timers and writes the state file. Containers
// keep their state: a new Runtime on the same file finds them.
func (r *Runtime) Close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		for id, t := range r.timers {
			t.Stop()
			delete(r.timers, id)
		}
		if r.saveTimer != nil {
			r.saveTimer.Stop()
			r.saveTimer = nil
		}
		close(r.done)
		r.mu.Unlock()
		r.closeError = r.flush()
	})
	return r.closeError
}

func newID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (r *Runtime) nextSeq() uint64 {
	r.seq++
	return r.seq
}

func (r *Runtime) checkOpen() error {
	if r.closed {
		return errors.New("fake runtime is closed")
	}
	return nil
}

// ---------------------------------------------------------------------------
// Sandboxes

// RunPodSandbox implements runtime.Runtime.
func (r *Runtime) RunPodSandbox(ctx context.Context, cfg runtime.PodSandboxConfig) (*runtime.PodSandbox, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.UID == "" || cfg.Name == "" {
		return nil, errors.New("run pod sandbox: the pod name and UID are required")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkOpen(); err != nil {
		return nil, err
	}
	s := &sandbox{
		ID: newID(), Name: cfg.Name, Namespace: cfg.Namespace, UID: cfg.UID, Attempt: cfg.Attempt,
		State: runtime.SandboxReady, Hostname: cfg.Hostname, HostNetwork: cfg.HostNetwork,
		CreatedAt: time.Now(), Labels: runtime.PodLabels(&cfg), Seq: r.nextSeq(),
	}
	if s.Hostname == "" {
		s.Hostname = cfg.Name
	}
	if cfg.HostNetwork {
		s.IP = r.nodeIP
	} else {
		ip, err := r.allocateIPLocked(s.ID)
		if err != nil {
			return nil, fmt.Errorf("run pod sandbox for pod %s/%s: %w", cfg.Namespace, cfg.Name, err)
		}
		s.IP = ip.String()
	}
	r.sandboxes[s.ID] = s
	r.markDirtyLocked()
	return s.view(), nil
}

// allocateIPLocked hands out the next free host address of the pod range,
// round-robin so a released IP is not reused at once.
func (r *Runtime) allocateIPLocked(sandboxID string) (netip.Addr, error) {
	size := 1 << (32 - r.prefix.Bits())
	// Skip the network address, .1 (the gateway) and the broadcast address.
	first, last := 2, size-2
	n := last - first + 1
	for i := range n {
		off := first + (r.ipNext+i)%n
		ip := addrAt(r.prefix.Addr(), off)
		if _, used := r.ipUsed[ip]; !used {
			r.ipUsed[ip] = sandboxID
			r.ipNext = (off - first + 1) % n
			return ip, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no free IP left in pod range %s", r.prefix)
}

func addrAt(base netip.Addr, off int) netip.Addr {
	b := base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(off)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func (r *Runtime) releaseIPLocked(s *sandbox) {
	if s.HostNetwork || s.IP == "" {
		return
	}
	if ip, err := netip.ParseAddr(s.IP); err == nil && r.ipUsed[ip] == s.ID {
		delete(r.ipUsed, ip)
	}
}

// StopPodSandbox implements runtime.Runtime.
func (r *Runtime) StopPodSandbox(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sandboxes[id]
	if !ok {
		return nil
	}
	r.stopSandboxLocked(s)
	return nil
}

func (r *Runtime) stopSandboxLocked(s *sandbox) {
	now := time.Now()
	for _, c := range r.byPod[s.UID] {
		if c.SandboxID == s.ID && (c.State == runtime.ContainerRunning || c.State == runtime.ContainerCreated) {
			r.exitLocked(c, exitSIGKILL, "Error", now)
		}
	}
	if s.State == runtime.SandboxReady {
		s.State = runtime.SandboxNotReady
		r.releaseIPLocked(s)
		s.IP = ""
		r.emitLocked(runtime.Event{Type: runtime.SandboxStoppedEvent, SandboxID: s.ID, PodUID: s.UID, Time: now})
	}
	r.markDirtyLocked()
}

// RemovePodSandbox implements runtime.Runtime.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sandboxes[id]
	if !ok {
		return nil
	}
	r.stopSandboxLocked(s)
	for _, c := range r.byPod[s.UID] {
		if c.SandboxID == id {
			r.removeContainerLocked(c)
		}
	}
	delete(r.sandboxes, id)
	r.markDirtyLocked()
	return nil
}

// ListPodSandboxes implements runtime.Runtime.
func (r *Runtime) ListPodSandboxes(ctx context.Context, filter runtime.SandboxFilter) ([]*runtime.PodSandbox, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var list []*sandbox
	for _, s := range r.sandboxes {
		if s.matches(&filter) {
			list = append(list, s)
		}
	}
	slices.SortFunc(list, func(a, b *sandbox) int { return compareSeq(a.Seq, b.Seq) })
	out := make([]*runtime.PodSandbox, len(list))
	for i, s := range list {
		out[i] = s.view()
	}
	return out, nil
}

// matches is filter.Matches on the record, without copying it.
func (s *sandbox) matches(f *runtime.SandboxFilter) bool {
	if (f.ID != "" && f.ID != s.ID) || (f.PodUID != "" && f.PodUID != s.UID) || (f.State != "" && f.State != s.State) {
		return false
	}
	for k, v := range f.Labels {
		if hv, ok := s.Labels[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

func compareSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *sandbox) view() *runtime.PodSandbox {
	return &runtime.PodSandbox{
		ID: s.ID, Name: s.Name, Namespace: s.Namespace, UID: s.UID, Attempt: s.Attempt,
		State: s.State, IP: s.IP, CreatedAt: s.CreatedAt, Labels: cloneMap(s.Labels),
	}
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ---------------------------------------------------------------------------
// Images

// normalizeImage makes "nginx" and "nginx:latest" the same image.
func normalizeImage(image string) string {
	if strings.Contains(image, "@") {
		return image
	}
	if _, tag := splitImage(image); tag == "" {
		return image + ":latest"
	}
	return image
}

func imageRef(image string) string {
	repo, _ := splitImage(image)
	sum := sha256.Sum256([]byte(normalizeImage(image)))
	return repo + "@sha256:" + hex.EncodeToString(sum[:])
}

// PullImage implements runtime.Runtime. kl.test/pull-error fails.
func (r *Runtime) PullImage(ctx context.Context, image string, _ *runtime.AuthConfig) (string, error) {
	if image == "" {
		return "", errors.New("pull image: no image name given")
	}
	if d := r.cfg.PullDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("pull image %q: %w", image, ctx.Err())
		case <-t.C:
		}
	} else if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("pull image %q: %w", image, err)
	}
	if repo, _ := splitImage(image); repo == ImagePullError {
		return "", fmt.Errorf("pull access denied for %s, repository does not exist or may require authorization (the fake runtime never pulls %s)", repo, ImagePullError)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkOpen(); err != nil {
		return "", err
	}
	name := normalizeImage(image)
	img, ok := r.images[name]
	if !ok {
		ref := imageRef(image)
		img = &runtime.Image{ID: ref, RepoTags: []string{name}, RepoDigests: []string{ref}, Size: 1 << 20}
		r.images[name] = img
		r.markDirtyLocked()
	}
	return img.ID, nil
}

// ImageStatus implements runtime.Runtime.
func (r *Runtime) ImageStatus(ctx context.Context, image string) (*runtime.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	img, ok := r.images[normalizeImage(image)]
	if !ok {
		return nil, fmt.Errorf("image %q: %w", image, runtime.ErrNotFound)
	}
	return copyImage(img), nil
}

func copyImage(img *runtime.Image) *runtime.Image {
	cp := *img
	cp.RepoTags = slices.Clone(img.RepoTags)
	cp.RepoDigests = slices.Clone(img.RepoDigests)
	return &cp
}

// ListImages implements runtime.Runtime.
func (r *Runtime) ListImages(ctx context.Context) ([]*runtime.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.images))
	for n := range r.images {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]*runtime.Image, len(names))
	for i, n := range names {
		out[i] = copyImage(r.images[n])
	}
	return out, nil
}

// RemoveImage implements runtime.Runtime.
func (r *Runtime) RemoveImage(ctx context.Context, image string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.images, normalizeImage(image))
	r.markDirtyLocked()
	return nil
}
