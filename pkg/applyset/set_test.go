package applyset_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/applyset"
)

func TestNamedSetNeedsADNSLabel(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"shop", true},
		{"shop-prod-2", true},
		{"Shop", false},
		{"-shop", false},
		{"shop_prod", false},
		{"", false},
		{strings.Repeat("a", 64), false},
	} {
		s, err := applyset.Named(tt.name, "default")
		if (err == nil) != tt.ok {
			t.Errorf("Named(%q): err = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err == nil && (s.ID != tt.name || s.RecordName() != "kl-applyset-"+tt.name || s.Selector() != "applyset.kl.dev/part-of="+tt.name) {
			t.Errorf("Named(%q) = %+v", tt.name, s)
		}
	}
}

func TestSetFromPathsIsStableAcrossSpellingsAndOrder(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"deploy", "extra"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	a, err := applyset.FromPaths([]string{"deploy", "extra"}, "default")
	if err != nil {
		t.Fatal(err)
	}
	for _, paths := range [][]string{
		{"extra", "deploy/"},
		{filepath.Join(dir, "deploy"), "./extra", "deploy"},
	} {
		b, err := applyset.FromPaths(paths, "default")
		if err != nil || b != a {
			t.Errorf("FromPaths(%q) = %+v, %v; want %+v", paths, b, err, a)
		}
	}
	if !strings.HasPrefix(a.ID, "deploy-") || len(a.ID) != len("deploy-")+10 {
		t.Errorf("ID %q: want deploy-<10 hex digits>", a.ID)
	}
	other, _ := applyset.FromPaths([]string{"deploy", "extra"}, "shop")
	if other.ID == a.ID || other.Namespace != "shop" {
		t.Errorf("another namespace gives %+v, the same ID as %+v", other, a)
	}
	one, _ := applyset.FromPaths([]string{"deploy"}, "default")
	if one.ID == a.ID {
		t.Errorf("other paths give the same ID %q", one.ID)
	}
	if _, err := applyset.FromPaths([]string{"deploy", "-"}, "default"); err == nil || !strings.Contains(err.Error(), "--applyset") {
		t.Errorf("stdin: err = %v, want a pointer to --applyset", err)
	}
	if s, _ := applyset.FromPaths([]string{"My App_v2.yaml"}, "default"); !strings.HasPrefix(s.ID, "my-app-v2-") {
		t.Errorf("ID %q: want the file name, sanitized, first", s.ID)
	}
}

func TestMemberRoundTrips(t *testing.T) {
	for _, tt := range []struct {
		m    applyset.Member
		text string
	}{
		{applyset.Member{Group: "apps", Kind: "Deployment", Namespace: "shop", Name: "web"}, "Deployment.apps shop/web"},
		{applyset.Member{Kind: "ConfigMap", Namespace: "shop", Name: "cfg"}, "ConfigMap shop/cfg"},
		{applyset.Member{Kind: "Namespace", Name: "shop"}, "Namespace shop"},
		{applyset.Member{Group: "coordination.k8s.io", Kind: "Lease", Namespace: "kube", Name: "a.b"}, "Lease.coordination.k8s.io kube/a.b"},
	} {
		if got := tt.m.String(); got != tt.text {
			t.Errorf("%+v.String() = %q, want %q", tt.m, got, tt.text)
		}
		if got, err := applyset.ParseMember(tt.text); err != nil || got != tt.m {
			t.Errorf("ParseMember(%q) = %+v, %v", tt.text, got, err)
		}
	}
	for _, bad := range []string{"", "Deployment", "Deployment a/b/c", " shop/web", "Deployment a b"} {
		if _, err := applyset.ParseMember(bad); err == nil {
			t.Errorf("ParseMember(%q): no error", bad)
		}
	}
}
