package setcredentials

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/clientconfig"
	"github.com/kl-dev/kl/pkg/cli/config/internal/configtest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func ptr(s string) *string { return &s }

func TestRunSetCredentials(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"me.crt", "me.key"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	crt, key := filepath.Join(dir, "me.crt"), filepath.Join(dir, "me.key")
	tests := []struct {
		name    string
		opts    Options
		want    clientconfig.User
		wantErr string
	}{
		{
			name: "create with absolute paths",
			opts: Options{Name: "me", ClientCertificate: ptr("me.crt"), ClientKey: ptr("me.key")},
			want: clientconfig.User{Name: "me", ClientCertificate: crt, ClientKey: key},
		},
		{
			name:    "modify one file",
			opts:    Options{Name: "admin", ClientKey: ptr(key)},
			want:    clientconfig.User{Name: "admin", ClientCertificate: "/pki/admin.crt", ClientKey: key},
			wantErr: "",
		},
		{
			name:    "certificate without key",
			opts:    Options{Name: "me", ClientCertificate: ptr("me.crt")},
			wantErr: `user "me" needs both --client-certificate and --client-key`,
		},
		{
			name:    "missing file",
			opts:    Options{Name: "me", ClientCertificate: ptr("gone.crt"), ClientKey: ptr("me.key")},
			wantErr: "--client-certificate: stat " + filepath.Join(dir, "gone.crt"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := iostreams.Test()
			path := configtest.Write(t, configtest.Sample)
			tt.opts.IO, tt.opts.ConfigPath = ios, path
			err := runSetCredentials(&tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := configtest.Read(t, path).User(tt.opts.Name)
			if got == nil || *got != tt.want {
				t.Errorf("saved %+v, want %+v", got, tt.want)
			}
			if out.String() != "User \""+tt.opts.Name+"\" set.\n" {
				t.Errorf("stdout = %q", out)
			}
		})
	}
}
