package create

import (
	"io"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func TestNewCmdCreate_NamespaceTakesOneName(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		want    string
		dryRun  bool
		wantErr string
	}{
		{args: []string{"namespace", "shop"}, want: "shop"},
		{args: []string{"ns", "shop", "--dry-run"}, want: "shop", dryRun: true},
		{args: []string{"namespace"}, wantErr: "accepts 1 arg"},
		{args: []string{"namespace", "a", "b"}, wantErr: "accepts 1 arg"},
		{args: nil, wantErr: "a kind is required"},
	} {
		ios, _, _, _ := iostreams.Test()
		f := cmdutil.NewFactory(ios)
		var got *NamespaceOptions
		cmd := NewCmdCreate(f)
		cmd.RemoveCommand(cmd.Commands()...)
		cmd.AddCommand(NewCmdCreateNamespace(f, func(o *NamespaceOptions) error { got = o; return nil }))
		cmd.SetArgs(tt.args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: got %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got == nil || got.Name != tt.want || got.DryRun != tt.dryRun {
			t.Errorf("%q: %v, %+v", tt.args, err, got)
		}
	}
}
