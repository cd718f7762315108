package wait

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// display shows the progress of a wait.
type display interface {
	// show reports t's status: at the start (initial) or because it
	// changed.
	show(t *tracked, initial bool)
	// tick is called every interval.
	tick(ts []*tracked)
	// stop ends the display (it may be called once).
	stop()
}

// lines is the display for logs and pipes: a line per object that is not
// ready at the start, a line when an object becomes ready or fails, and at
// a tick a line for each object still waiting whose status changed since
// its last line, or whose last line is heartbeat old (so that a long wait
// in a CI log shows it is alive without repeating itself every tick).
type lines struct {
	out       io.Writer
	heartbeat time.Duration    // 0: linesHeartbeat
	now       func() time.Time // nil: time.Now
	last      map[*tracked]printedLine
}

// linesHeartbeat is how often an unchanged waiting line is repeated.
const linesHeartbeat = 30 * time.Second

// printedLine is the last waiting line printed for an object.
type printedLine struct {
	text string
	at   time.Time
}

func (l *lines) show(t *tracked, initial bool) {
	switch {
	case t.status.Ready:
		fmt.Fprintf(l.out, "%s ready\n", t.Ref)
	case t.status.Failed:
		fmt.Fprintf(l.out, "%s: %s\n", t.Ref, t.status.Text)
	case initial:
		l.waiting(t)
	}
}

func (l *lines) tick(ts []*tracked) {
	heartbeat := l.heartbeat
	if heartbeat <= 0 {
		heartbeat = linesHeartbeat
	}
	for _, t := range ts {
		if t.done {
			continue
		}
		if last, ok := l.last[t]; ok && last.text == t.status.Text && l.clock().Sub(last.at) < heartbeat {
			continue
		}
		l.waiting(t)
	}
}

func (l *lines) waiting(t *tracked) {
	fmt.Fprintf(l.out, "waiting for %s: %s\n", t.Ref, t.status.Text)
	if l.last == nil {
		l.last = map[*tracked]printedLine{}
	}
	l.last[t] = printedLine{text: t.status.Text, at: l.clock()}
}

func (l *lines) clock() time.Time {
	if l.now != nil {
		return l.now()
	}
	return time.Now()
}

func (l *lines) stop() {}

// bars is the display for terminals: one live line per object,
// "deployment.apps/web [=====>    ] 2/3 available".
type bars struct {
	p    *mpb.Progress
	mu   sync.Mutex // guards text (read by the render goroutine)
	text map[*tracked]string
	bar  map[*tracked]*mpb.Bar
	once sync.Once
}

func newBars(out io.Writer, ts []*tracked) *bars {
	b := &bars{
		p:    mpb.New(mpb.WithOutput(out), mpb.WithAutoRefresh()),
		text: map[*tracked]string{},
		bar:  map[*tracked]*mpb.Bar{},
	}
	for _, t := range ts {
		b.text[t] = t.status.Text
		// Total 0: the bar does not complete by itself when its current
		// value reaches the total (a total that changes as a rollout
		// goes); show completes it when the object is ready.
		b.bar[t] = b.p.New(0, mpb.BarStyle().Lbound("[").Rbound("]"),
			mpb.PrependDecorators(decor.Name(t.Ref, decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				b.mu.Lock()
				defer b.mu.Unlock()
				return b.text[t]
			})),
		)
		b.bar[t].SetTotal(t.status.Total, false)
	}
	return b
}

func (b *bars) show(t *tracked, _ bool) {
	b.mu.Lock()
	b.text[t] = t.status.Text
	if t.status.Ready {
		b.text[t] = "ready"
	}
	b.mu.Unlock()
	bar := b.bar[t]
	switch {
	case t.status.Ready:
		bar.SetTotal(max(t.status.Total, t.status.Current), true)
	case t.status.Failed:
		bar.Abort(false)
	default:
		bar.SetTotal(t.status.Total, false)
		bar.SetCurrent(t.status.Current)
	}
}

func (b *bars) tick([]*tracked) {}

// stop ends the bars still running (a timeout) and waits for the last
// frame to be drawn.
func (b *bars) stop() {
	b.once.Do(func() {
		for t, bar := range b.bar {
			if !t.status.Ready {
				bar.Abort(false)
			}
		}
		b.p.Wait()
	})
}
