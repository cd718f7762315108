package setcontext

import (
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/clientconfig"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/config/internal/configtest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func ptr(s string) *string { return &s }

func TestNewCmdSetContext_OnlyGivenFlagsAreSet(t *testing.T) {
	tests := []struct {
		args    []string
		want    Options
		wantErr string
	}{
		{args: []string{"dev", "--cluster", "c"}, want: Options{Name: "dev", Cluster: ptr("c")}},
		{args: []string{"dev", "-n", ""}, want: Options{Name: "dev", Namespace: ptr("")}},
		{args: []string{"--current", "--namespace", "x", "--user", "u"}, want: Options{Current: true, Namespace: ptr("x"), User: ptr("u")}},
		{args: []string{"dev", "--current"}, want: Options{Name: "dev", Current: true}},
		{args: []string{"--cluster", "c"}, wantErr: "give a context NAME, or --current"},
		{args: []string{"a", "b"}, wantErr: "accepts at most 1 arg"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *Options
			cmd := NewCmdSetContext(cmdutil.NewFactory(ios), func(o *Options) error { got = o; return nil })
			cmd.SilenceUsage = true
			cmd.SetArgs(tt.args)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			str := func(p *string) string {
				if p == nil {
					return "<nil>"
				}
				return *p
			}
			if got.Name != tt.want.Name || got.Current != tt.want.Current || str(got.Cluster) != str(tt.want.Cluster) ||
				str(got.User) != str(tt.want.User) || str(got.Namespace) != str(tt.want.Namespace) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRunSetContext(t *testing.T) {
	tests := []struct {
		name        string
		file        string
		opts        Options
		wantContext clientconfig.Context
		wantCurrent string
		wantOut     string
		wantStderr  string
		wantErr     string
	}{
		{
			name:        "create",
			file:        configtest.Sample,
			opts:        Options{Name: "stage", Cluster: ptr("prod"), Namespace: ptr("web")},
			wantContext: clientconfig.Context{Name: "stage", Cluster: "prod", Namespace: "web"},
			wantCurrent: "dev",
			wantOut:     "Context \"stage\" created.\n",
		},
		{
			name:        "modify keeps the fields not given",
			file:        configtest.Sample,
			opts:        Options{Name: "prod", Namespace: ptr("ops")},
			wantContext: clientconfig.Context{Name: "prod", Cluster: "prod", User: "admin", Namespace: "ops"},
			wantCurrent: "dev",
			wantOut:     "Context \"prod\" modified.\n",
		},
		{
			name:        "--current modifies the current context",
			file:        configtest.Sample,
			opts:        Options{Current: true, Namespace: ptr("other")},
			wantContext: clientconfig.Context{Name: "dev", Cluster: "local", Namespace: "other"},
			wantCurrent: "dev",
			wantOut:     "Context \"dev\" modified.\n",
		},
		{
			name:        "NAME --current also switches",
			file:        configtest.Sample,
			opts:        Options{Name: "prod", Current: true},
			wantContext: clientconfig.Context{Name: "prod", Cluster: "prod", User: "admin"},
			wantCurrent: "prod",
			wantOut:     "Context \"prod\" modified.\nSwitched to context \"prod\".\n",
		},
		{
			name:        "unknown cluster and user are warned about",
			opts:        Options{Name: "new", Cluster: ptr("c"), User: ptr("u")},
			wantContext: clientconfig.Context{Name: "new", Cluster: "c", User: "u"},
			wantOut:     "Context \"new\" created.\n",
			wantStderr: "warning: cluster \"c\" is not defined yet (kl config set-cluster c --server URL defines it)\n" +
				"warning: user \"u\" is not defined yet (kl config set-credentials u --client-certificate F --client-key F defines it)\n",
		},
		{
			name:    "--current without a current context",
			opts:    Options{Current: true, Namespace: ptr("x")},
			wantErr: "has no current-context",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			path := configtest.Write(t, tt.file)
			tt.opts.IO, tt.opts.ConfigPath = ios, path
			err := runSetContext(&tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := configtest.Read(t, path)
			c, ok := got.Context(tt.wantContext.Name)
			if !ok || *c != tt.wantContext || got.CurrentContext != tt.wantCurrent {
				t.Errorf("saved context %+v (current %q), want %+v (current %q)", c, got.CurrentContext, tt.wantContext, tt.wantCurrent)
			}
			if out.String() != tt.wantOut || errOut.String() != tt.wantStderr {
				t.Errorf("stdout %q stderr %q, want %q %q", out, errOut, tt.wantOut, tt.wantStderr)
			}
		})
	}
}
