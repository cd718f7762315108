package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/certs"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/test/e2e/framework"
)

// The fault tests run real kl processes and break them: SIGKILL while
// clients write, apiserver restarts under open watches, a 30 s apiserver
// outage under the other components, a thousand watches at once, and
// clients with bad certificates. RELIABILITY.md records their figures.

// trackedWrite is what a writer knows of one object of the SIGKILL test:
// the last write the server acknowledged and the last one it sent.
type trackedWrite struct {
	name string
	// created is set once the create was acknowledged (or a read after a
	// restart found the object).
	created bool
	// ackedSeq and ackedRV are data.seq and the resourceVersion of the
	// last acknowledged write (0 is the create).
	ackedSeq int
	ackedRV  string
	// sentSeq is data.seq of the last write sent (acknowledged or not).
	sentSeq int
}

// writeCounts are the acknowledged writes of the SIGKILL test.
type writeCounts struct {
	creates, updates atomic.Int64
	unexpected       atomic.Int64
}

// TestAcknowledgedWritesSurviveRepeatedSIGKILL runs 16 clients creating
// and updating ConfigMaps against `kl apiserver --storage badger`, kills
// the apiserver with SIGKILL while they write, starts it again on the
// same data directory and checks, for every object, that each write that
// got a 2xx is there: an acknowledged create with its resourceVersion
// (unless a later write was sent), an acknowledged update's data at least
// as new as the update. Three rounds.
func TestAcknowledgedWritesSurviveRepeatedSIGKILL(t *testing.T) {
	const (
		clients   = 16
		rounds    = 3
		killAfter = 500 // acknowledged writes per round before the kill
		ns        = "sigkill"
	)
	api := startRestartableAPIServer(t)
	hc := faultClient()
	faultCreateNamespace(t, hc, api.url, ns)
	base := api.url + "/api/v1/namespaces/" + ns + "/configmaps"

	objs := make([][]*trackedWrite, clients) // per client; only that client's goroutine touches its slice during a round
	var counts writeCounts
	for round := 1; round <= rounds; round++ {
		var roundAcks atomic.Int64
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		var wg sync.WaitGroup
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(round), uint64(c)))
				for i := 0; ctx.Err() == nil; i++ {
					if !sigkillWrite(ctx, hc, base, &objs[c], rng, fmt.Sprintf("r%d-c%02d-%05d", round, c, i), &counts) {
						return // the server is gone
					}
					roundAcks.Add(1)
				}
			}(c)
		}
		// Kill once enough writes were acknowledged in this round (or after
		// 60 s on a slow machine), while every client is writing.
		deadline := time.Now().Add(60 * time.Second)
		for roundAcks.Load() < killAfter && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		api.kill()
		wg.Wait()
		cancel()
		if roundAcks.Load() == 0 {
			t.Fatalf("round %d: no write acknowledged before the kill", round)
		}
		api.start()
		lost, changed, committed := verifyTracked(t, hc, api.url, ns, objs)
		t.Logf("round %d: %d writes acknowledged, SIGKILL, restart: %d lost, %d with another resourceVersion, %d unacknowledged writes found committed",
			round, roundAcks.Load(), lost, changed, committed)
		if lost > 0 || changed > 0 {
			t.Fatalf("round %d: %d acknowledged writes lost and %d changed across SIGKILL", round, lost, changed)
		}
	}
	t.Logf("%d SIGKILL restarts; acknowledged: %d creates, %d updates (%d writes); lost: 0; unexpected answers: %d; load average %s",
		rounds, counts.creates.Load(), counts.updates.Load(), counts.creates.Load()+counts.updates.Load(), counts.unexpected.Load(), faultLoadAverage())
	if n := counts.unexpected.Load(); n > 0 {
		t.Errorf("%d writes got an unexpected answer", n)
	}
}

// sigkillWrite makes one write for a client: an update of one of its
// objects (half of the time, once it has some) or a create. It returns
// false when the server could not be reached (it was killed).
func sigkillWrite(ctx context.Context, hc *http.Client, base string, objs *[]*trackedWrite, rng *rand.Rand, name string, counts *writeCounts) bool {
	var created []*trackedWrite
	for _, o := range *objs {
		if o.created {
			created = append(created, o)
		}
	}
	if len(created) > 0 && rng.IntN(2) == 0 {
		o := created[rng.IntN(len(created))]
		seq := o.sentSeq + 1
		o.sentSeq = seq
		var got cmObject
		code, err := faultDo(ctx, hc, "PUT", base+"/"+o.name, faultConfigMap(o.name, o.ackedRV, seq), &got)
		switch {
		case err != nil:
			return false
		case code == http.StatusOK:
			o.ackedSeq, o.ackedRV = seq, got.Metadata.ResourceVersion
			counts.updates.Add(1)
		case code == http.StatusConflict:
			// An earlier write that was sent but not acknowledged before
			// a kill was committed: learn the object as it is.
			var cur cmObject
			code, err := faultDo(ctx, hc, "GET", base+"/"+o.name, nil, &cur)
			if err != nil {
				return false
			}
			if code != http.StatusOK || cur.seq() < o.ackedSeq || cur.seq() > o.sentSeq {
				counts.unexpected.Add(1)
				return true
			}
			o.ackedSeq, o.ackedRV = cur.seq(), cur.Metadata.ResourceVersion
		default:
			counts.unexpected.Add(1)
		}
		return true
	}
	o := &trackedWrite{name: name}
	*objs = append(*objs, o)
	var got cmObject
	code, err := faultDo(ctx, hc, "POST", base, faultConfigMap(name, "", 0), &got)
	switch {
	case err != nil:
		return false
	case code == http.StatusCreated:
		o.created, o.ackedRV = true, got.Metadata.ResourceVersion
		counts.creates.Add(1)
	default:
		counts.unexpected.Add(1)
	}
	return true
}

// verifyTracked compares what the server has with what the clients were
// told. lost counts acknowledged writes that are not there (a missing
// object, or data older than the last acknowledged update); changed counts
// objects whose data is that of the last acknowledged write but whose
// resourceVersion differs. Writes sent but not acknowledged may or may not
// be there; those found are adopted (committed counts them).
func verifyTracked(t *testing.T, hc *http.Client, url, ns string, objs [][]*trackedWrite) (lost, changed, committed int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	have, _, err := faultListConfigMaps(ctx, hc, url, ns)
	if err != nil {
		t.Fatalf("list after restart: %v", err)
	}
	for _, list := range objs {
		for _, o := range list {
			cur, ok := have[o.name]
			switch {
			case !o.created && !ok:
				// An unacknowledged create that did not make it.
			case !o.created:
				o.created, o.ackedSeq, o.ackedRV = true, cur.seq(), cur.Metadata.ResourceVersion
				committed++
			case !ok:
				t.Errorf("%s: acknowledged (seq %d, resourceVersion %s) but missing after restart", o.name, o.ackedSeq, o.ackedRV)
				lost++
			case cur.seq() < o.ackedSeq || cur.seq() > o.sentSeq:
				t.Errorf("%s: data.seq %d after restart; acknowledged %d, last sent %d", o.name, cur.seq(), o.ackedSeq, o.sentSeq)
				lost++
			case cur.seq() == o.ackedSeq && cur.Metadata.ResourceVersion != o.ackedRV:
				t.Errorf("%s: resourceVersion %s after restart, acknowledged %s", o.name, cur.Metadata.ResourceVersion, o.ackedRV)
				changed++
			case cur.seq() > o.ackedSeq:
				o.ackedSeq, o.ackedRV = cur.seq(), cur.Metadata.ResourceVersion
				committed++
			}
		}
	}
	return lost, changed, committed
}

// ackedWrite is one write of the watch test: the object and the
// resourceVersion the write gave it.
type ackedWrite struct {
	name string
	rv   int64
}

// watchLedger keeps what one watcher observed: every event (name and
// resourceVersion), every (re-)list and the state it ends up with.
type watchLedger struct {
	name string

	mu     sync.Mutex
	events map[ackedWrite]int
	lists  []listSnapshot
	state  map[string]int64
	// seen counts events and lists, to tell that the watcher goes on.
	seen int
}

// listSnapshot is one (re-)list: its resourceVersion and its objects.
type listSnapshot struct {
	rv    int64
	items map[string]int64
}

func newWatchLedger(name string) *watchLedger {
	return &watchLedger{name: name, events: map[ackedWrite]int{}, state: map[string]int64{}}
}

func (r *watchLedger) event(name string, rv int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events[ackedWrite{name, rv}]++
	r.seen++
	if rv > r.state[name] {
		r.state[name] = rv
	}
}

func (r *watchLedger) list(rv int64, items map[string]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lists = append(r.lists, listSnapshot{rv: rv, items: items})
	r.seen++
	r.state = map[string]int64{}
	for k, v := range items {
		r.state[k] = v
	}
}

// progress returns how many events and lists the watcher has had.
func (r *watchLedger) progress() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen
}

// diff describes how the recorder's state differs from want ("" if not).
func (r *watchLedger) diff(want map[string]int64) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var d []string
	for k, v := range want {
		if r.state[k] != v {
			d = append(d, fmt.Sprintf("%s: have rv %d, server %d", k, r.state[k], v))
		}
	}
	for k := range r.state {
		if _, ok := want[k]; !ok {
			d = append(d, k+": not on the server")
		}
	}
	sort.Strings(d)
	if len(d) > 5 {
		d = append(d[:5], fmt.Sprintf("and %d more", len(d)-5))
	}
	return strings.Join(d, "; ")
}

// missedAndDuplicates returns the writes the watcher neither
// received as an event nor saw in a (re-)list made after the write, and
// counts the events delivered more than once.
func (r *watchLedger) missedAndDuplicates(acked []ackedWrite) (missed []ackedWrite, dups int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range acked {
		if r.events[w] > 0 {
			continue
		}
		covered := false
		for _, l := range r.lists {
			if l.rv >= w.rv && l.items[w.name] >= w.rv {
				covered = true
				break
			}
		}
		if !covered {
			missed = append(missed, w)
		}
	}
	for _, n := range r.events {
		if n > 1 {
			dups += n - 1
		}
	}
	return missed, dups
}

// notShown returns the writes the watcher has not shown
// at all: no event or row for the object at that resourceVersion or a
// newer one. It is the check for `kl get -w`, whose output does not say
// which rows come from a re-list.
func (r *watchLedger) notShown(acked []ackedWrite) []ackedWrite {
	r.mu.Lock()
	defer r.mu.Unlock()
	newest := map[string]int64{}
	for e := range r.events {
		newest[e.name] = max(newest[e.name], e.rv)
	}
	var out []ackedWrite
	for _, w := range acked {
		if newest[w.name] < w.rv {
			out = append(out, w)
		}
	}
	return out
}

// relistConfigMaps lists the ConfigMaps of ns until a list succeeds or ctx
// ends, records it in rec and returns its resourceVersion.
func relistConfigMaps(ctx context.Context, url, ns string, rec *watchLedger) (int64, error) {
	for {
		items, rv, err := faultListConfigMaps(ctx, faultClient(), url, ns)
		if err == nil {
			m := map[string]int64{}
			for k, o := range items {
				m[k] = o.rv()
			}
			n, _ := strconv.ParseInt(rv, 10, 64)
			rec.list(n, m)
			return n, nil
		}
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return 0, ctx.Err()
		}
	}
}

// rawWatch watches the ConfigMaps of ns over plain HTTP, as a client
// without kl's library would: it resumes from the last resourceVersion
// after a disconnect and lists again after 410 Gone.
func rawWatch(ctx context.Context, url, ns string, rec *watchLedger) {
	hc := &http.Client{} // streams: bounded by ctx only
	rv, _ := relistConfigMaps(ctx, url, ns, rec)
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/v1/namespaces/%s/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=%d", url, ns, rv), nil)
		resp, err := hc.Do(req)
		if err != nil {
			sleepCtx(ctx, 200*time.Millisecond)
			continue
		}
		gone := resp.StatusCode == http.StatusGone
		if resp.StatusCode == http.StatusOK {
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64*1024), 16<<20)
			for sc.Scan() {
				var ev struct {
					Type   string          `json:"type"`
					Object json.RawMessage `json:"object"`
				}
				if json.Unmarshal(sc.Bytes(), &ev) != nil {
					break
				}
				if ev.Type == "ERROR" {
					var st meta.Status
					_ = json.Unmarshal(ev.Object, &st)
					gone = st.Code == http.StatusGone
					break
				}
				var o cmObject
				if json.Unmarshal(ev.Object, &o) != nil {
					break
				}
				if ev.Type != "BOOKMARK" {
					rec.event(o.Metadata.Name, o.rv())
				}
				rv = o.rv()
			}
		}
		resp.Body.Close()
		if gone {
			rv, _ = relistConfigMaps(ctx, url, ns, rec)
		} else if resp.StatusCode != http.StatusOK {
			sleepCtx(ctx, 200*time.Millisecond)
		}
	}
}

// retryWatch watches the ConfigMaps of ns with pkg/client's RetryWatch, as
// kl's components do: list, watch, re-list after 410 Gone.
func retryWatch(ctx context.Context, url, ns string, rec *watchLedger) error {
	c, err := client.New(client.Config{Servers: []string{url}, Timeout: 20 * time.Second})
	if err != nil {
		return err
	}
	gvr := meta.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	dyn := c.Dynamic()
	relist := func() (string, error) {
		n, err := relistConfigMaps(ctx, url, ns, rec)
		return strconv.FormatInt(n, 10), err
	}
	rv, err := relist()
	for err == nil {
		events, werr := dyn.RetryWatch(ctx, gvr, ns, client.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if werr != nil {
			return werr
		}
		gone := false
		for ev := range events {
			switch ev.Type {
			case meta.Added, meta.Modified, meta.Deleted:
				var o cmObject
				if err := json.Unmarshal(ev.Object, &o); err != nil {
					return err
				}
				rec.event(o.Metadata.Name, o.rv())
			case meta.Error:
				if ev.Status == nil || ev.Status.Code != http.StatusGone {
					return fmt.Errorf("watch error: %+v", ev.Status)
				}
				gone = true
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if !gone {
			return errors.New("RetryWatch ended without 410 Gone")
		}
		rv, err = relist()
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// TestWatchesResumeAcrossAPIServerRestarts keeps three watchers on the
// ConfigMaps of a namespace, a `kl get -w` process, pkg/client's
// RetryWatch and a raw HTTP watch, while writers create and update them
// and the apiserver (badger) is killed or stopped and started again on the
// same address three times. After a restart the watch cache holds no
// history, so a watcher behind the store gets 410 Gone and lists again.
// Afterwards every watcher's state equals the server's, every committed
// write was seen (as an event, or in a list made after it), and no event
// was delivered twice.
func TestWatchesResumeAcrossAPIServerRestarts(t *testing.T) {
	const (
		ns       = "watched"
		writers  = 4
		objects  = 10 // per writer
		restarts = 3
	)
	api := startRestartableAPIServer(t)
	hc := faultClient()
	faultCreateNamespace(t, hc, api.url, ns)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	raw, lib, cli := newWatchLedger("raw watch"), newWatchLedger("RetryWatch"), newWatchLedger("kl get -w")
	var watchers sync.WaitGroup
	watchers.Add(2)
	go func() { defer watchers.Done(); rawWatch(ctx, api.url, ns, raw) }()
	libErr := make(chan error, 1)
	go func() { defer watchers.Done(); libErr <- retryWatch(ctx, api.url, ns, lib) }()
	defer func() { cancel(); watchers.Wait() }()

	getW := startLineProcess(t, "kl get -w", nil, "get", "configmaps", "-n", ns, "-w", "--server", api.url,
		"-o", "custom-columns=NAME:.metadata.name,RV:.metadata.resourceVersion")
	var cliLines atomic.Int64
	go func() {
		for line := range getW.lines {
			f := strings.Fields(line)
			if len(f) != 2 || f[0] == "NAME" {
				continue
			}
			rv, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				continue
			}
			cli.event(f[0], rv)
			cliLines.Add(1)
		}
	}()
	// The watchers list before the first write: wait for their lists.
	framework.Eventually(t, 60*time.Second, 50*time.Millisecond, "watchers listed", func() (bool, string) {
		raw.mu.Lock()
		defer raw.mu.Unlock()
		lib.mu.Lock()
		defer lib.mu.Unlock()
		return len(raw.lists) > 0 && len(lib.lists) > 0, "no list yet"
	})
	// kl get -w prints nothing for an empty namespace; give it a moment to
	// start its watch (a write before is then in its list, not missed).
	time.Sleep(2 * time.Second)

	var mu sync.Mutex
	var acked []ackedWrite
	var ackCount atomic.Int64
	wctx, stopWriters := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			created := make([]bool, objects)
			base := api.url + "/api/v1/namespaces/" + ns + "/configmaps"
			for i := 0; wctx.Err() == nil; i++ {
				k := i % objects
				name := fmt.Sprintf("w%d-%02d", w, k)
				var got cmObject
				var code int
				var err error
				if !created[k] {
					code, err = faultDo(wctx, hc, "POST", base, faultConfigMap(name, "", i), &got)
					if code == http.StatusConflict {
						created[k] = true // an unacknowledged create was committed
					}
				} else {
					code, err = faultDo(wctx, hc, "PUT", base+"/"+name, faultConfigMap(name, "", i), &got)
				}
				if err == nil && (code == http.StatusCreated || code == http.StatusOK) {
					created[k] = true
					mu.Lock()
					acked = append(acked, ackedWrite{name, got.rv()})
					mu.Unlock()
					ackCount.Add(1)
				}
				if err != nil {
					sleepCtx(wctx, 100*time.Millisecond) // the server is down
				} else {
					sleepCtx(wctx, 5*time.Millisecond)
				}
			}
		}(w)
	}
	waitAcks := func(n int64) {
		start := ackCount.Load()
		deadline := time.Now().Add(60 * time.Second)
		for ackCount.Load()-start < n && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitAcks(100)
	for i := 1; i <= restarts; i++ {
		how := "SIGKILL"
		if i == restarts {
			how = "SIGTERM"
			if err := api.proc.Stop(30 * time.Second); err != nil {
				t.Logf("stop the apiserver: %v", err)
			}
		} else {
			api.kill()
		}
		before := []int{raw.progress(), lib.progress(), cli.progress()}
		api.start()
		t.Logf("restart %d (%s) after %d acknowledged writes", i, how, ackCount.Load())
		waitAcks(100)
		// Kill again only once every watcher is back on the new server
		// (else the test would measure only how long clients back off).
		framework.Eventually(t, 90*time.Second, 50*time.Millisecond, "every watcher back after the restart", func() (bool, string) {
			for j, l := range []*watchLedger{raw, lib, cli} {
				if l.progress() == before[j] {
					return false, l.name + " has seen nothing since the restart"
				}
			}
			return true, ""
		})
	}
	stopWriters()
	wg.Wait()

	// Writes the writers gave up on may still be committed after they
	// stopped: compare with a fresh list of the server each time.
	serverState := func() map[string]int64 {
		want, _, err := faultListConfigMaps(context.Background(), hc, api.url, ns)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int64{}
		for k, o := range want {
			m[k] = o.rv()
		}
		return m
	}
	for _, rec := range []*watchLedger{raw, lib, cli} {
		deadline := time.Now().Add(90 * time.Second)
		for {
			if getW.Exited() {
				t.Fatalf("kl get -w exited:\n%s", getW.Stderr())
			}
			wantRV := serverState()
			d := rec.diff(wantRV)
			if d == "" {
				break
			}
			if time.Now().After(deadline) {
				mu.Lock()
				explainWatchDiff(t, hc, api.url, ns, rec, wantRV, acked, []*watchLedger{raw, lib, cli})
				mu.Unlock()
				t.Fatalf("%s: state not the server's within 90s: %s", rec.name, d)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	select {
	case err := <-libErr:
		t.Fatalf("RetryWatch watcher stopped: %v", err)
	default:
	}
	mu.Lock()
	defer mu.Unlock()
	// Every write that was acknowledged, or that any watcher saw as an
	// event (it was committed, acknowledged or not), must reach every
	// watcher.
	committed := map[ackedWrite]bool{}
	for _, w := range acked {
		committed[w] = true
	}
	for _, l := range []*watchLedger{raw, lib, cli} {
		l.mu.Lock()
		for e := range l.events {
			committed[e] = true
		}
		l.mu.Unlock()
	}
	all := make([]ackedWrite, 0, len(committed))
	for w := range committed {
		all = append(all, w)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].rv < all[j].rv })
	for _, rec := range []*watchLedger{raw, lib} {
		missed, dups := rec.missedAndDuplicates(all)
		rec.mu.Lock()
		relists := len(rec.lists) - 1
		rec.mu.Unlock()
		t.Logf("%s: %d acknowledged writes (%d committed) across %d restarts: %d missed, %d duplicate events, %d re-lists after 410",
			rec.name, len(acked), len(all), restarts, len(missed), dups, relists)
		if len(missed) > 0 || dups > 0 {
			t.Errorf("%s missed %d committed writes (first: %v) and got %d duplicate events", rec.name, len(missed), missed[:min(len(missed), 5)], dups)
		}
	}
	// A resourceVersion names one write: no two objects may have been seen
	// with the same one.
	byRV := map[int64]string{}
	for _, l := range []*watchLedger{raw, lib, cli} {
		l.mu.Lock()
		for e := range l.events {
			if n, ok := byRV[e.rv]; ok && n != e.name {
				t.Errorf("resourceVersion %d seen for %s and for %s", e.rv, n, e.name)
			}
			byRV[e.rv] = e.name
		}
		l.mu.Unlock()
	}
	notShown := cli.notShown(all)
	_, reprinted := cli.missedAndDuplicates(nil)
	t.Logf("kl get -w: %d committed writes, %d rows printed: %d not shown, %d rows printed again by re-lists after 410; load average %s",
		len(all), cliLines.Load(), len(notShown), reprinted, faultLoadAverage())
	if len(notShown) > 0 {
		t.Errorf("kl get -w did not show %d committed writes (first: %v)", len(notShown), notShown[:min(len(notShown), 5)])
	}
}

// explainWatchDiff logs, for the objects on which rec differs from the
// server, what the store holds, what was acknowledged and what each
// watcher saw.
func explainWatchDiff(t *testing.T, hc *http.Client, url, ns string, rec *watchLedger, want map[string]int64, acked []ackedWrite, all []*watchLedger) {
	t.Helper()
	rec.mu.Lock()
	var names []string
	for k, v := range want {
		if rec.state[k] != v {
			names = append(names, k)
		}
	}
	rec.mu.Unlock()
	sort.Strings(names)
	for _, name := range names[:min(len(names), 3)] {
		var cur cmObject
		code, err := faultDo(context.Background(), hc, "GET", url+"/api/v1/namespaces/"+ns+"/configmaps/"+name, nil, &cur)
		var acks []int64
		for _, w := range acked {
			if w.name == name {
				acks = append(acks, w.rv)
			}
		}
		t.Logf("%s: GET: HTTP %d %v rv %s seq %d; list: rv %d; acknowledged rvs %v", name, code, err, cur.Metadata.ResourceVersion, cur.seq(), want[name], acks)
		for _, l := range all {
			l.mu.Lock()
			var evs []int64
			for e, n := range l.events {
				if e.name == name {
					for range n {
						evs = append(evs, e.rv)
					}
				}
			}
			sort.Slice(evs, func(i, j int) bool { return evs[i] < evs[j] })
			var lists []string
			for _, s := range l.lists {
				lists = append(lists, fmt.Sprintf("list@%d:%d", s.rv, s.items[name]))
			}
			t.Logf("  %s saw events %v, lists %v", l.name, evs, lists)
			l.mu.Unlock()
		}
	}
}

// TestComponentsSurviveAPIServerOutage runs kl apiserver (badger),
// controller-manager, scheduler and a kubelet (fake runtime) as separate
// processes, applies a Deployment, stops the apiserver for 30 s and starts
// it again on the same address and data directory, then scales the
// Deployment: the pods converge and no component exited.
func TestComponentsSurviveAPIServerOutage(t *testing.T) {
	api := startRestartableAPIServer(t)
	procs := []*framework.Process{
		framework.Start(t, klBinary, "controller-manager", "controller-manager", "--server", api.url, "--metrics-addr", "0",
			"--lease-duration", "4s", "--renew-deadline", "3s", "--retry-period", "500ms"),
		framework.Start(t, klBinary, "scheduler", "scheduler", "--server", api.url, "--metrics-addr", "0",
			"--lease-duration", "4s", "--renew-deadline", "3s", "--retry-period", "500ms"),
		framework.Start(t, klBinary, "kubelet", "kubelet", "--server", api.url, "--node-name", "outage-node", "--runtime", "fake",
			"--data-dir", t.TempDir(), "--kubelet-port", "0", "--metrics-addr", "0", "--capacity", "cpu=8,memory=16Gi,pods=110"),
	}
	cli := framework.NewCLI(t, klBinary, api.url)
	dir := t.TempDir()
	manifest := filepath.Join(dir, "web.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: kl.test/echo:1
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cli.Must("apply", "-f", manifest)
	hc := faultClient()
	waitRunning := func(n int, timeout time.Duration) {
		t.Helper()
		framework.Eventually(t, timeout, 200*time.Millisecond, fmt.Sprintf("%d web pods Running", n), func() (bool, string) {
			for _, p := range procs {
				if p.Exited() {
					t.Fatalf("%s exited:\n%s", p.Name, p.Output())
				}
			}
			var list struct {
				Items []struct {
					Metadata struct {
						DeletionTimestamp *string `json:"deletionTimestamp"`
					} `json:"metadata"`
					Spec   struct{ NodeName string } `json:"spec"`
					Status struct{ Phase string }    `json:"status"`
				} `json:"items"`
			}
			code, err := faultDo(context.Background(), hc, "GET", api.url+"/api/v1/namespaces/default/pods?labelSelector=app%3Dweb", nil, &list)
			if err != nil || code != http.StatusOK {
				return false, fmt.Sprintf("list pods: HTTP %d, %v", code, err)
			}
			running, total := 0, 0
			for _, p := range list.Items {
				if p.Metadata.DeletionTimestamp != nil {
					continue
				}
				total++
				if p.Status.Phase == "Running" && p.Spec.NodeName != "" {
					running++
				}
			}
			return running == n && total == n, fmt.Sprintf("%d of %d pods Running", running, total)
		})
	}
	waitRunning(2, 2*time.Minute)

	const outage = 30 * time.Second
	api.kill()
	start := time.Now()
	for time.Since(start) < outage {
		for _, p := range procs {
			if p.Exited() {
				t.Fatalf("%s exited during the apiserver outage:\n%s", p.Name, p.Output())
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	api.start()
	t.Logf("apiserver down for %s, started again", time.Since(start).Round(time.Second))
	cli.Must("scale", "deployment/web", "--replicas", "4")
	waitRunning(4, 3*time.Minute)
	cli.Must("scale", "deployment/web", "--replicas", "1")
	waitRunning(1, 3*time.Minute)
	for _, p := range procs {
		if p.Exited() {
			t.Fatalf("%s exited:\n%s", p.Name, p.Output())
		}
	}
}

// TestThousandConcurrentWatches holds 1,000 watches on one real apiserver
// process, then creates one object: every watch gets its ADDED event, none
// fails.
func TestThousandConcurrentWatches(t *testing.T) {
	const watches = 1000
	const ns = "many-watches"
	api := startRestartableAPIServer(t)
	hc := faultClient()
	faultCreateNamespace(t, hc, api.url, ns)
	_, rv, err := faultListConfigMaps(context.Background(), hc, api.url, ns)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: watches}
	defer tr.CloseIdleConnections()
	wc := &http.Client{Transport: tr}
	var established, received atomic.Int64
	errs := make(chan error, watches)
	var wg sync.WaitGroup
	for i := 0; i < watches; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", api.url+"/api/v1/namespaces/"+ns+"/configmaps?watch=true&resourceVersion="+rv, nil)
			resp, err := wc.Do(req)
			if err != nil {
				errs <- fmt.Errorf("open watch: %w", err)
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("open watch: HTTP %d", resp.StatusCode)
				return
			}
			established.Add(1)
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64*1024), 1<<20)
			for sc.Scan() {
				var ev struct {
					Type   string `json:"type"`
					Object cmObject
				}
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
					errs <- fmt.Errorf("watch line: %w", err)
					return
				}
				switch ev.Type {
				case "BOOKMARK":
					continue
				case "ADDED":
					if ev.Object.Metadata.Name == "ping" {
						received.Add(1)
						return
					}
				}
				errs <- fmt.Errorf("unexpected event %s", sc.Bytes())
				return
			}
			if ctx.Err() == nil {
				errs <- fmt.Errorf("watch ended before the event: %v", sc.Err())
			}
		}()
	}
	framework.Eventually(t, 3*time.Minute, 100*time.Millisecond, "1,000 watches open", func() (bool, string) {
		select {
		case err := <-errs:
			t.Fatalf("a watch failed: %v", err)
		default:
		}
		return established.Load() == watches, fmt.Sprintf("%d open", established.Load())
	})
	code, err := faultDo(ctx, hc, "POST", api.url+"/api/v1/namespaces/"+ns+"/configmaps", faultConfigMap("ping", "", 1), nil)
	if err != nil || code != http.StatusCreated {
		t.Fatalf("create: HTTP %d, %v", code, err)
	}
	framework.Eventually(t, 2*time.Minute, 100*time.Millisecond, "every watch got the event", func() (bool, string) {
		select {
		case err := <-errs:
			t.Fatalf("a watch failed: %v", err)
		default:
		}
		return received.Load() == watches, fmt.Sprintf("%d of %d got it", received.Load(), watches)
	})
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a watch failed: %v", err)
	}
	if api.proc.Exited() {
		t.Fatalf("the apiserver exited:\n%s", api.proc.Output())
	}
	usage, _ := api.proc.Usage()
	t.Logf("%d watches held and served one event each; apiserver RSS %d MiB, CPU %s; load average %s",
		watches, usage.RSSBytes>>20, usage.CPU, faultLoadAverage())
}

// TestServerRefusesClientsWithoutAValidCertificate starts `kl server`
// without --insecure (it makes its PKI on first start) and checks who it
// lets in: the admin certificate works; an expired certificate, one signed
// by another CA, and no certificate at all are refused.
func TestServerRefusesClientsWithoutAValidCertificate(t *testing.T) {
	dataDir := t.TempDir()
	proc := framework.Start(t, klBinary, "server", "server", "--listen", "127.0.0.1:0", "--data-dir", dataDir,
		"--runtime", "fake", "--no-agent")
	url, err := proc.ServingURL(90 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("kl server without --insecure serves %s, want https", url)
	}
	pkiDir := filepath.Join(dataDir, "pki")
	caPEM, err := os.ReadFile(filepath.Join(pkiDir, certs.FileCA+".crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	ca, err := certs.LoadCA(pkiDir)
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := certs.NewCA("other-ca", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	admin, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, certs.FileAdmin+".crt"), filepath.Join(pkiDir, certs.FileAdmin+".key"))
	if err != nil {
		t.Fatal(err)
	}
	issue := func(ca *certs.CA, validity time.Duration, now time.Time) tls.Certificate {
		cert, key, err := ca.Issue(certs.Request{CommonName: "mallory", Groups: []string{certs.GroupMasters}, Client: true, Validity: validity}, now)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
	}
	expired := issue(ca, time.Hour, time.Now().Add(-2*time.Hour))
	foreign := issue(otherCA, time.Hour, time.Now())

	get := func(cert *tls.Certificate) (int, error) {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}
		if cert != nil {
			// Present the certificate whatever CAs the server names (Go's
			// client would otherwise leave out one of another CA).
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
		defer c.CloseIdleConnections()
		var st meta.Status
		resp, err := c.Get(url + "/api/v1/namespaces/kube-system/secrets")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 400 {
			if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.Kind != "Status" {
				return resp.StatusCode, fmt.Errorf("HTTP %d without a Status body", resp.StatusCode)
			}
		}
		return resp.StatusCode, nil
	}
	framework.Eventually(t, 60*time.Second, 200*time.Millisecond, "the admin is let in", func() (bool, string) {
		code, err := get(&admin)
		return err == nil && code == http.StatusOK, fmt.Sprintf("HTTP %d, %v", code, err)
	})
	for _, tt := range []struct {
		name string
		cert *tls.Certificate
	}{
		{"expired certificate", &expired},
		{"certificate from another CA", &foreign},
		{"no certificate", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, err := get(tt.cert)
			switch {
			case err != nil && strings.Contains(err.Error(), "Status body"):
				t.Fatal(err)
			case err != nil:
				t.Logf("refused in the TLS handshake: %v", err)
			case code == http.StatusUnauthorized:
				t.Logf("refused with HTTP 401")
			default:
				t.Fatalf("HTTP %d: let in", code)
			}
		})
	}
}
