//go:build linux

package netlink

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"syscall"
	"testing"
)

// testLink creates a virtual link with a name unique to this process (a
// dummy, or an empty bridge where the kernel has no dummy driver) and
// removes it when the test ends. It skips the test when links cannot be
// created (not root, no netlink).
func testLink(t *testing.T) Link {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating links needs root")
	}
	name := fmt.Sprintf("klnl%d", os.Getpid()%100000)
	var err error
	for _, kind := range []string{"dummy", "bridge"} {
		if err = AddLink(name, kind); err == nil || !errors.Is(err, syscall.EOPNOTSUPP) {
			break
		}
	}
	if err != nil {
		t.Skipf("cannot create a link: %v", err)
	}
	l, err := LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := DeleteLink(l.Index); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return l
}

func TestLinkLifecycle(t *testing.T) {
	l := testLink(t)
	if l.Kind != "dummy" && l.Kind != "bridge" {
		t.Errorf("kind = %q, want dummy or bridge", l.Kind)
	}
	if l.Up {
		t.Errorf("new link is up")
	}
	if err := AddLink(l.Name, l.Kind); !errors.Is(err, syscall.EEXIST) {
		t.Errorf("adding %s twice: err = %v, want EEXIST", l.Name, err)
	}
	if err := SetLinkUp(l.Index); err != nil {
		t.Fatal(err)
	}
	got, err := LinkByName(l.Name)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Up || got.Index != l.Index || got.Name != l.Name {
		t.Errorf("after up: %+v", got)
	}
}

func TestAddrsAddAndDelete(t *testing.T) {
	l := testLink(t)
	if err := SetLinkUp(l.Index); err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("198.18.201.1/32"),
		netip.MustParsePrefix("198.18.201.2/32"),
		netip.MustParsePrefix("fd00:6b6c::1/128"),
	}
	for _, p := range want {
		if err := AddAddr(l.Index, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := AddAddr(l.Index, want[0]); !errors.Is(err, syscall.EEXIST) {
		t.Errorf("adding %s twice: err = %v, want EEXIST", want[0], err)
	}
	addrs, err := Addrs(l.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range want {
		if !slices.Contains(addrs, p) {
			t.Errorf("Addrs = %v, missing %v", addrs, p)
		}
	}
	if err := DeleteAddr(l.Index, want[1]); err != nil {
		t.Fatal(err)
	}
	if err := DeleteAddr(l.Index, want[1]); !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Errorf("deleting %s twice: err = %v, want EADDRNOTAVAIL", want[1], err)
	}
	addrs, err = Addrs(l.Index)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(addrs, want[1]) || !slices.Contains(addrs, want[0]) {
		t.Errorf("after delete: Addrs = %v", addrs)
	}
}

func TestLinkByNameUnknown(t *testing.T) {
	_, err := LinkByName("kl-no-such-0")
	if !errors.Is(err, ErrLinkNotFound) {
		t.Errorf("err = %v, want ErrLinkNotFound", err)
	}
}
