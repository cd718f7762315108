//go:build !linux

package netlink

import "net/netip"

// LinkByName fails with ErrUnsupported.
func LinkByName(name string) (Link, error) { return Link{}, ErrUnsupported }

// AddLink fails with ErrUnsupported.
func AddLink(name, kind string) error { return ErrUnsupported }

// SetLinkUp fails with ErrUnsupported.
func SetLinkUp(index int) error { return ErrUnsupported }

// DeleteLink fails with ErrUnsupported.
func DeleteLink(index int) error { return ErrUnsupported }

// Addrs fails with ErrUnsupported.
func Addrs(index int) ([]netip.Prefix, error) { return nil, ErrUnsupported }

// AddAddr fails with ErrUnsupported.
func AddAddr(index int, p netip.Prefix) error { return ErrUnsupported }

// DeleteAddr fails with ErrUnsupported.
func DeleteAddr(index int, p netip.Prefix) error { return ErrUnsupported }
