package deletecontext

import (
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/config/internal/configtest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func TestRunDeleteContext(t *testing.T) {
	tests := []struct {
		name        string
		ctx         string
		wantCurrent string
		wantWarning string
		wantErr     string
	}{
		{name: "another context", ctx: "ci", wantCurrent: "dev"},
		{name: "the current context", ctx: "dev", wantCurrent: "", wantWarning: "warning: \"dev\" was the current context; kl config use-context NAME selects another\n"},
		{name: "unknown", ctx: "stage", wantCurrent: "dev", wantErr: `no context named "stage" in `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			path := configtest.Write(t, configtest.Sample)
			err := runDeleteContext(&Options{IO: ios, ConfigPath: path, Name: tt.ctx})
			got := configtest.Read(t, path)
			if got.CurrentContext != tt.wantCurrent {
				t.Errorf("current-context = %q, want %q", got.CurrentContext, tt.wantCurrent)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || len(got.Contexts) != 3 {
					t.Errorf("error = %v, contexts %v; want %q and nothing deleted", err, got.ContextNames(), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p, _ := path()
			if out.String() != "deleted context "+tt.ctx+" from "+p+"\n" || errOut.String() != tt.wantWarning {
				t.Errorf("stdout %q, stderr %q", out, errOut)
			}
			if _, ok := got.Context(tt.ctx); ok || len(got.Contexts) != 2 || len(got.Clusters) != 2 {
				t.Errorf("after delete: %+v", got)
			}
		})
	}
}
