package label

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func TestNewCmdLabel_SplitsResourcesAndChanges(t *testing.T) {
	tests := []struct {
		args       []string
		field      Field
		wantRes    []string
		wantSet    map[string]string
		wantRemove []string
		wantErr    string
	}{
		{args: []string{"pod", "web", "app=web", "tier-"}, wantRes: []string{"pod", "web"},
			wantSet: map[string]string{"app": "web"}, wantRemove: []string{"tier"}},
		{args: []string{"pod/web", "example.com/team=a", "empty="}, wantRes: []string{"pod/web"},
			wantSet: map[string]string{"example.com/team": "a", "empty": ""}},
		{args: []string{"deploy", "web", "note=a b c"}, field: Annotations, wantRes: []string{"deploy", "web"},
			wantSet: map[string]string{"note": "a b c"}},
		{args: []string{"pod", "web", "note=a b c"}, wantErr: `invalid label value "a b c"`},
		{args: []string{"pod", "web"}, wantErr: "at least one label update is required"},
		{args: []string{"app=web"}, wantErr: "one or more resources must be specified"},
		{args: []string{"pod", "app=web", "web"}, wantErr: "must come after the resources"},
		{args: []string{"pod", "web", "a=b", "a-"}, wantErr: "can not both modify and remove"},
		{args: []string{"pod", "web", "_x=1"}, wantErr: `invalid key "_x"`},
		{args: []string{"pod", "web", "Example.com/x=1"}, wantErr: "the prefix must be a DNS subdomain"},
		{args: []string{"pod", "web", strings.Repeat("k", 64) + "=1"}, wantErr: "63 characters or less"},
	}
	for _, tt := range tests {
		field := tt.field
		if field == "" {
			field = Labels
		}
		ios, _, _, _ := iostreams.Test()
		var got *Options
		cmd := NewCmd(cmdutil.NewFactory(ios), field, func(o *Options) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: got %v, want error %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(got.ResourceArgs, tt.wantRes) || !reflect.DeepEqual(got.Set, tt.wantSet) || !reflect.DeepEqual(got.Remove, tt.wantRemove) {
			t.Errorf("%q: resources %q set %v remove %q", tt.args, got.ResourceArgs, got.Set, got.Remove)
		}
	}
}

func TestNewCmd_NamesTheCommandAfterTheField(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := cmdutil.NewFactory(ios)
	if got := NewCmdLabel(f, nil).Name(); got != "label" {
		t.Errorf("label command is named %q", got)
	}
	if got := NewCmd(f, Annotations, nil).Name(); got != "annotate" {
		t.Errorf("annotate command is named %q", got)
	}
}
