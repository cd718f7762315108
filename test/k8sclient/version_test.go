package k8sclient

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/discovery"
)

// TestServerVersion checks /version through client-go's discovery client:
// Kubernetes answers a version.Info with major, minor and a semver
// gitVersion, which kubectl (version skew warning), Helm (kubeVersion
// constraints) and controllers parse.
func TestServerVersion(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	dc, err := discovery.NewDiscoveryClientForConfig(c.config)
	if err != nil {
		t.Fatal(err)
	}
	v, err := dc.ServerVersion()
	if err != nil {
		t.Fatalf("server version: %v", err)
	}
	if v.Major == "" || v.Minor == "" {
		t.Errorf("server version: major=%q minor=%q, want both set", v.Major, v.Minor)
	}
	if _, err := version.ParseSemantic(v.GitVersion); err != nil {
		t.Errorf("server version: gitVersion %q is not semver: %v", v.GitVersion, err)
	}
	if v.GoVersion == "" || v.Platform == "" {
		t.Errorf("server version: goVersion=%q platform=%q, want both set", v.GoVersion, v.Platform)
	}
}
