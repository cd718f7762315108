package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/client/informer"
)

// ClusterIPMode says whether and how the proxy makes ClusterIPs reachable.
type ClusterIPMode string

// Cluster IP modes.
const (
	// ClusterIPModeAuto puts ClusterIPs on the service interface when it
	// can be created (root, Linux) and otherwise warns once and serves
	// NodePorts and external addresses only.
	ClusterIPModeAuto ClusterIPMode = "auto"
	// ClusterIPModeDummyInterface requires the service interface: Run
	// fails if it cannot be created.
	ClusterIPModeDummyInterface ClusterIPMode = "dummy-interface"
	// ClusterIPModeOff never serves ClusterIPs.
	ClusterIPModeOff ClusterIPMode = "off"
)

// Defaults.
const (
	// DefaultInterfaceName is the service interface's name.
	DefaultInterfaceName = "kl-svc0"
	// DefaultDialTimeout bounds connecting to one endpoint.
	DefaultDialTimeout = time.Second
	// DefaultMetricsAddress is where kube-proxy serves its metrics.
	DefaultMetricsAddress = "127.0.0.1:10249"
)

// Config configures a Proxy.
type Config struct {
	// Client is the API client. It is required unless both Services and
	// Endpoints are given.
	Client *client.Client
	// Services and Endpoints are shared informers to use (kl server passes
	// the controller manager's); nil: the proxy makes and runs its own.
	// The owner of shared informers runs them.
	Services  *informer.Informer[*corev1.Service]
	Endpoints *informer.Informer[*corev1.Endpoints]

	// NodeName is this node's name: endpoints on it serve Services whose
	// traffic policy is Local.
	NodeName string
	// NodeIP is this node's address (optional). Without BindAddress,
	// NodePorts listen on it and on 127.0.0.1.
	NodeIP netip.Addr
	// BindAddress is the address NodePorts listen on (optional); a
	// specific, non-loopback address also gets 127.0.0.1. Unset, and
	// without NodeIP, NodePorts listen on 0.0.0.0 (every IPv4 address).
	BindAddress netip.Addr

	// ClusterIPMode is auto (default), dummy-interface or off.
	ClusterIPMode ClusterIPMode
	// InterfaceName is the service interface (default kl-svc0). Only one
	// proxy per machine may use a given name.
	InterfaceName string

	// DialTimeout bounds connecting to one endpoint (default 1s); a
	// backend that does not accept in time is skipped for the next.
	DialTimeout time.Duration
	// MetricsAddress is host:port serving /metrics and /healthz; empty:
	// not served.
	MetricsAddress string

	// Logger (nil: discard).
	Logger *slog.Logger
}

// defaults fills unset fields.
func (c *Config) defaults() {
	if c.ClusterIPMode == "" {
		c.ClusterIPMode = ClusterIPModeAuto
	}
	if c.InterfaceName == "" {
		c.InterfaceName = DefaultInterfaceName
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// validate checks the configuration.
func (c *Config) validate() error {
	var errs []error
	if c.Client == nil && (c.Services == nil || c.Endpoints == nil) {
		errs = append(errs, errors.New("proxy: Client is required (or both Services and Endpoints informers)"))
	}
	switch c.ClusterIPMode {
	case ClusterIPModeAuto, ClusterIPModeDummyInterface, ClusterIPModeOff:
	default:
		errs = append(errs, fmt.Errorf("proxy: cluster IP mode %q: want auto, dummy-interface or off", c.ClusterIPMode))
	}
	if n := len(c.InterfaceName); n > 15 {
		errs = append(errs, fmt.Errorf("proxy: interface name %q is longer than 15 characters", c.InterfaceName))
	}
	if c.MetricsAddress != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddress); err != nil {
			errs = append(errs, fmt.Errorf("proxy: metrics address %q: want host:port", c.MetricsAddress))
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			errs = append(errs, fmt.Errorf("proxy: metrics address %q: port %q is not a number from 0 to 65535", c.MetricsAddress, port))
		}
	}
	return errors.Join(errs...)
}

// NodePortAddresses returns the addresses NodePorts listen on: the bind
// address (and 127.0.0.1 when it is a specific non-loopback address),
// else the node IP and 127.0.0.1, else 0.0.0.0.
func (c *Config) NodePortAddresses() []netip.Addr {
	loopback := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	switch a := c.BindAddress.Unmap(); {
	case a.IsValid() && (a.IsUnspecified() || a.IsLoopback()):
		return []netip.Addr{a}
	case a.IsValid():
		return []netip.Addr{a, loopback}
	}
	switch a := c.NodeIP.Unmap(); {
	case a.IsValid() && a.IsLoopback():
		return []netip.Addr{a}
	case a.IsValid() && !a.IsUnspecified():
		return []netip.Addr{a, loopback}
	}
	return []netip.Addr{netip.IPv4Unspecified()}
}
