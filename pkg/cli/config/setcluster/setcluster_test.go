package setcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/clientconfig"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/config/internal/configtest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func ptr[T any](v T) *T { return &v }

func TestNewCmdSetCluster_ChecksServerURLs(t *testing.T) {
	for args, wantErr := range map[string]string{
		"c --server http://a:1,https://b:2": "",
		"c":                                 "",
		"c --server 127.0.0.1:6443":         `--server: server "127.0.0.1:6443": must start with http:// or https://`,
		"--server http://a:1":               "accepts 1 arg(s), received 0",
	} {
		ios, _, _, _ := iostreams.Test()
		cmd := NewCmdSetCluster(cmdutil.NewFactory(ios), func(*Options) error { return nil })
		cmd.SilenceUsage = true
		cmd.SetArgs(strings.Fields(args))
		err := cmd.Execute()
		if (wantErr == "" && err != nil) || (wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr))) {
			t.Errorf("set-cluster %s: error = %v, want %q", args, err, wantErr)
		}
	}
}

func TestRunSetCluster(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, []byte("pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	tests := []struct {
		name    string
		opts    Options
		want    clientconfig.Cluster
		wantErr string
	}{
		{
			name: "create with several servers",
			opts: Options{Name: "new", Server: ptr("https://a:1/, https://b:1")},
			want: clientconfig.Cluster{Name: "new", Server: "https://a:1,https://b:1"},
		},
		{
			name: "modify keeps the fields not given; CA path made absolute",
			opts: Options{Name: "local", CertificateAuthority: ptr("ca.crt"), InsecureSkipTLSVerify: ptr(true)},
			want: clientconfig.Cluster{Name: "local", Server: "http://127.0.0.1:6443", CertificateAuthority: ca, InsecureSkipTLSVerify: true},
		},
		{
			name: "an empty CA clears it",
			opts: Options{Name: "prod", CertificateAuthority: ptr("")},
			want: clientconfig.Cluster{Name: "prod", Server: "https://10.0.0.1:6443,https://10.0.0.2:6443"},
		},
		{
			name:    "a new cluster needs a server",
			opts:    Options{Name: "new"},
			wantErr: `cluster "new" is new: --server URL is required`,
		},
		{
			name:    "missing CA file",
			opts:    Options{Name: "local", CertificateAuthority: ptr("nope.crt")},
			wantErr: "--certificate-authority: stat " + filepath.Join(dir, "nope.crt"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := iostreams.Test()
			path := configtest.Write(t, configtest.Sample)
			tt.opts.IO, tt.opts.ConfigPath = ios, path
			err := runSetCluster(&tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := configtest.Read(t, path).Cluster(tt.opts.Name)
			if got == nil || *got != tt.want {
				t.Errorf("saved %+v, want %+v", got, tt.want)
			}
			if out.String() != "Cluster \""+tt.opts.Name+"\" set.\n" {
				t.Errorf("stdout = %q", out)
			}
		})
	}
}
