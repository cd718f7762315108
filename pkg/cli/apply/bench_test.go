//go:build unix

package apply

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/validation"
)

// benchNamespaces hold the benchmark's objects (created beforehand, so the
// directory holds exactly 1,000 objects).
var benchNamespaces = []string{"bench-a", "bench-b", "bench-c", "bench-d", "bench-e"}

// writeBenchDir writes 500 ConfigMaps, 250 Services and 250 Deployments,
// one file per ConfigMap and one per Service+Deployment pair.
func writeBenchDir(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	for i := range 500 {
		ns := benchNamespaces[i%len(benchNamespaces)]
		doc := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-%d\n  namespace: %s\n  labels: {app: app-%d}\ndata:\n  LOG_LEVEL: info\n  GREETING: hello %d\n", i, ns, i%250, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("cfg-%03d.yaml", i)), []byte(doc), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 250 {
		ns := benchNamespaces[i%len(benchNamespaces)]
		doc := fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: app-%[1]d
  namespace: %[2]s
spec:
  selector: {app: app-%[1]d}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%[1]d
  namespace: %[2]s
  labels: {app: app-%[1]d}
spec:
  replicas: 2
  selector:
    matchLabels: {app: app-%[1]d}
  template:
    metadata:
      labels: {app: app-%[1]d}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        ports:
        - containerPort: 8080
        envFrom:
        - configMapRef: {name: cfg-%[1]d}
        resources:
          requests: {cpu: 50m, memory: 64Mi}
`, i, ns)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("app-%03d.yaml", i)), []byte(doc), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// benchServer starts an apiserver on badger (in a temp dir) with the
// benchmark's namespaces; stop stops it and removes its data.
func benchServer(b *testing.B) (url string, stop func()) {
	b.Helper()
	dataDir, err := os.MkdirTemp("", "kl-bench-apply-")
	if err != nil {
		b.Fatal(err)
	}
	srv, err := apiserver.New(apiserver.Config{ListenAddress: "127.0.0.1:0", Insecure: true, Storage: "badger", DataDir: dataDir,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	stop = func() {
		cancel()
		<-done
		_ = os.RemoveAll(dataDir)
	}
	select {
	case <-srv.Ready():
	case err := <-done:
		b.Fatal(err)
	}
	c, err := client.New(client.Config{Servers: []string{srv.URL()}})
	if err != nil {
		b.Fatal(err)
	}
	for _, ns := range benchNamespaces {
		body := fmt.Sprintf(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":%q}}`, ns)
		if _, err := c.Do(ctx, "POST", "/api/v1/namespaces", nil, "application/json", []byte(body)); err != nil {
			b.Fatal(err)
		}
	}
	return srv.URL(), stop
}

// benchApply runs `kl apply -R -f dir` against url, the whole command:
// reading, validating, discovery, the record, the applies.
func benchApply(b *testing.B, url, dir string, v *validation.Validator, want string) {
	b.Helper()
	ios, _, out, errOut := iostreams.Test()
	opts := &Options{
		IO:           ios,
		Client:       func() (*client.Client, error) { return client.New(client.Config{Servers: []string{url}}) },
		Namespace:    func() (string, bool, error) { return "default", false, nil },
		Validator:    func() (*validation.Validator, error) { return v, nil },
		Filenames:    []string{dir},
		Recursive:    true,
		DryRun:       "none",
		FieldManager: "kl",
		Timeout:      time.Minute,
	}
	if err := runApply(context.Background(), opts); err != nil {
		b.Fatalf("apply: %v\n%s", err, errOut)
	}
	if n := strings.Count(out.String(), " "+want+"\n"); n != 1000 {
		b.Fatalf("%d objects %s, want 1000:\n%s", n, want, out)
	}
}

// processCPUTime returns the CPU time (user + system) the process has used.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkApply1000 applies a directory of 1,000 objects (500 ConfigMaps,
// 250 Services, 250 Deployments in 5 namespaces) to an in-process
// apiserver on badger: the first apply (1,000 creates) and a re-apply
// where nothing changed. Goals: under 3 s and under 1 s. cpu-ms/op is the
// CPU time of the process (kl and the apiserver together) per apply,
// which a busy machine inflates less than ns/op.
//
//	go test ./pkg/cli/apply -run '^$' -bench Apply1000 -benchtime 5x
func BenchmarkApply1000(b *testing.B) {
	dir := writeBenchDir(b)
	v, err := validation.NewValidator() // compiled once, as one kl run does
	if err != nil {
		b.Fatal(err)
	}
	b.Run("first", func(b *testing.B) {
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			url, stop := benchServer(b)
			b.StartTimer()
			start := processCPUTime()
			benchApply(b, url, dir, v, "created")
			cpu += processCPUTime() - start
			b.StopTimer()
			stop()
			b.StartTimer()
		}
		b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	})
	b.Run("unchanged", func(b *testing.B) {
		url, stop := benchServer(b)
		defer stop()
		benchApply(b, url, dir, v, "created")
		start := processCPUTime()
		for b.Loop() {
			benchApply(b, url, dir, v, "unchanged")
		}
		b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
		b.ReportMetric(float64((processCPUTime()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
	})
}
