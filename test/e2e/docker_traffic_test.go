package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// trafficLoad is a client loop sending GETs to one URL from several
// workers until stopped, as users of a Service would: half the workers
// open a fresh connection per request, half keep connections alive. It
// records every answer's echo version and every failure.
type trafficLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	answers  []trafficAnswer
	failures []trafficFailure
}

// trafficAnswer is one successful request: when it was sent and the
// version of the echo server that answered.
type trafficAnswer struct {
	sent    time.Time
	version string
}

// trafficFailure is one failed request.
type trafficFailure struct {
	sent      time.Time
	keepAlive bool
	err       string
}

// trafficPace is the pause of each worker between two requests: the loop
// is continuous (hundreds of requests a second) without starving a
// 2-core machine of the CPU the rollout itself needs.
const trafficPace = 5 * time.Millisecond

// startTraffic starts workers sending GET url (workers/2 on fresh
// connections, the others on kept-alive ones) until stop is called.
func startTraffic(url string, workers int) *trafficLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &trafficLoad{cancel: cancel}
	for i := range workers {
		keepAlive := i%2 == 1
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			tr := &http.Transport{DisableKeepAlives: !keepAlive, Proxy: nil, MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: dockerHTTPTimeout}
			for ctx.Err() == nil {
				sent := time.Now()
				version, err := trafficGet(ctx, c, url)
				if ctx.Err() != nil {
					return // stopped mid-request: not the server's failure
				}
				l.mu.Lock()
				if err != nil {
					l.failures = append(l.failures, trafficFailure{sent: sent, keepAlive: keepAlive, err: err.Error()})
				} else {
					l.answers = append(l.answers, trafficAnswer{sent: sent, version: version})
				}
				l.mu.Unlock()
				select {
				case <-ctx.Done():
				case <-time.After(trafficPace):
				}
			}
		}()
	}
	return l
}

// trafficGet sends one GET and returns the version in a 200 answer.
func trafficGet(ctx context.Context, c *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	v, ok := strings.CutPrefix(strings.Fields(string(body) + " ")[0], "version=")
	if !ok {
		return "", fmt.Errorf("unexpected answer %q", body)
	}
	return v, nil
}

// stop ends the workers and waits for them.
func (l *trafficLoad) stop() {
	l.cancel()
	l.wg.Wait()
}

// count returns how many requests were answered so far.
func (l *trafficLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.answers)
}

// summary says how many requests each version answered and how many
// failed, with the first failures, e.g. "1520 answered (version 1: 800,
// version 2: 720), 0 failed".
func (l *trafficLoad) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	byVersion := map[string]int{}
	for _, a := range l.answers {
		byVersion[a.version]++
	}
	versions := make([]string, 0, len(byVersion))
	for v := range byVersion {
		versions = append(versions, v)
	}
	sort.Strings(versions)
	parts := make([]string, len(versions))
	for i, v := range versions {
		parts[i] = fmt.Sprintf("version %s: %d", v, byVersion[v])
	}
	s := fmt.Sprintf("%d answered (%s), %d failed", len(l.answers), strings.Join(parts, ", "), len(l.failures))
	for i, f := range l.failures {
		if i == 10 {
			s += fmt.Sprintf("\n  ... %d more", len(l.failures)-i)
			break
		}
		s += fmt.Sprintf("\n  %s keep-alive=%t: %s", f.sent.Format("15:04:05.000"), f.keepAlive, f.err)
	}
	return s
}
