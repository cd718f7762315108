package deployutil_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/cli/rollout/internal/deployutil"
	rt "github.com/kl-dev/kl/pkg/cli/rollout/internal/rollouttest"
	"github.com/kl-dev/kl/pkg/client"
)

func TestEqualIgnoreHash_IgnoresOnlyThePodTemplateHashLabel(t *testing.T) {
	base := rt.Template("nginx:1")
	withHash := rt.Template("nginx:1")
	withHash.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "abc"
	otherImage := rt.Template("nginx:2")
	otherLabel := rt.Template("nginx:1")
	otherLabel.Labels["tier"] = "front"
	onlyHash := rt.Template("nginx:1")
	onlyHash.Labels = map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "abc"}
	noLabels := rt.Template("nginx:1")
	noLabels.Labels = nil
	for _, tt := range []struct {
		name string
		a, b corev1.PodTemplateSpec
		want bool
	}{
		{"same", base, base, true},
		{"hash label only differs", base, withHash, true},
		{"image differs", base, otherImage, false},
		{"another label differs", withHash, otherLabel, false},
		{"no labels but the hash equals no labels", onlyHash, noLabels, true},
	} {
		if got := deployutil.EqualIgnoreHash(&tt.a, &tt.b); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	if withHash.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != "abc" {
		t.Error("EqualIgnoreHash changed its argument")
	}
}

func TestFindNewReplicaSet_PicksTheOldestWithTheCurrentTemplate(t *testing.T) {
	d := rt.Deployment(1, "nginx:2")
	older := rt.ReplicaSet(d, "a", 2, 1)
	older.CreationTimestamp = meta.Time{Time: time.Unix(100, 0)}
	newer := rt.ReplicaSet(d, "b", 3, 1)
	newer.CreationTimestamp = meta.Time{Time: time.Unix(200, 0)}
	other := rt.ReplicaSet(d, "c", 1, 1)
	other.Spec.Template = rt.Template("nginx:1")
	if got := deployutil.FindNewReplicaSet(d, []*appsv1.ReplicaSet{other, newer, older}); got != older {
		t.Errorf("got %v, want web-a", got)
	}
	if got := deployutil.FindNewReplicaSet(d, []*appsv1.ReplicaSet{other}); got != nil {
		t.Errorf("got %s, want none", got.Name)
	}
}

func TestRevision(t *testing.T) {
	for _, tt := range []struct {
		annotations map[string]string
		want        int64
		wantErr     bool
	}{
		{nil, 0, false},
		{map[string]string{appsv1.RevisionAnnotation: "3"}, 3, false},
		{map[string]string{appsv1.RevisionAnnotation: "three"}, 0, true},
	} {
		got, err := deployutil.Revision(&meta.ObjectMeta{Name: "x", Annotations: tt.annotations})
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("Revision(%v) = %d, %v; want %d, error %v", tt.annotations, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestRevisions_SkipsUnnumberedAndSorts(t *testing.T) {
	d := rt.Deployment(1, "nginx:2")
	r3, r1 := rt.ReplicaSet(d, "c", 3, 1), rt.ReplicaSet(d, "a", 1, 1)
	none := rt.ReplicaSet(d, "n", 0, 1)
	delete(none.Annotations, appsv1.RevisionAnnotation)
	bad := rt.ReplicaSet(d, "x", 0, 1)
	bad.Annotations[appsv1.RevisionAnnotation] = "x"
	revs := deployutil.Revisions([]*appsv1.ReplicaSet{r3, none, bad, r1})
	if got := fmt.Sprint(deployutil.SortedRevisions(revs)); got != "[1 3]" {
		t.Errorf("revisions %s, want [1 3]", got)
	}
	if revs[1] != r1 || revs[3] != r3 {
		t.Errorf("revision map %v", revs)
	}
}

func TestOwned_KeepsReplicaSetsControlledByTheDeployment(t *testing.T) {
	d := rt.Deployment(1, "nginx:2")
	d.UID = "d1"
	mine := rt.ReplicaSet(d, "a", 1, 1)
	other := rt.ReplicaSet(d, "b", 1, 1)
	other.OwnerReferences[0].UID = "d0" // a deleted deployment of the same name
	orphan := rt.ReplicaSet(d, "c", 1, 1)
	orphan.OwnerReferences = nil
	got := deployutil.Owned(d, []*appsv1.ReplicaSet{mine, other, orphan})
	if len(got) != 1 || got[0] != mine {
		t.Errorf("got %d ReplicaSets, want web-a only", len(got))
	}
}

func TestPatches_CarryTheResourceVersion(t *testing.T) {
	p, err := deployutil.MergePatch("42", map[string]any{"spec": map[string]any{"paused": true}, "metadata": map[string]any{"labels": map[string]string{"a": "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"metadata":{"labels":{"a":"b"},"resourceVersion":"42"},"spec":{"paused":true}}`; string(p.Data) != want || p.Type != client.MergePatchType {
		t.Errorf("merge patch %s %s, want %s", p.Type, p.Data, want)
	}
	p, err = deployutil.JSONPatch("42", deployutil.JSONPatchOp{Op: "replace", Path: "/spec/replicas", Value: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"op":"add","path":"/metadata/resourceVersion","value":"42"},{"op":"replace","path":"/spec/replicas","value":2}]`; string(p.Data) != want || p.Type != client.JSONPatchType {
		t.Errorf("JSON patch %s %s, want %s", p.Type, p.Data, want)
	}
}

func TestUpdate_RetriesWhenTheDeploymentChangedMeanwhile(t *testing.T) {
	c := apiservertest.StartClient(t)
	ctx := context.Background()
	deps := deployutil.Deployments(c, rt.Namespace)
	if _, err := deps.Create(ctx, rt.Deployment(1, "nginx:1"), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	calls := 0
	d, err := deployutil.Update(ctx, c, rt.Namespace, "web", func(d *appsv1.Deployment) (*deployutil.Patch, error) {
		calls++
		if calls == 1 {
			// Someone else writes between our read and our patch.
			if _, err := deps.Patch(ctx, "web", client.MergePatchType, []byte(`{"metadata":{"labels":{"other":"writer"}}}`), client.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		return deployutil.MergePatch(d.ResourceVersion, map[string]any{"spec": map[string]any{"paused": true}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || !d.Spec.Paused || d.Labels["other"] != "writer" {
		t.Errorf("calls=%d paused=%v labels=%v; want 2 calls and both writes kept", calls, d.Spec.Paused, d.Labels)
	}

	// A change with nothing to do sends nothing.
	calls = 0
	before := d.ResourceVersion
	d, err = deployutil.Update(ctx, c, rt.Namespace, "web", func(*appsv1.Deployment) (*deployutil.Patch, error) {
		calls++
		return nil, nil
	})
	if err != nil || calls != 1 || d.ResourceVersion != before {
		t.Errorf("no-op update: calls=%d rv %s -> %s, %v", calls, before, d.ResourceVersion, err)
	}

	// Endless interference: it gives up with the Conflict.
	_, err = deployutil.Update(ctx, c, rt.Namespace, "web", func(d *appsv1.Deployment) (*deployutil.Patch, error) {
		if _, err := deps.Patch(ctx, "web", client.MergePatchType, []byte(`{"metadata":{"labels":{"n":"`+d.ResourceVersion+`"}}}`), client.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		return deployutil.MergePatch(d.ResourceVersion, map[string]any{"spec": map[string]any{"paused": false}})
	})
	if !meta.IsConflict(err) {
		t.Errorf("got %v, want a Conflict", err)
	}
}

func TestResolveNames_AcceptsDeploymentArgumentsOnly(t *testing.T) {
	c := apiservertest.StartClient(t)
	ctx := context.Background()
	for _, tt := range []struct {
		args    []string
		want    string
		wantErr string
	}{
		{args: []string{"deployment/web"}, want: "web"},
		{args: []string{"deploy", "a", "b"}, want: "a b"},
		{args: []string{"deployments.apps/web", "deploy/api"}, want: "web api"},
		{args: []string{"pods/web"}, wantErr: "rollout is not supported for pods: kl rollout works on deployments"},
		{args: []string{"deployment"}, wantErr: "a deployment name is required"},
		{args: []string{"deploymnt/web"}, wantErr: `the server doesn't have a resource type "deploymnt"`},
	} {
		names, err := deployutil.ResolveNames(ctx, c, tt.args)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: got %v, want error %q", tt.args, err, tt.wantErr)
			}
		case err != nil || strings.Join(names, " ") != tt.want:
			t.Errorf("%v: got %v, %v; want %s", tt.args, names, err, tt.want)
		}
	}
	if _, err := deployutil.ResolveName(ctx, c, []string{"deploy", "a", "b"}); err == nil || !strings.Contains(err.Error(), "exactly one deployment") {
		t.Errorf("ResolveName of two: %v", err)
	}
}
