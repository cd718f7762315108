package validate

import (
	"sync"
	"testing"

	"github.com/kl-dev/kl/pkg/manifest"
	"github.com/kl-dev/kl/pkg/validation"
)

// sharedValidator compiles the embedded schemas once per test binary.
var sharedValidator = sync.OnceValues(validation.NewValidator)

func validator(tb testing.TB) *validation.Validator {
	tb.Helper()
	v, err := sharedValidator()
	if err != nil {
		tb.Fatalf("NewValidator: %v", err)
	}
	return v
}

func manifestOptions() manifest.Options { return manifest.Options{} }
