package getcontexts

import (
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/config/internal/configtest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func TestNewCmdGetContexts_Flags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmdGetContexts(cmdutil.NewFactory(ios), func(o *Options) error { got = o; return nil })
	cmd.SilenceUsage = true
	cmd.SetArgs([]string{"-o", "name", "--no-headers", "a", "b"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Output != "name" || !got.NoHeaders || strings.Join(got.Names, ",") != "a,b" {
		t.Errorf("got %+v", got)
	}
	cmd.SetArgs([]string{"-o", "wide"})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), `unknown output format "wide"`) {
		t.Errorf("-o wide: error = %v", err)
	}
}

func TestRunGetContexts_KubectlTable(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		opts       Options
		wantOut    string
		wantErr    string
		wantStderr string
	}{
		{
			name: "all contexts sorted, current starred",
			file: configtest.Sample,
			wantOut: `CURRENT   NAME      CLUSTER   AUTHINFO   NAMESPACE
          ci        local
*         dev       local                team
          prod      prod      admin
`,
		},
		{
			name:    "names",
			file:    configtest.Sample,
			opts:    Options{Output: "name"},
			wantOut: "ci\ndev\nprod\n",
		},
		{
			name:    "selected, no headers",
			file:    configtest.Sample,
			opts:    Options{Names: []string{"prod"}, NoHeaders: true},
			wantOut: "          prod      prod      admin\n",
		},
		{
			name: "an unknown name fails after the known ones",
			file: configtest.Sample,
			opts: Options{Names: []string{"dev", "stage"}},
			wantOut: `CURRENT   NAME      CLUSTER   AUTHINFO   NAMESPACE
*         dev       local                team
`,
			wantErr: `no context named "stage"`,
		},
		{
			name:    "no file",
			wantOut: "CURRENT   NAME      CLUSTER   AUTHINFO   NAMESPACE\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := iostreams.Test()
			tt.opts.IO, tt.opts.ConfigPath = ios, configtest.Write(t, tt.file)
			err := runGetContexts(&tt.opts)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
			if out.String() != tt.wantOut {
				t.Errorf("got\n%q\nwant\n%q", out, tt.wantOut)
			}
		})
	}
}
