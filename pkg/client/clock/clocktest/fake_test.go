package clocktest

import (
	"testing"
	"time"
)

func TestFakeTimerFiresOnlyWhenTimeReachesDeadline(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	tm := f.NewTimer(time.Second)
	if f.Waiters() != 1 {
		t.Fatalf("Waiters = %d, want 1", f.Waiters())
	}
	f.Step(999 * time.Millisecond)
	select {
	case <-tm.C():
		t.Fatal("timer fired before its deadline")
	default:
	}
	f.Step(time.Millisecond)
	select {
	case got := <-tm.C():
		if want := start.Add(time.Second); !got.Equal(want) {
			t.Fatalf("fired at %v, want %v", got, want)
		}
	default:
		t.Fatal("timer did not fire at its deadline")
	}
	if tm.Stop() {
		t.Fatal("Stop of a fired timer reported active")
	}
}

func TestFakeTimerStopAndImmediate(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	tm := f.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of an active timer reported inactive")
	}
	f.Step(time.Hour)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
	now := f.NewTimer(0)
	select {
	case <-now.C():
	default:
		t.Fatal("zero-duration timer did not fire at once")
	}
}
