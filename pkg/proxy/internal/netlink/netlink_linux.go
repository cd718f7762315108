//go:build linux

package netlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// LinkByName returns the link called name, or an error wrapping
// ErrLinkNotFound.
func LinkByName(name string) (Link, error) {
	req := newRequest(unix.RTM_GETLINK, 0)
	req.ifInfo(unix.IfInfomsg{Family: unix.AF_UNSPEC})
	req.attr(unix.IFLA_IFNAME, cstring(name))
	msgs, err := req.exec()
	if errors.Is(err, syscall.ENODEV) {
		return Link{}, fmt.Errorf("link %s: %w", name, ErrLinkNotFound)
	}
	if err != nil {
		return Link{}, fmt.Errorf("get link %s: %w", name, err)
	}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWLINK {
			continue
		}
		return parseLink(m)
	}
	return Link{}, fmt.Errorf("get link %s: no answer from the kernel", name)
}

// AddLink creates a virtual link called name of the given kind ("dummy",
// "bridge"). It fails wrapping syscall.EEXIST if the name is taken and
// syscall.EOPNOTSUPP if the kernel has no driver for kind.
func AddLink(name, kind string) error {
	req := newRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK|unix.NLM_F_CREATE|unix.NLM_F_EXCL)
	req.ifInfo(unix.IfInfomsg{Family: unix.AF_UNSPEC})
	req.attr(unix.IFLA_IFNAME, cstring(name))
	req.attr(unix.IFLA_LINKINFO|unix.NLA_F_NESTED, rtattr(unix.IFLA_INFO_KIND, []byte(kind)))
	if _, err := req.exec(); err != nil {
		return fmt.Errorf("add %s link %s: %w", kind, name, err)
	}
	return nil
}

// SetLinkUp brings the link up.
func SetLinkUp(index int) error {
	req := newRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK)
	req.ifInfo(unix.IfInfomsg{Family: unix.AF_UNSPEC, Index: int32(index), Flags: unix.IFF_UP, Change: unix.IFF_UP})
	if _, err := req.exec(); err != nil {
		return fmt.Errorf("set link %d up: %w", index, err)
	}
	return nil
}

// DeleteLink deletes the link.
func DeleteLink(index int) error {
	req := newRequest(unix.RTM_DELLINK, unix.NLM_F_ACK)
	req.ifInfo(unix.IfInfomsg{Family: unix.AF_UNSPEC, Index: int32(index)})
	if _, err := req.exec(); err != nil {
		return fmt.Errorf("delete link %d: %w", index, err)
	}
	return nil
}

// Addrs returns the addresses of the link.
func Addrs(index int) ([]netip.Prefix, error) {
	req := newRequest(unix.RTM_GETADDR, unix.NLM_F_DUMP)
	req.ifAddr(unix.IfAddrmsg{Family: unix.AF_UNSPEC})
	msgs, err := req.exec()
	if err != nil {
		return nil, fmt.Errorf("list addresses of link %d: %w", index, err)
	}
	var out []netip.Prefix
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWADDR || len(m.Data) < unix.SizeofIfAddrmsg {
			continue
		}
		ifa := (*unix.IfAddrmsg)(unsafe.Pointer(&m.Data[0]))
		if int(ifa.Index) != index {
			continue
		}
		var local, addr netip.Addr
		for _, a := range parseAttrs(m.Data[unix.SizeofIfAddrmsg:]) {
			ip, ok := netip.AddrFromSlice(a.value)
			if !ok {
				continue
			}
			switch a.typ {
			case unix.IFA_LOCAL:
				local = ip
			case unix.IFA_ADDRESS:
				addr = ip
			}
		}
		if local.IsValid() {
			addr = local
		}
		if addr.IsValid() {
			out = append(out, netip.PrefixFrom(addr, int(ifa.Prefixlen)))
		}
	}
	return out, nil
}

// AddAddr adds the address to the link. Adding an address the link
// already has fails wrapping syscall.EEXIST.
func AddAddr(index int, p netip.Prefix) error {
	if err := addrRequest(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, index, p).run(); err != nil {
		return fmt.Errorf("add address %s to link %d: %w", p, index, err)
	}
	return nil
}

// DeleteAddr removes the address from the link. Removing an address the
// link does not have fails wrapping syscall.EADDRNOTAVAIL.
func DeleteAddr(index int, p netip.Prefix) error {
	if err := addrRequest(unix.RTM_DELADDR, 0, index, p).run(); err != nil {
		return fmt.Errorf("delete address %s from link %d: %w", p, index, err)
	}
	return nil
}

func addrRequest(typ uint16, flags uint16, index int, p netip.Prefix) *request {
	family, ifaFlags := uint8(unix.AF_INET), uint8(0)
	if p.Addr().Is6() && !p.Addr().Is4In6() {
		// No duplicate address detection: the address is usable at once.
		family, ifaFlags = unix.AF_INET6, unix.IFA_F_NODAD
	}
	addr := p.Addr().Unmap().AsSlice()
	req := newRequest(typ, unix.NLM_F_ACK|flags)
	req.ifAddr(unix.IfAddrmsg{Family: family, Prefixlen: uint8(p.Bits()), Flags: ifaFlags, Index: uint32(index)})
	req.attr(unix.IFA_LOCAL, addr)
	req.attr(unix.IFA_ADDRESS, addr)
	return req
}

// message is one netlink message: its header and payload.
type message struct {
	Header header
	Data   []byte
}

type header struct {
	Type  uint16
	Flags uint16
	Seq   uint32
}

// parseMessages splits a datagram into its messages.
func parseMessages(b []byte) ([]message, error) {
	var out []message
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(binary.NativeEndian.Uint32(b[0:4]))
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return nil, fmt.Errorf("bad netlink message length %d", l)
		}
		out = append(out, message{
			Header: header{
				Type:  binary.NativeEndian.Uint16(b[4:6]),
				Flags: binary.NativeEndian.Uint16(b[6:8]),
				Seq:   binary.NativeEndian.Uint32(b[8:12]),
			},
			Data: b[unix.NLMSG_HDRLEN:l],
		})
		b = b[min(align(l), len(b)):]
	}
	return out, nil
}

func parseLink(m message) (Link, error) {
	if len(m.Data) < unix.SizeofIfInfomsg {
		return Link{}, errors.New("short link message")
	}
	ifi := (*unix.IfInfomsg)(unsafe.Pointer(&m.Data[0]))
	l := Link{Index: int(ifi.Index), Up: ifi.Flags&unix.IFF_UP != 0}
	for _, a := range parseAttrs(m.Data[unix.SizeofIfInfomsg:]) {
		switch a.typ {
		case unix.IFLA_IFNAME:
			l.Name = trimNUL(a.value)
		case unix.IFLA_LINKINFO:
			for _, in := range parseAttrs(a.value) {
				if in.typ == unix.IFLA_INFO_KIND {
					l.Kind = trimNUL(in.value)
				}
			}
		}
	}
	return l, nil
}

type attr struct {
	typ   uint16
	value []byte
}

// parseAttrs parses a run of nested attributes.
func parseAttrs(b []byte) []attr {
	var out []attr
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		t := binary.NativeEndian.Uint16(b[2:4])
		if l < unix.SizeofRtAttr || l > len(b) {
			break
		}
		out = append(out, attr{typ: t &^ unix.NLA_F_NESTED, value: b[unix.SizeofRtAttr:l]})
		b = b[min(align(l), len(b)):]
	}
	return out
}

func trimNUL(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func cstring(s string) []byte { return append([]byte(s), 0) }

func align(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// rtattr encodes one attribute (header, value, padding).
func rtattr(typ uint16, value []byte) []byte {
	l := unix.SizeofRtAttr + len(value)
	b := make([]byte, align(l))
	binary.NativeEndian.PutUint16(b[0:2], uint16(l))
	binary.NativeEndian.PutUint16(b[2:4], typ)
	copy(b[unix.SizeofRtAttr:], value)
	return b
}

// request is one netlink message being built.
type request struct {
	typ   uint16
	flags uint16
	body  []byte
}

func newRequest(typ uint16, flags uint16) *request {
	return &request{typ: typ, flags: unix.NLM_F_REQUEST | flags}
}

func (r *request) ifInfo(m unix.IfInfomsg) {
	r.body = append(r.body, unsafe.Slice((*byte)(unsafe.Pointer(&m)), unix.SizeofIfInfomsg)...)
}

func (r *request) ifAddr(m unix.IfAddrmsg) {
	r.body = append(r.body, unsafe.Slice((*byte)(unsafe.Pointer(&m)), unix.SizeofIfAddrmsg)...)
}

func (r *request) attr(typ uint16, value []byte) { r.body = append(r.body, rtattr(typ, value)...) }

func (r *request) run() error {
	_, err := r.exec()
	return err
}

// exec sends the request on a new socket and returns the answers: the
// messages of a dump, the object asked for, or nothing for an
// acknowledged change. A negative acknowledgement becomes the errno.
func (r *request) exec() ([]message, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("bind netlink socket: %w", err)
	}
	const seq = 1
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(r.body))
	binary.NativeEndian.PutUint32(msg[0:4], uint32(unix.NLMSG_HDRLEN+len(r.body)))
	binary.NativeEndian.PutUint16(msg[4:6], r.typ)
	binary.NativeEndian.PutUint16(msg[6:8], r.flags)
	binary.NativeEndian.PutUint32(msg[8:12], seq)
	msg = append(msg, r.body...)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("send netlink request: %w", err)
	}

	var out []message
	for {
		buf := make([]byte, 1<<16) // not reused: out keeps slices of it
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return nil, fmt.Errorf("read netlink answer: %w", err)
		}
		msgs, err := parseMessages(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("parse netlink answer: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != seq {
				continue
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) < 4 {
					return nil, errors.New("short netlink error message")
				}
				if errno := -int32(binary.NativeEndian.Uint32(m.Data[0:4])); errno != 0 {
					return nil, syscall.Errno(errno)
				}
				return out, nil // acknowledgement
			}
			out = append(out, m)
			if m.Header.Flags&unix.NLM_F_MULTI == 0 && r.flags&unix.NLM_F_ACK == 0 {
				return out, nil // the single answer to a get
			}
		}
	}
}
