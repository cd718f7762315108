package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"syscall"

	"github.com/kl-dev/kl/pkg/proxy/internal/netlink"
)

// serviceInterface is the link that holds the ClusterIPs (kl-svc0): a
// dummy interface, as kube-proxy's kube-ipvs0, or an empty bridge on
// kernels built without the dummy driver. Its addresses are local to the
// machine and nothing routes them anywhere else.
type serviceInterface struct {
	name  string
	index int
	kind  string
}

// openServiceInterface finds or creates the interface called name, brings
// it up and removes any address it has (left by a proxy that did not stop
// cleanly): the proxy adds the current ClusterIPs as it syncs.
func openServiceInterface(name string, log *slog.Logger) (*serviceInterface, error) {
	l, err := netlink.LinkByName(name)
	switch {
	case err == nil:
		if l.Kind != "dummy" && l.Kind != "bridge" {
			return nil, fmt.Errorf("interface %s exists and is not a dummy interface (kind %q): remove it or choose another name", name, l.Kind)
		}
		log.Info("using the existing service interface", "interface", name, "kind", l.Kind)
	case errors.Is(err, netlink.ErrLinkNotFound):
		kind := "dummy"
		err = netlink.AddLink(name, kind)
		if errors.Is(err, syscall.EOPNOTSUPP) {
			// Some kernels (minimal VMs) are built without the dummy
			// driver. An empty bridge is just as good: its addresses
			// are local, and it has no port to send anything out of.
			log.Info("the kernel has no dummy interface driver; using an empty bridge for the ClusterIPs", "interface", name)
			kind = "bridge"
			err = netlink.AddLink(name, kind)
		}
		if err != nil {
			return nil, explainNetlinkError(err)
		}
		if l, err = netlink.LinkByName(name); err != nil {
			return nil, err
		}
		log.Info("created the service interface", "interface", name, "kind", kind)
	default:
		return nil, explainNetlinkError(err)
	}
	s := &serviceInterface{name: l.Name, index: l.Index, kind: l.Kind}
	if err := netlink.SetLinkUp(l.Index); err != nil {
		return nil, explainNetlinkError(err)
	}
	addrs, err := netlink.Addrs(l.Index)
	if err != nil {
		return nil, explainNetlinkError(err)
	}
	for _, p := range addrs {
		if p.Addr().Is6() && p.Addr().IsLinkLocalUnicast() {
			continue // the kernel's own fe80:: address
		}
		if err := netlink.DeleteAddr(l.Index, p); err != nil && !errors.Is(err, syscall.EADDRNOTAVAIL) {
			return nil, explainNetlinkError(err)
		}
	}
	return s, nil
}

// Add puts addr on the interface; it is then local to the machine.
func (s *serviceInterface) Add(addr netip.Addr) error {
	err := netlink.AddAddr(s.index, netlink.HostPrefix(addr))
	if err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("interface %s: %w", s.name, err)
	}
	return nil
}

// Remove takes addr off the interface.
func (s *serviceInterface) Remove(addr netip.Addr) error {
	err := netlink.DeleteAddr(s.index, netlink.HostPrefix(addr))
	if err != nil && !errors.Is(err, syscall.EADDRNOTAVAIL) {
		return fmt.Errorf("interface %s: %w", s.name, err)
	}
	return nil
}

// Delete removes the interface and with it every ClusterIP.
func (s *serviceInterface) Delete() error {
	if err := netlink.DeleteLink(s.index); err != nil && !errors.Is(err, syscall.ENODEV) {
		return fmt.Errorf("interface %s: %w", s.name, err)
	}
	return nil
}

// explainNetlinkError adds what to do to the common failures.
func explainNetlinkError(err error) error {
	switch {
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%w (run kl proxy as root, or with CAP_NET_ADMIN)", err)
	case errors.Is(err, netlink.ErrUnsupported):
		return fmt.Errorf("%w (ClusterIPs need Linux)", err)
	}
	return err
}
