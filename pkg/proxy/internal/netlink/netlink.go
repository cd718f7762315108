// Package netlink is the little of rtnetlink the proxy needs: create, find,
// bring up and delete a link, and list, add and remove its addresses. It
// speaks to the kernel directly (NETLINK_ROUTE sockets), so kl needs
// neither iproute2 nor cgo. Every call opens its own socket: the proxy
// changes addresses only when Services change, so simplicity wins over
// reuse.
//
// Errors wrap the kernel's errno (errors.Is(err, syscall.EPERM), ...) and
// name the operation and the link. On systems other than Linux every call
// fails with ErrUnsupported.
package netlink

import (
	"errors"
	"net/netip"
)

// Link is a network interface.
type Link struct {
	// Index is the kernel's interface index.
	Index int
	// Name is the interface name, e.g. "kl-svc0".
	Name string
	// Kind is the driver of a virtual link ("dummy", "bridge", ...); empty
	// for physical devices.
	Kind string
	// Up is true when the link is administratively up.
	Up bool
}

// ErrUnsupported is returned on systems without rtnetlink.
var ErrUnsupported = errors.New("netlink is only available on Linux")

// ErrLinkNotFound is returned by LinkByName for an unknown name.
var ErrLinkNotFound = errors.New("link not found")

// HostPrefix returns addr as a single-address prefix (/32 or /128), the
// form service addresses take on the interface.
func HostPrefix(addr netip.Addr) netip.Prefix {
	return netip.PrefixFrom(addr, addr.BitLen())
}
