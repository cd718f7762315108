// Package e2e holds end-to-end tests that run real kl processes on loopback
// ports.
package e2e

import (
	"fmt"
	"os"
	"testing"

	"github.com/kl-dev/kl/test/e2e/framework"
)

// klBinary is the kl binary built once for every test of this package.
var klBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kl-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	klBinary, err = framework.Binary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
