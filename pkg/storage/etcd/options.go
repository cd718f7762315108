package etcd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"
)

// Options configures a Store.
type Options struct {
	// Endpoints are the etcd client URLs (http://HOST:2379 or
	// https://HOST:2379). At least one is required; the client spreads
	// requests over them and moves to another when one fails.
	Endpoints []string
	// CAFile verifies the etcd servers' certificates (PEM). Without it an
	// https endpoint is verified against the system's roots.
	CAFile string
	// CertFile and KeyFile are the client certificate and key (PEM)
	// presented to etcd; both or neither.
	CertFile string
	KeyFile  string
	// Prefix is prepended to every kl key ("" or "/name", no trailing
	// slash: one is trimmed). kl keys start with /registry/, so the default
	// "" stores objects where Kubernetes does. It does not make sharing
	// one etcd between kl clusters work well (see the package doc).
	Prefix string
	// DialTimeout bounds Open's first round trip to the cluster
	// (0: DefaultDialTimeout).
	DialTimeout time.Duration
	// WatchBufferSize is how many events a watch holds for a reader that
	// is behind; one more ends the watch with storage.ErrGone so that the
	// reader re-lists (0: DefaultWatchBufferSize).
	WatchBufferSize int
	// CompactionInterval is how often the store compacts etcd's history,
	// to the revision it saw one interval earlier (0:
	// DefaultCompactionInterval; negative: never, e.g. when etcd runs with
	// --auto-compaction-retention).
	CompactionInterval time.Duration
	// Logger receives the store's and the etcd client's warnings (nil:
	// discarded).
	Logger *slog.Logger
}

// Defaults for Options' zero values.
const (
	DefaultDialTimeout        = 10 * time.Second
	DefaultWatchBufferSize    = 10000
	DefaultCompactionInterval = 5 * time.Minute
)

func (o Options) withDefaults() (Options, error) {
	if len(o.Endpoints) == 0 {
		return o, errors.New("etcd store: no endpoints given")
	}
	for _, e := range o.Endpoints {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return o, fmt.Errorf("etcd store: endpoint %q is not an http:// or https:// URL", e)
		}
	}
	o.Prefix = strings.TrimRight(o.Prefix, "/")
	if o.Prefix != "" && !strings.HasPrefix(o.Prefix, "/") {
		return o, fmt.Errorf("etcd store: prefix %q must start with /", o.Prefix)
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return o, errors.New("etcd store: a client certificate needs both CertFile and KeyFile")
	}
	if o.DialTimeout < 0 || o.WatchBufferSize < 0 {
		return o, fmt.Errorf("etcd store: negative DialTimeout %v or WatchBufferSize %d", o.DialTimeout, o.WatchBufferSize)
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.WatchBufferSize == 0 {
		o.WatchBufferSize = DefaultWatchBufferSize
	}
	if o.CompactionInterval == 0 {
		o.CompactionInterval = DefaultCompactionInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// tlsConfig returns the client TLS configuration, or nil for plain-HTTP
// endpoints without certificates.
func (o Options) tlsConfig() (*tls.Config, error) {
	secure := o.CAFile != "" || o.CertFile != ""
	for _, e := range o.Endpoints {
		if strings.HasPrefix(e, "https://") {
			secure = true
		}
	}
	if !secure {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("etcd store: read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd store: CA file %s holds no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("etcd store: load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
