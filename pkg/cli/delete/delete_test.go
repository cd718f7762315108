package delete

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmdDelete(cmdutil.NewFactory(ios), func(o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	return got, err
}

func TestNewCmdDelete_ParsesFlags(t *testing.T) {
	o, err := parse(t, "-f", "a.yaml", "-f", "dir", "-R", "--cascade=foreground", "--grace-period", "0", "--wait", "--timeout", "30s", "--ignore-not-found")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.Filenames, ",") != "a.yaml,dir" || !o.Recursive || o.Cascade != "foreground" || o.GracePeriod != 0 ||
		!o.Wait || o.Timeout != 30*time.Second || !o.IgnoreNotFound {
		t.Errorf("options %+v", o)
	}
	o, err = parse(t, "pods", "-l", "app=web", "-A")
	if err != nil || o.Selector != "app=web" || !o.AllNamespaces || o.GracePeriod != -1 || o.Cascade != "background" {
		t.Errorf("options %+v, %v", o, err)
	}
}

func TestNewCmdDelete_RejectsBadUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "you must specify the objects to delete"},
		{[]string{"-f", "a.yaml", "pods", "web"}, "cannot combine -f with resource arguments"},
		{[]string{"pods", "--all", "-l", "a=b"}, "cannot combine --all with --selector"},
		{[]string{"pods", "web", "--cascade", "never"}, `invalid --cascade "never"`},
		{[]string{"pods", "web", "--timeout", "-1s"}, "--timeout must not be negative"},
	} {
		_, err := parse(t, tt.args...)
		var fe *cmdutil.FlagError
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want %q", tt.args, err, tt.want)
		} else if !errors.As(err, &fe) {
			t.Errorf("%v: %v is not a usage error", tt.args, err)
		}
	}
}

func TestPropagation_MapsCascadeToPolicy(t *testing.T) {
	for in, want := range map[string]meta.DeletionPropagation{
		"background": meta.DeletePropagationBackground,
		"Foreground": meta.DeletePropagationForeground,
		"orphan":     meta.DeletePropagationOrphan,
		"true":       meta.DeletePropagationBackground,
		"false":      meta.DeletePropagationOrphan,
	} {
		if got, err := propagation(in); err != nil || got != want {
			t.Errorf("propagation(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
