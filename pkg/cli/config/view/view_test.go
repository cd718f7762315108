package view

import (
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/config/internal/configtest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func TestNewCmdView_Flags(t *testing.T) {
	tests := []struct {
		args    []string
		want    Options
		wantErr string
	}{
		{args: nil, want: Options{Output: "yaml"}},
		{args: []string{"--minify", "-o", "json"}, want: Options{Minify: true, Output: "json"}},
		{args: []string{"-o", "table"}, wantErr: `unknown output format "table"`},
		{args: []string{"extra"}, wantErr: `unknown command "extra"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *Options
			cmd := NewCmdView(cmdutil.NewFactory(ios), func(o *Options) error { got = o; return nil })
			cmd.SilenceUsage = true
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
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
			if got.Minify != tt.want.Minify || got.Output != tt.want.Output {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRunView_ShowsTheFile(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		opts    Options
		want    string
		wantErr string
	}{
		{
			name: "missing file is an empty config",
			opts: Options{Output: "yaml"},
			want: "apiVersion: kl/v1\nkind: Config\n",
		},
		{
			name: "minify keeps the current context",
			file: configtest.Sample,
			opts: Options{Output: "yaml", Minify: true},
			want: `apiVersion: kl/v1
clusters:
- name: local
  server: http://127.0.0.1:6443
contexts:
- cluster: local
  name: dev
  namespace: team
current-context: dev
kind: Config
`,
		},
		{
			name: "minify to --context, json",
			file: configtest.Sample,
			opts: Options{Output: "json", Minify: true, Context: "prod"},
			want: `{
  "apiVersion": "kl/v1",
  "kind": "Config",
  "current-context": "prod",
  "clusters": [
    {
      "name": "prod",
      "server": "https://10.0.0.1:6443,https://10.0.0.2:6443",
      "certificate-authority": "/pki/ca.crt"
    }
  ],
  "users": [
    {
      "name": "admin",
      "client-certificate": "/pki/admin.crt",
      "client-key": "/pki/admin.key"
    }
  ],
  "contexts": [
    {
      "name": "prod",
      "cluster": "prod",
      "user": "admin"
    }
  ]
}
`,
		},
		{
			name:    "minify to an unknown context",
			file:    configtest.Sample,
			opts:    Options{Output: "yaml", Minify: true, Context: "nope"},
			wantErr: `no context named "nope" in `,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := iostreams.Test()
			tt.opts.IO, tt.opts.ConfigPath = ios, configtest.Write(t, tt.file)
			err := runView(&tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out, tt.want)
			}
		})
	}
}

func TestRunView_WholeFileKeepsEverything(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	if err := runView(&Options{IO: ios, ConfigPath: configtest.Write(t, configtest.Sample), Output: "yaml"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"name: ci", "name: dev", "name: prod", "client-key: /pki/admin.key", "current-context: dev"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}
