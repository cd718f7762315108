package undo

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/rollout/internal/deployutil"
	rt "github.com/kl-dev/kl/pkg/cli/rollout/internal/rollouttest"
	"github.com/kl-dev/kl/pkg/client"
)

func TestNewCmdUndo_ParsesFlags(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	var got *Options
	cmd := NewCmdUndo(cmdutil.NewFactory(ios), func(o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"deployment/web", "--to-revision", "3"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err != nil || got.ToRevision != 3 || strings.Join(got.Args, " ") != "deployment/web" {
		t.Fatalf("options %+v, %v", got, err)
	}
	cmd = NewCmdUndo(cmdutil.NewFactory(ios), func(*Options) error { return nil })
	cmd.SetArgs([]string{"deployment/web", "--to-revision", "-1"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	var fe *cmdutil.FlagError
	if err := cmd.Execute(); !errors.As(err, &fe) {
		t.Fatalf("negative revision: got %v, want a usage error", err)
	}
}

// history returns Deployment web (running nginx:3) and its ReplicaSets of
// revisions 1 (nginx:1), 2 (nginx:2) and 3 (nginx:3), in a shuffled order.
func history() (*appsv1.Deployment, []*appsv1.ReplicaSet) {
	d := rt.Deployment(2, "nginx:3")
	var rss []*appsv1.ReplicaSet
	for _, r := range []struct {
		hash  string
		rev   int64
		image string
	}{{"b", 2, "nginx:2"}, {"c", 3, "nginx:3"}, {"a", 1, "nginx:1"}} {
		rs := rt.ReplicaSet(d, r.hash, r.rev, 0)
		rs.Spec.Template = rt.Template(r.image)
		rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = r.hash
		rss = append(rss, rs)
	}
	return d, rss
}

func TestTarget_PicksThePreviousRevisionOrTheOneAsked(t *testing.T) {
	for _, tt := range []struct {
		name       string
		keep       int // how many ReplicaSets of history() to pass
		toRevision int64
		wantRev    int64
		wantImage  string
		wantErr    string
	}{
		{name: "previous", keep: 3, wantRev: 2, wantImage: "nginx:2"},
		{name: "given", keep: 3, toRevision: 1, wantRev: 1, wantImage: "nginx:1"},
		{name: "given current", keep: 3, toRevision: 3, wantRev: 3, wantImage: "nginx:3"},
		{name: "missing revision", keep: 3, toRevision: 9, wantErr: "unable to find revision 9 of deployment.apps/web in its history"},
		{name: "only one revision", keep: 1, wantErr: `no rollout history found for deployment "web"`},
		{name: "no revision", keep: 0, wantErr: `no rollout history found for deployment "web"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, rss := history()
			rs, rev, err := target(d, rss[:tt.keep], tt.toRevision)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || rev != tt.wantRev || rs.Spec.Template.Spec.Containers[0].Image != tt.wantImage {
				t.Fatalf("got revision %d (%v), want %d %s", rev, err, tt.wantRev, tt.wantImage)
			}
		})
	}
}

func TestRollbackPatch_CopiesTemplateWithoutHashAndAnnotations(t *testing.T) {
	d, rss := history()
	d.ResourceVersion = "17"
	d.Annotations = map[string]string{
		appsv1.RevisionAnnotation:    "3",
		appsv1.ChangeCauseAnnotation: "image 3",
		"team":                       "a",
	}
	rs := rss[0] // revision 2
	rs.Annotations[appsv1.ChangeCauseAnnotation] = "image 2"
	p, err := rollbackPatch(d, rs)
	if err != nil {
		t.Fatal(err)
	}
	var ops []struct {
		Op, Path string
		Value    json.RawMessage
	}
	if err := json.Unmarshal(p.Data, &ops); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, op := range ops {
		got[op.Op+" "+op.Path] = string(op.Value)
	}
	want := map[string]string{
		"add /metadata/resourceVersion": `"17"`,
		"replace /spec/template":        `{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:2","resources":{}}]}}`,
		// The deployment keeps its revision; the rest comes from the
		// ReplicaSet, as in kubectl ("team" was not on revision 2).
		"add /metadata/annotations": `{"deployment.kubernetes.io/revision":"3","kubernetes.io/change-cause":"image 2"}`,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("ops %v", got)
	}
	if rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != "b" {
		t.Error("rollbackPatch changed the ReplicaSet")
	}
}

func TestRunUndo_AgainstAnAPIServer(t *testing.T) {
	c := apiservertest.StartClient(t)
	ctx := context.Background()
	d, err := deployutil.Deployments(c, rt.Namespace).Create(ctx, rt.Deployment(2, "nginx:3"), client.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, rss := history()
	for _, rs := range rss {
		rs.OwnerReferences[0].UID = d.UID
		if _, err := deployutil.ReplicaSets(c, rt.Namespace).Create(ctx, rs, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cl, ns := rt.Clients(c)
	run := func(toRevision int64) (string, error) {
		ios, _, out, _ := iostreams.Test()
		err := runUndo(ctx, &Options{IO: ios, Client: cl, Namespace: ns, Args: []string{"deployment/web"}, ToRevision: toRevision})
		return out.String(), err
	}
	image := func() string {
		d, err := deployutil.Deployments(c, rt.Namespace).Get(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		return d.Spec.Template.Spec.Containers[0].Image
	}

	if out, err := run(0); err != nil || out != "deployment.apps/web rolled back\n" || image() != "nginx:2" {
		t.Errorf("undo: %q, %v, image %s", out, err, image())
	}
	if out, err := run(2); err != nil || out != "deployment.apps/web skipped rollback (current template already matches revision 2)\n" {
		t.Errorf("undo to the current template: %q, %v", out, err)
	}
	if _, err := deployutil.Deployments(c, rt.Namespace).Patch(ctx, "web", client.MergePatchType, []byte(`{"spec":{"paused":true}}`), client.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "you cannot rollback a paused deployment; resume it first with 'kl rollout resume deployment/web' and try again"
	if _, err := run(1); err == nil || err.Error() != want {
		t.Errorf("paused: got %v, want %q", err, want)
	}
	if image() != "nginx:2" {
		t.Errorf("a refused undo changed the image to %s", image())
	}
}
