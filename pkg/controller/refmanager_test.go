package controller_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/controller"
)

func ownerPod(name string, labels map[string]string, owner *meta.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: name, UID: "uid-" + name, Labels: labels}}
	if owner != nil {
		p.OwnerReferences = []meta.OwnerReference{*owner}
	}
	return p
}

func TestClaimer(t *testing.T) {
	owner := &corev1.Pod{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "rs", UID: "uid-rs"}} // any object will do
	mine := controller.NewControllerRef(owner, "apps/v1", "ReplicaSet")
	theirs := meta.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "other", UID: "uid-other", Controller: meta.Boolp(true)}
	match, other := map[string]string{"app": "web"}, map[string]string{"app": "db"}
	ts := meta.Now()
	dying := ownerPod("dying", match, nil)
	dying.DeletionTimestamp = &ts
	elsewhere := ownerPod("elsewhere", match, nil)
	elsewhere.Namespace = "prod"
	pods := []*corev1.Pod{
		ownerPod("kept", match, &mine),
		ownerPod("released", other, &mine),
		ownerPod("adopted", match, nil),
		ownerPod("stranger", other, nil),
		ownerPod("theirs", match, &theirs),
		dying, elsewhere,
	}
	sel, _ := meta.ParseSelector("app=web")

	tests := []struct {
		name        string
		deleting    bool
		canAdopt    error
		wantClaimed []string
		wantActions []string
		wantErr     bool
	}{
		{name: "adopts matching orphans, releases what stopped matching",
			wantClaimed: []string{"kept", "adopted"}, wantActions: []string{"adopt adopted", "canAdopt", "release released"}},
		{name: "an owner being deleted neither adopts nor releases",
			deleting: true, wantClaimed: []string{"kept"}},
		{name: "no adoption when the owner cannot be confirmed",
			canAdopt: errors.New("gone"), wantClaimed: []string{"kept"}, wantActions: []string{"canAdopt", "release released"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := owner.DeepCopy()
			if tt.deleting {
				o.DeletionTimestamp = &ts
			}
			var actions []string
			cl := controller.Claimer[*corev1.Pod]{
				Owner: o, Selector: sel,
				CanAdopt: func(context.Context) error { actions = append(actions, "canAdopt"); return tt.canAdopt },
				Adopt:    func(_ context.Context, p *corev1.Pod) error { actions = append(actions, "adopt "+p.Name); return nil },
				Release:  func(_ context.Context, p *corev1.Pod) error { actions = append(actions, "release "+p.Name); return nil },
			}
			claimed, err := cl.Claim(context.Background(), pods)
			var names []string
			for _, p := range claimed {
				names = append(names, p.Name)
			}
			slices.Sort(actions)
			if !slices.Equal(names, tt.wantClaimed) || !slices.Equal(actions, tt.wantActions) || (err != nil) != tt.wantErr {
				t.Errorf("claimed %v, actions %v, err %v; want %v, %v, error %v", names, actions, err, tt.wantClaimed, tt.wantActions, tt.wantErr)
			}
		})
	}
}

// An object gone before it could be adopted is skipped, not an error.
func TestClaimerSkipsVanishedObjects(t *testing.T) {
	owner := &corev1.Pod{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "rs", UID: "uid-rs"}}
	sel, _ := meta.ParseSelector("app=web")
	cl := controller.Claimer[*corev1.Pod]{
		Owner: owner, Selector: sel,
		Adopt: func(_ context.Context, p *corev1.Pod) error { return meta.NewNotFound("", "pods", p.Name) },
	}
	claimed, err := cl.Claim(context.Background(), []*corev1.Pod{ownerPod("gone", map[string]string{"app": "web"}, nil)})
	if err != nil || len(claimed) != 0 {
		t.Errorf("claimed %d, err %v; want none and no error", len(claimed), err)
	}
}

func TestAdoptAndReleasePatches(t *testing.T) {
	owner := &corev1.Pod{ObjectMeta: meta.ObjectMeta{Name: "rs", UID: "uid-rs"}}
	ref := controller.NewControllerRef(owner, "apps/v1", "ReplicaSet")
	var adopt map[string]map[string]any
	if err := json.Unmarshal(controller.AdoptPatch(ref, "uid-pod"), &adopt); err != nil {
		t.Fatal(err)
	}
	if adopt["metadata"]["uid"] != "uid-pod" {
		t.Errorf("adopt patch has no uid precondition: %v", adopt)
	}
	refs, _ := json.Marshal(adopt["metadata"]["ownerReferences"])
	if !strings.Contains(string(refs), `"controller":true`) || !strings.Contains(string(refs), `"blockOwnerDeletion":true`) || !strings.Contains(string(refs), `"uid":"uid-rs"`) {
		t.Errorf("adopt patch references %s", refs)
	}
	if got := string(controller.ReleasePatch("uid-rs", "uid-pod")); got != `{"metadata":{"ownerReferences":[{"$patch":"delete","uid":"uid-rs"}],"uid":"uid-pod"}}` {
		t.Errorf("release patch %s", got)
	}
}

// RecheckOwner lets adoptions through only for the owner the cache showed,
// alive: not for another object under its name, one being deleted, or
// when it cannot be read.
func TestRecheckOwner(t *testing.T) {
	owner := &appsv1.ReplicaSet{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "ns", UID: "u1"}}
	now := meta.Now()
	for _, tt := range []struct {
		name  string
		fresh *appsv1.ReplicaSet
		err   error
		want  string
	}{
		{"same owner", &appsv1.ReplicaSet{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "ns", UID: "u1"}}, nil, ""},
		{"recreated", &appsv1.ReplicaSet{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "ns", UID: "u2"}}, nil, "ReplicaSet ns/web is gone: got uid u2, wanted u1"},
		{"being deleted", &appsv1.ReplicaSet{ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "ns", UID: "u1", DeletionTimestamp: &now}}, nil, "ReplicaSet ns/web is being deleted"},
		{"unreadable", nil, errors.New("boom"), "re-read ReplicaSet ns/web before adopting: boom"},
	} {
		check := controller.RecheckOwner(owner, "ReplicaSet", func(_ context.Context, ns, name string) (*appsv1.ReplicaSet, error) {
			if ns != "ns" || name != "web" {
				t.Fatalf("read %s/%s, want ns/web", ns, name)
			}
			return tt.fresh, tt.err
		})
		err := check(context.Background())
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}
