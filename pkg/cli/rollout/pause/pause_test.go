package pause

import (
	"context"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/rollout/internal/deployutil"
	rt "github.com/kl-dev/kl/pkg/cli/rollout/internal/rollouttest"
	"github.com/kl-dev/kl/pkg/client"
)

func TestNewCmd_PauseAndResumeShareOptions(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := cmdutil.NewFactory(ios)
	for _, tt := range []struct {
		pause bool
		use   string
	}{{true, "pause"}, {false, "resume"}} {
		var got *Options
		cmd := newCmd(f, tt.pause, func(o *Options) error { got = o; return nil })
		cmd.SetArgs([]string{"deploy", "a", "b"})
		if err := cmd.Execute(); err != nil || got.Pause != tt.pause || strings.Join(got.Args, " ") != "deploy a b" {
			t.Errorf("%s: %+v, %v", tt.use, got, err)
		}
		if cmd.Name() != tt.use {
			t.Errorf("command name %q, want %q", cmd.Name(), tt.use)
		}
	}
}

func TestRunPause_SetsAndClearsPausedOnce(t *testing.T) {
	c := apiservertest.StartClient(t)
	ctx := context.Background()
	deps := deployutil.Deployments(c, rt.Namespace)
	if _, err := deps.Create(ctx, rt.Deployment(1, "nginx:1"), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cl, ns := rt.Clients(c)
	run := func(pause bool) (string, string, error) {
		ios, _, out, errOut := iostreams.Test()
		err := runPause(ctx, &Options{IO: ios, Client: cl, Namespace: ns, Pause: pause, Args: []string{"deployment/web"}})
		return out.String(), errOut.String(), err
	}
	paused := func() bool {
		d, err := deps.Get(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		return d.Spec.Paused
	}
	for _, step := range []struct {
		pause               bool
		wantOut, wantErrOut string
		wantPaused          bool
	}{
		{true, "deployment.apps/web paused\n", "", true},
		{true, "", "error: deployments.apps \"web\" is already paused\n", true},
		{false, "deployment.apps/web resumed\n", "", false},
		{false, "", "error: deployments.apps \"web\" is not paused\n", false},
	} {
		out, errOut, err := run(step.pause)
		if out != step.wantOut || errOut != step.wantErrOut || (err != nil) != (step.wantErrOut != "") || paused() != step.wantPaused {
			t.Errorf("pause=%v: stdout %q stderr %q err %v paused %v; want %q %q paused %v",
				step.pause, out, errOut, err, paused(), step.wantOut, step.wantErrOut, step.wantPaused)
		}
	}
}
