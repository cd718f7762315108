package apiserver

import (
	"log/slog"
	"time"
)

// Config is everything `kl apiserver` needs; the command layer fills it from
// flags, environment and config file.
type Config struct {
	// ListenAddress is host:port to serve on, e.g. 127.0.0.1:6443.
	ListenAddress string
	// Insecure serves plain HTTP without authentication; only allowed on a
	// loopback address.
	Insecure bool
	// TLSCertFile, TLSKeyFile and ClientCAFile configure mTLS.
	TLSCertFile  string
	TLSKeyFile   string
	ClientCAFile string

	// KubeletClientCertFile and KubeletClientKeyFile are the client
	// certificate the apiserver presents to kubelets when it proxies
	// pods/log and pods/exec (Kubernetes' --kubelet-client-certificate and
	// --kubelet-client-key; the apiserver's own certificate, CommonName
	// kube-apiserver, will do). KubeletCAFile verifies the kubelets'
	// serving certificates (--kubelet-certificate-authority); without it
	// they are not verified, as in Kubernetes. When any of them is set
	// kubelets are reached over HTTPS, else over plain HTTP (--insecure
	// clusters).
	KubeletClientCertFile string
	KubeletClientKeyFile  string
	KubeletCAFile         string

	// Storage is "badger" (default), "memory" or "etcd".
	Storage string
	// DataDir holds the badger database.
	DataDir string
	// EtcdServers, EtcdCAFile, EtcdCertFile, EtcdKeyFile, EtcdPrefix configure etcd.
	EtcdServers  []string
	EtcdCAFile   string
	EtcdCertFile string
	EtcdKeyFile  string
	EtcdPrefix   string

	// ServiceClusterIPRange is the CIDR ClusterIPs are allocated from.
	ServiceClusterIPRange string
	// ServiceNodePortRange is "30000-32767".
	ServiceNodePortRange string
	// WatchCacheSize is the most events of history kept per resource for
	// watches (each for at most cacher.DefaultHistoryWindow); older
	// resourceVersions get 410 Gone.
	WatchCacheSize int
	// MaxRequestBodyBytes caps request bodies (413 above it).
	MaxRequestBodyBytes int64
	// BookmarkInterval is how often watches get a BOOKMARK (0: never).
	BookmarkInterval time.Duration
	// MaxRequestsInFlight caps concurrent non-watch requests; more get 429
	// with Retry-After.
	MaxRequestsInFlight int
	// MaxWatchesPerClient caps the open watches of one identity.
	MaxWatchesPerClient int
	// AuditLogPath, when set, gets one JSON line per request.
	AuditLogPath string
	// Profiling serves the Go runtime's profiles (net/http/pprof) under
	// /debug/pprof/ to system:masters, as kube-apiserver's --profiling
	// does. In `kl server` the profiles cover the whole process.
	Profiling bool

	Logger *slog.Logger
}

// Defaults fills unset fields with their defaults.
func (c *Config) Defaults() {
	if c.ListenAddress == "" {
		c.ListenAddress = "127.0.0.1:6443"
	}
	if c.Storage == "" {
		c.Storage = "badger"
	}
	if c.ServiceClusterIPRange == "" {
		c.ServiceClusterIPRange = "10.96.0.0/16"
	}
	if c.ServiceNodePortRange == "" {
		c.ServiceNodePortRange = "30000-32767"
	}
	if c.WatchCacheSize == 0 {
		c.WatchCacheSize = 10000
	}
	if c.MaxRequestBodyBytes == 0 {
		c.MaxRequestBodyBytes = 3 << 20
	}
	if c.MaxRequestsInFlight == 0 {
		c.MaxRequestsInFlight = 800
	}
	if c.MaxWatchesPerClient == 0 {
		c.MaxWatchesPerClient = 5000
	}
	if c.BookmarkInterval == 0 {
		c.BookmarkInterval = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}
