package usecontext

import (
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/config/internal/configtest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func TestRunUseContext_SwitchesAndSaves(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	path := configtest.Write(t, configtest.Sample)
	if err := runUseContext(&Options{IO: ios, ConfigPath: path, Name: "prod"}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "Switched to context \"prod\".\n" {
		t.Errorf("stdout = %q", out)
	}
	if got := configtest.Read(t, path); got.CurrentContext != "prod" || len(got.Contexts) != 3 {
		t.Errorf("saved %+v, want current-context prod and the 3 contexts", got)
	}
}

func TestRunUseContext_UnknownListsTheKnownOnes(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	path := configtest.Write(t, configtest.Sample)
	err := runUseContext(&Options{IO: ios, ConfigPath: path, Name: "stage"})
	if err == nil || !strings.HasSuffix(err.Error(), "; known contexts: ci, dev, prod") {
		t.Fatalf("error = %v", err)
	}
	if got := configtest.Read(t, path); got.CurrentContext != "dev" {
		t.Errorf("current-context changed to %q", got.CurrentContext)
	}
}
