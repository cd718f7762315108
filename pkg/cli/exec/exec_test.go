package exec

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmdExec(cmdutil.NewFactory(ios), func(o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return got, cmd.Execute()
}

func TestNewCmdExec_TakesTheCommandAfterTheDash(t *testing.T) {
	o, err := parse(t, "web", "-c", "app", "--", "sh", "-c", "ls -l")
	if err != nil {
		t.Fatal(err)
	}
	if o.Target != "web" || o.Container != "app" || !slices.Equal(o.Command, []string{"sh", "-c", "ls -l"}) {
		t.Errorf("options = %+v", o)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"web"}, "you must specify at least one command for the container: kl exec web -- COMMAND [ARGS...]"},
		{[]string{"web", "--"}, "you must specify at least one command"},
		{[]string{"--", "ls"}, "a pod name or TYPE/NAME is required before --"},
		{[]string{"web", "api", "--", "ls"}, "only one pod may be given before --"},
		{[]string{"web", "echo", "it's"}, `put the command after --: kl exec web -- echo 'it'\''s'`},
		{[]string{"-i", "web", "--", "sh"}, "kl exec is not interactive"},
		{nil, "requires at least 1 arg"},
	} {
		_, err := parse(t, tt.args...)
		var fe *cmdutil.FlagError
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &fe) {
			t.Errorf("%v: got %v, want a usage error %q", tt.args, err, tt.want)
		}
	}
}
