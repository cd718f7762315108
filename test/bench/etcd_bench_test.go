package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/storage/etcd/etcdtest"
)

// startEtcdAPIServer runs an in-process apiserver on the etcd cluster at
// endpoints.
func startEtcdAPIServer(b *testing.B, endpoints []string) string {
	b.Helper()
	return apiservertest.Start(b, func(c *apiserver.Config) {
		c.Storage, c.EtcdServers = "etcd", endpoints
	})
}

// cpuClock reads the CPU time (user + system) used so far by this process
// and by the given other processes (etcd members), so a benchmark can
// report the CPU one operation costs the whole system, not just the
// wall-clock time on a machine shared with other work.
type cpuClock struct{ pids []int }

func (c cpuClock) now(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	total := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	for _, pid := range c.pids {
		total += procCPU(b, pid)
	}
	return total
}

// procCPU returns utime+stime of a process from /proc/PID/stat (in clock
// ticks of 10ms, the Linux default USER_HZ).
func procCPU(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses and may
	// hold spaces: state is field 3, utime 14 and stime 15.
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	f := strings.Fields(rest)
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// runCreates creates b.N pods from clients concurrent clients spread over
// urls and reports creates/s, p50 and p99 latency, and the CPU time per
// create of this process plus cpu's other processes.
func runCreates(b *testing.B, urls []string, clients int, cpu cpuClock) {
	c := httpClient()
	cpu0 := cpu.now(b)
	lat, elapsed := load(b, clients, func(w int, i int64) error {
		return createPod(c, urls[w%len(urls)], fmt.Sprintf("pod-%d", i))
	})
	cpuUsed := cpu.now(b) - cpu0
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "creates/s")
	reportLatency(b, lat)
	b.ReportMetric(float64(cpuUsed.Microseconds())/float64(b.N), "cpu-us/create")
}

// BenchmarkPodCreates64Clients compares pod creates from 64 concurrent
// clients on badger (one apiserver, SyncWrites) with etcd (a real
// three-member cluster on this machine, fsync on, as in production), on
// one apiserver and on two sharing the cluster. cpu-us/create counts the
// benchmark process (clients and apiservers) plus the etcd members.
func BenchmarkPodCreates64Clients(b *testing.B) {
	const clients = 64
	b.Run("storage=badger", func(b *testing.B) {
		runCreates(b, []string{startAPIServer(b, "badger")}, clients, cpuClock{})
	})
	for _, apiservers := range []int{1, 2} {
		b.Run(fmt.Sprintf("storage=etcd/apiservers=%d", apiservers), func(b *testing.B) {
			c := etcdtest.StartWith(b, etcdtest.Options{Size: 3, Fsync: true})
			var urls []string
			for range apiservers {
				urls = append(urls, startEtcdAPIServer(b, c.Endpoints()))
			}
			var pids []int
			for _, m := range c.Members {
				pids = append(pids, m.Pid())
			}
			runCreates(b, urls, clients, cpuClock{pids: pids})
		})
	}
}

// BenchmarkWatchLatencyAcrossAPIServers measures, on etcd, the time from
// sending a create to one apiserver to its event on a watch served by
// another (the path: apiserver A -> etcd -> apiserver B's watch cache ->
// the watcher), next to the same watch served by A itself, and the
// create's own latency for comparison. Creates are sequential.
func BenchmarkWatchLatencyAcrossAPIServers(b *testing.B) {
	for _, across := range []bool{false, true} {
		b.Run(fmt.Sprintf("across=%v", across), func(b *testing.B) {
			c := etcdtest.StartWith(b, etcdtest.Options{Size: 3, Fsync: true})
			writeURL := startEtcdAPIServer(b, c.Endpoints())
			watchURL := writeURL
			if across {
				watchURL = startEtcdAPIServer(b, c.Endpoints())
			}
			hc := httpClient()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			resp, err := hc.Get(writeURL + "/api/v1/namespaces/default/pods")
			if err != nil {
				b.Fatal(err)
			}
			var list struct {
				Metadata struct{ ResourceVersion string } `json:"metadata"`
			}
			err = json.NewDecoder(resp.Body).Decode(&list)
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", watchURL+"/api/v1/namespaces/default/pods?watch=true&resourceVersion="+list.Metadata.ResourceVersion, nil)
			wresp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			defer wresp.Body.Close()
			seen := make(chan time.Time, 1024)
			go func() {
				sc := bufio.NewScanner(wresp.Body)
				sc.Buffer(make([]byte, 1<<20), 1<<20)
				for sc.Scan() {
					seen <- time.Now()
				}
			}()
			// From sending the create: to its response (ack) and to its
			// event (event). The event often comes before the response
			// is read, so both are measured from the send.
			ack := make([]time.Duration, 0, b.N)
			event := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				sent := time.Now()
				if err := createPod(hc, writeURL, fmt.Sprintf("pod-%d", i)); err != nil {
					b.Fatal(err)
				}
				ack = append(ack, time.Since(sent))
				select {
				case at := <-seen:
					event = append(event, at.Sub(sent))
				case <-time.After(30 * time.Second):
					b.Fatalf("event %d not seen within 30s", i)
				}
			}
			b.StopTimer()
			for _, d := range [][]time.Duration{ack, event} {
				sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
			}
			b.ReportMetric(float64(percentile(ack, 0.50).Microseconds())/1000, "ack-p50-ms")
			b.ReportMetric(float64(percentile(event, 0.50).Microseconds())/1000, "event-p50-ms")
			b.ReportMetric(float64(percentile(event, 0.99).Microseconds())/1000, "event-p99-ms")
		})
	}
}
