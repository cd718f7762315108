package wait

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestBarsCompleteOnlyWhenReady: a bar whose current value reaches an
// early total (1 of 1 before the status said 3) must not end there.
func TestBarsCompleteOnlyWhenReady(t *testing.T) {
	var buf bytes.Buffer
	tr := &tracked{Target: Target{Ref: "deployment.apps/web"}, status: Status{Total: 1, Text: "waiting for the first status"}}
	b := newBars(&buf, []*tracked{tr})
	tr.status = Status{Current: 1, Total: 3, Text: "1/3 available"}
	b.show(tr, true)
	tr.status = Status{Ready: true, Current: 3, Total: 3, Text: "3/3 available"}
	b.show(tr, false)
	b.stop()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "deployment.apps/web ") || !strings.HasSuffix(last, "] ready") || strings.Contains(last, "-") {
		t.Errorf("last frame %q: want a full bar and ready", last)
	}
}

func TestLinesReportStartTicksAndTransitions(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	l := &lines{out: &buf, now: func() time.Time { return now }}
	waiting := &tracked{Target: Target{Ref: "deployment.apps/web"}, status: Status{Text: "1/3 available"}}
	ready := &tracked{Target: Target{Ref: "service/web"}, status: Status{Ready: true}, done: true}
	failed := &tracked{Target: Target{Ref: "pod/x"}, status: Status{Failed: true, Text: "failed: Evicted"}, done: true}
	all := []*tracked{waiting, ready, failed}
	for _, tr := range all {
		l.show(tr, true)
	}
	now = now.Add(5 * time.Second)
	l.tick(all) // nothing changed: quiet
	waiting.status.Text = "2/3 available"
	l.show(waiting, false) // a change that is not ready: quiet until the tick
	now = now.Add(5 * time.Second)
	l.tick(all) // changed: one line
	now = now.Add(25 * time.Second)
	l.tick(all) // unchanged, 25s after its last line: quiet
	now = now.Add(5 * time.Second)
	l.tick(all) // unchanged for 30s: the heartbeat line
	want := "waiting for deployment.apps/web: 1/3 available\nservice/web ready\npod/x: failed: Evicted\n" +
		"waiting for deployment.apps/web: 2/3 available\n" +
		"waiting for deployment.apps/web: 2/3 available\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}
