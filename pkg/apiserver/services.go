package apiserver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/allocator"
)

// allocators hand out ClusterIPs and NodePorts. Their state lives in the
// store (see pkg/apiserver/allocator), so it is shared by every apiserver
// on the same store.
type allocators struct {
	cidr     *net.IPNet
	base     uint32
	ipSize   int
	portBase int
	portSize int
	ips      *allocator.Allocator
	ports    *allocator.Allocator
	ipDesc   string
	portDesc string
}

func newAllocators(cidr, portRange string) (*allocators, error) {
	_, ipnet, err := net.ParseCIDR(cidr)
	if err != nil || ipnet.IP.To4() == nil {
		return nil, fmt.Errorf("--service-cluster-ip-range %q: must be an IPv4 CIDR such as 10.96.0.0/16", cidr)
	}
	ones, bits := ipnet.Mask.Size()
	if bits-ones > 20 || bits-ones < 2 {
		return nil, fmt.Errorf("--service-cluster-ip-range %q: prefix must be between /12 and /30", cidr)
	}
	lo, hi, ok := strings.Cut(portRange, "-")
	from, err1 := strconv.Atoi(lo)
	to, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || from < 1 || to > 65535 || from > to {
		return nil, fmt.Errorf("--service-node-port-range %q: must be FROM-TO such as 30000-32767", portRange)
	}
	return &allocators{
		cidr: ipnet, base: binary.BigEndian.Uint32(ipnet.IP.To4()), ipSize: 1 << (bits - ones),
		portBase: from, portSize: to - from + 1, ipDesc: ipnet.String(), portDesc: portRange,
	}, nil
}

// bind attaches the allocators to the store (done once it is open).
func (a *allocators) bind(s *Server) {
	if a.ips == nil {
		a.ips = allocator.New(s.store, "/registry/ranges/serviceips", a.ipSize, a.ipDesc)
		a.ports = allocator.New(s.store, "/registry/ranges/servicenodeports", a.portSize, a.portDesc)
	}
}

func (a *allocators) ipAt(i int) string {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, a.base+uint32(i))
	return net.IP(b).String()
}

func (a *allocators) ipIndex(ip string) (int, bool) {
	p := net.ParseIP(ip).To4()
	if p == nil || !a.cidr.Contains(p) {
		return 0, false
	}
	return int(binary.BigEndian.Uint32(p) - a.base), true
}

// reservedIP: the network and broadcast addresses are never handed out.
func (a *allocators) reservedIP(i int) bool { return i == 0 || i == a.ipSize-1 }

// repair marks the addresses and ports of every existing Service as taken,
// so a lost or stale bitmap can never hand them out twice.
func (a *allocators) repair(ctx context.Context, s *Server) error {
	a.bind(s)
	r := s.resources.lookup("", "v1", "services")
	res, err := s.cache.List(r.keyPrefix(), r.keyPrefix(), "", 0, nil)
	if err != nil {
		return err
	}
	var ips, ports []int
	for _, o := range res.Items {
		obj, err := decodeStored(r, o.Data, o.RV)
		if err != nil {
			continue
		}
		svc := obj.(*corev1.Service)
		for _, ip := range serviceIPs(svc) {
			if i, ok := a.ipIndex(ip); ok {
				ips = append(ips, i)
			}
		}
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				ports = append(ports, int(p.NodePort)-a.portBase)
			}
		}
	}
	if err := a.ips.Mark(ctx, ips); err != nil {
		return err
	}
	return a.ports.Mark(ctx, ports)
}

func serviceIPs(svc *corev1.Service) []string {
	var out []string
	if ip := svc.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
		out = append(out, ip)
	}
	for _, ip := range svc.Spec.ClusterIPs {
		if ip != svc.Spec.ClusterIP && ip != corev1.ClusterIPNone {
			out = append(out, ip)
		}
	}
	return out
}

func needsClusterIP(svc *corev1.Service) bool {
	return svc.Spec.Type != corev1.ServiceTypeExternalName && svc.Spec.ClusterIP != corev1.ClusterIPNone
}

func needsNodePorts(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
}

func fieldInvalid(field string, value any, msg string) error {
	return meta.NewInvalid("", "Service", "", []meta.StatusCause{{
		Type: "FieldValueInvalid", Field: field, Message: fmt.Sprintf("Invalid value: %v: %s", value, msg),
	}})
}

// allocCtx gives allocations their own deadline: they must finish (or be
// undone) even when the client goes away mid-request.
func allocCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// serviceAdmitCreate allocates the ClusterIP and NodePorts of a new Service.
func serviceAdmitCreate(s *Server, o meta.Object, dryRun bool) error {
	svc := o.(*corev1.Service)
	a := s.alloc
	ctx, cancel := allocCtx()
	defer cancel()
	var undo []func()
	fail := func(err error) error {
		for _, u := range undo {
			u()
		}
		return err
	}
	if needsClusterIP(svc) {
		switch ip := svc.Spec.ClusterIP; {
		case ip == "":
			if dryRun {
				svc.Spec.ClusterIP = a.ipAt(1)
			} else {
				i, err := a.ips.AllocateNext(ctx, a.reservedIP)
				if err != nil {
					return fail(allocError("spec.clusterIP", "", err))
				}
				svc.Spec.ClusterIP = a.ipAt(i)
				undo = append(undo, func() { _ = a.ips.Release(ctx, i) })
			}
		default:
			i, ok := a.ipIndex(ip)
			if !ok || a.reservedIP(i) {
				return fail(fieldInvalid("spec.clusterIP", ip, fmt.Sprintf("provided IP is not in the valid range. The range of valid IPs is %s", a.ipDesc)))
			}
			if err := takeSlot(ctx, a.ips, i, dryRun); err != nil {
				return fail(allocError("spec.clusterIP", ip, err))
			}
			if !dryRun {
				undo = append(undo, func() { _ = a.ips.Release(ctx, i) })
			}
		}
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
	} else if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		svc.Spec.ClusterIPs = []string{corev1.ClusterIPNone}
	}
	if needsNodePorts(svc) {
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			field := fmt.Sprintf("spec.ports[%d].nodePort", i)
			if err := allocPort(ctx, a, p, field, dryRun, &undo); err != nil {
				return fail(err)
			}
		}
	}
	return nil
}

func allocPort(ctx context.Context, a *allocators, p *corev1.ServicePort, field string, dryRun bool, undo *[]func()) error {
	if p.NodePort == 0 {
		if dryRun {
			return nil
		}
		i, err := a.ports.AllocateNext(ctx, nil)
		if err != nil {
			return allocError(field, "", err)
		}
		p.NodePort = int32(a.portBase + i)
		*undo = append(*undo, func() { _ = a.ports.Release(ctx, i) })
		return nil
	}
	i := int(p.NodePort) - a.portBase
	if i < 0 || i >= a.portSize {
		return fieldInvalid(field, p.NodePort, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %s", a.portDesc))
	}
	if err := takeSlot(ctx, a.ports, i, dryRun); err != nil {
		return allocError(field, strconv.Itoa(int(p.NodePort)), err)
	}
	if !dryRun {
		*undo = append(*undo, func() { _ = a.ports.Release(ctx, i) })
	}
	return nil
}

func takeSlot(ctx context.Context, al *allocator.Allocator, i int, dryRun bool) error {
	if dryRun {
		free, err := al.Free(ctx, i)
		if err != nil {
			return err
		}
		if !free {
			return allocator.ErrAllocated
		}
		return nil
	}
	return al.Allocate(ctx, i)
}

func allocError(field, value string, err error) error {
	switch {
	case errors.Is(err, allocator.ErrAllocated):
		return fieldInvalid(field, value, "provided value is already allocated")
	case errors.Is(err, allocator.ErrFull):
		return meta.NewStatusError(500, meta.StatusReasonInternalError, fmt.Sprintf("%s: no free values left in the range", field))
	case errors.Is(err, allocator.ErrOutOfRange):
		return fieldInvalid(field, value, "provided value is not in the valid range")
	}
	return meta.NewInternalError(err)
}

// servicePrepareForUpdate keeps allocated values a client omitted: an
// update (e.g. a re-applied manifest) that leaves out clusterIP or a
// nodePort keeps the ones already allocated, as Kubernetes does.
func servicePrepareForUpdate(n, o meta.Object) {
	nsvc, osvc := n.(*corev1.Service), o.(*corev1.Service)
	if nsvc.Spec.ClusterIP == "" && needsClusterIP(osvc) {
		nsvc.Spec.ClusterIP = osvc.Spec.ClusterIP
	}
	if len(nsvc.Spec.ClusterIPs) == 0 {
		nsvc.Spec.ClusterIPs = osvc.Spec.ClusterIPs
	}
	if needsNodePorts(nsvc) {
		for i := range nsvc.Spec.Ports {
			np := &nsvc.Spec.Ports[i]
			if np.NodePort != 0 {
				continue
			}
			for _, op := range osvc.Spec.Ports {
				if op.Port == np.Port && op.Protocol == np.Protocol && op.NodePort != 0 {
					np.NodePort = op.NodePort
				}
			}
		}
	}
}

// serviceAdmitUpdate allocates NodePorts new to this update and releases
// the ones it dropped. (An update retried after a write conflict may leak a
// port allocated by the failed attempt; the next restart's repair keeps
// allocations consistent with Services, never handing out a used port.)
func serviceAdmitUpdate(s *Server, n, o meta.Object, dryRun bool) error {
	nsvc, osvc := n.(*corev1.Service), o.(*corev1.Service)
	a := s.alloc
	ctx, cancel := allocCtx()
	defer cancel()
	old := map[int32]bool{}
	if needsNodePorts(osvc) {
		for _, p := range osvc.Spec.Ports {
			old[p.NodePort] = true
		}
	}
	keep := map[int32]bool{}
	var undo []func()
	if needsNodePorts(nsvc) {
		for i := range nsvc.Spec.Ports {
			p := &nsvc.Spec.Ports[i]
			if p.NodePort != 0 && old[p.NodePort] {
				keep[p.NodePort] = true
				continue
			}
			if err := allocPort(ctx, a, p, fmt.Sprintf("spec.ports[%d].nodePort", i), dryRun, &undo); err != nil {
				for _, u := range undo {
					u()
				}
				return err
			}
		}
	} else {
		for i := range nsvc.Spec.Ports {
			nsvc.Spec.Ports[i].NodePort = 0
		}
	}
	if needsClusterIP(nsvc) && !needsClusterIP(osvc) && nsvc.Spec.ClusterIP == "" {
		i, err := a.ips.AllocateNext(ctx, a.reservedIP)
		if err != nil {
			return allocError("spec.clusterIP", "", err)
		}
		nsvc.Spec.ClusterIP = a.ipAt(i)
		nsvc.Spec.ClusterIPs = []string{nsvc.Spec.ClusterIP}
	}
	if dryRun {
		return nil
	}
	for p := range old {
		if !keep[p] && p != 0 {
			_ = a.ports.Release(ctx, int(p)-a.portBase)
		}
	}
	return nil
}

// serviceRelease frees a deleted Service's ClusterIP and NodePorts.
func serviceRelease(s *Server, o meta.Object) {
	svc := o.(*corev1.Service)
	a := s.alloc
	ctx, cancel := allocCtx()
	defer cancel()
	for _, ip := range serviceIPs(svc) {
		if i, ok := a.ipIndex(ip); ok {
			if err := a.ips.Release(ctx, i); err != nil {
				s.log.Warn("release ClusterIP", "ip", ip, "err", err)
			}
		}
	}
	if needsNodePorts(svc) {
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				if err := a.ports.Release(ctx, int(p.NodePort)-a.portBase); err != nil {
					s.log.Warn("release NodePort", "port", p.NodePort, "err", err)
				}
			}
		}
	}
}
