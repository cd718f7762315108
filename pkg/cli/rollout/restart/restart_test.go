package restart

import (
	"context"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/rollout/internal/deployutil"
	rt "github.com/kl-dev/kl/pkg/cli/rollout/internal/rollouttest"
	"github.com/kl-dev/kl/pkg/client"
)

func TestRunRestart_StampsTheTemplateWithTheTime(t *testing.T) {
	c := apiservertest.StartClient(t)
	ctx := context.Background()
	deps := deployutil.Deployments(c, rt.Namespace)
	d := rt.Deployment(1, "nginx:1")
	d.Spec.Template.Annotations = map[string]string{"keep": "me"}
	if _, err := deps.Create(ctx, d, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cl, ns := rt.Clients(c)
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("X", 3600))
	ios, _, out, _ := iostreams.Test()
	opts := &Options{IO: ios, Client: cl, Namespace: ns, Now: func() time.Time { return now }, Args: []string{"deployment/web"}}
	if err := runRestart(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if out.String() != "deployment.apps/web restarted\n" {
		t.Errorf("stdout %q", out)
	}
	got, err := deps.Get(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if a := got.Spec.Template.Annotations; a[RestartedAtAnnotation] != "2025-03-04T05:06:07+01:00" || a["keep"] != "me" {
		t.Errorf("template annotations %v", a)
	}
	if got.Generation != 2 {
		t.Errorf("generation %d, want 2: a restart is a spec change", got.Generation)
	}

	// Paused: refused, nothing written.
	if _, err := deps.Patch(ctx, "web", client.MergePatchType, []byte(`{"spec":{"paused":true}}`), client.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	ios, _, _, errOut := iostreams.Test()
	opts.IO = ios
	opts.Now = func() time.Time { return now.Add(time.Hour) }
	if err := runRestart(ctx, opts); err == nil {
		t.Fatal("restart of a paused deployment succeeded")
	}
	if want := "error: deployments.apps \"web\" can't restart paused deployment (run 'kl rollout resume deployment/web' first)\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}
