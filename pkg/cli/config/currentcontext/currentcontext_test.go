package currentcontext

import (
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/config/internal/configtest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func TestRunCurrentContext(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	if err := runCurrentContext(&Options{IO: ios, ConfigPath: configtest.Write(t, configtest.Sample)}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "dev\n" {
		t.Errorf("got %q, want dev", out)
	}
}

func TestRunCurrentContext_UnsetIsAnError(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	err := runCurrentContext(&Options{IO: ios, ConfigPath: configtest.Write(t, "")})
	if err == nil || !strings.Contains(err.Error(), "current-context is not set in ") || out.Len() != 0 {
		t.Errorf("error = %v, stdout %q", err, out)
	}
}
