package controller_test

import (
	"testing"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client/clock/clocktest"
	"github.com/kl-dev/kl/pkg/controller"
)

func rsAt(uid, rv string) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{ObjectMeta: meta.ObjectMeta{Namespace: "default", Name: "web", UID: uid, ResourceVersion: rv}}
}

func TestMutationCache(t *testing.T) {
	clk := clocktest.NewFake(time.Unix(1000, 0))
	c := controller.NewMutationCache[*appsv1.ReplicaSet](clk)
	cached := rsAt("u1", "10")
	if got := c.Newest(cached); got != cached {
		t.Fatal("nothing written: Newest must return the cached object")
	}
	written := rsAt("u1", "12")
	c.Mutated(written)
	c.Mutated(rsAt("u1", "11")) // an older write does not replace a newer one
	if got := c.Newest(cached); got != written {
		t.Fatalf("Newest = rv %s, want the write (12)", got.ResourceVersion)
	}
	if got := c.Newest(written); got != written {
		t.Fatal("Newest of the written object itself must be it")
	}
	if got := c.Newest(cached); got != written {
		t.Fatal("asking with the written object forgot it")
	}
	caughtUp := rsAt("u1", "13")
	if got := c.Newest(caughtUp); got != caughtUp {
		t.Fatal("the cache is past the write: Newest must return the cached object")
	}
	if got := c.Newest(cached); got != cached {
		t.Fatal("the write is still remembered after the cache passed it")
	}

	c.Mutated(rsAt("u1", "20"))
	if got := c.Newest(rsAt("u2", "15")); got.UID != "u2" {
		t.Fatal("a write to a replaced object (other uid) was returned")
	}
	c.Mutated(rsAt("u3", "30"))
	clk.Step(2 * time.Minute)
	if got := c.Newest(rsAt("u3", "25")); got.ResourceVersion != "25" {
		t.Fatal("an expired write was returned")
	}
	c.Mutated(rsAt("u4", "40"))
	c.Forget("default/web")
	if got := c.Newest(rsAt("u4", "35")); got.ResourceVersion != "35" {
		t.Fatal("a forgotten write was returned")
	}
}
