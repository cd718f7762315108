package k8sclient

import (
	"os"
	"testing"
)

// knownGap skips a test that shows a known difference between kl and
// Kubernetes, unless KL_KNOWN_GAPS=1: the test fails today and
// passes once the server is fixed, when the knownGap call is removed.
func knownGap(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("KL_KNOWN_GAPS") != "1" {
		t.Skipf("known gap (run with KL_KNOWN_GAPS=1 to see it fail): %s", what)
	}
}
