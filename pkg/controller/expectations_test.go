package controller_test

import (
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/client/clock/clocktest"
	"github.com/kl-dev/kl/pkg/controller"
)

func TestExpectations(t *testing.T) {
	clk := clocktest.NewFake(time.Unix(1000, 0))
	e := controller.NewExpectations(clk)
	const key = "default/web"
	if !e.Satisfied(key) {
		t.Fatal("a key with no expectations is not satisfied")
	}
	e.ExpectCreations(key, 2)
	if e.Satisfied(key) {
		t.Fatal("satisfied with 2 creations pending")
	}
	e.CreationObserved(key)
	e.CreationObserved(key)
	e.CreationObserved(key) // more than expected: no effect
	if !e.Satisfied(key) {
		t.Fatal("not satisfied after both creations were seen")
	}

	e.ExpectDeletions(key, []string{"uid-a", "uid-b"})
	e.DeletionObserved(key, "uid-a")
	e.DeletionObserved(key, "uid-x") // not expected: no effect
	if adds, dels := e.Pending(key); adds != 0 || dels != 1 || e.Satisfied(key) {
		t.Fatalf("pending %d creations, %d deletions; want 0, 1", adds, dels)
	}
	e.DeletionObserved(key, "uid-b")
	if !e.Satisfied(key) {
		t.Fatal("not satisfied after both deletions were seen")
	}
}

// Expectations never confirmed expire, so a lost event cannot stall a
// controller for good; expectations set after that start afresh.
func TestExpectationsExpire(t *testing.T) {
	clk := clocktest.NewFake(time.Unix(1000, 0))
	e := controller.NewExpectations(clk)
	const key = "default/web"
	e.ExpectCreations(key, 3)
	clk.Step(controller.ExpectationsTTL)
	if e.Satisfied(key) {
		t.Fatal("satisfied at exactly the TTL")
	}
	clk.Step(time.Second)
	if !e.Satisfied(key) {
		t.Fatal("not satisfied after the TTL")
	}
	e.ExpectCreations(key, 1)
	if adds, _ := e.Pending(key); adds != 1 {
		t.Errorf("pending creations after expiry = %d, want 1 (not 4)", adds)
	}
}

func TestExpectationsForgetAndReset(t *testing.T) {
	e := controller.NewExpectations(nil)
	e.ExpectCreations("a", 1)
	e.ExpectDeletions("b", []string{"x"})
	e.Forget("a")
	e.Reset("b")
	if !e.Satisfied("a") || !e.Satisfied("b") {
		t.Error("Forget/Reset left expectations pending")
	}
}
