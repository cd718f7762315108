//go:build unix

package validate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/manifest"
)

// deploymentTemplate is a typical 40-line Deployment.
const deploymentTemplate = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-%[1]d
  namespace: shop
  labels:
    app: web-%[1]d
    tier: frontend
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web-%[1]d
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app: web-%[1]d
        tier: frontend
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
          name: http
        env:
        - name: LOG_LEVEL
          value: info
        resources:
          requests: {cpu: 100m, memory: 64Mi}
          limits: {cpu: 500m, memory: 256Mi}
        readinessProbe:
          httpGet: {path: /healthz, port: http}
          periodSeconds: 5
`

// serviceTemplate is a typical Service.
const serviceTemplate = `apiVersion: v1
kind: Service
metadata:
  name: web-%[1]d
  namespace: shop
  labels:
    app: web-%[1]d
spec:
  type: ClusterIP
  selector:
    app: web-%[1]d
  ports:
  - name: http
    port: 80
    targetPort: http
    protocol: TCP
`

// writeManifests writes n manifests (Deployments and Services alternating,
// one per file) into dir, in ten subdirectories.
func writeManifests(tb testing.TB, dir string, n int) {
	tb.Helper()
	for i := range n {
		sub := filepath.Join(dir, fmt.Sprintf("team-%d", i%10))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			tb.Fatal(err)
		}
		tmpl, kind := deploymentTemplate, "deploy"
		if i%2 == 1 {
			tmpl, kind = serviceTemplate, "svc"
		}
		name := filepath.Join(sub, fmt.Sprintf("%s-%05d.yaml", kind, i))
		if err := os.WriteFile(name, fmt.Appendf(nil, tmpl, i), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkValidate10k runs kl validate's core (read with positions, schema
// and semantic validation) over 10,000 typical manifests, one per file, in
// a directory read with -R. Goal: >= 10,000 manifests/s.
//
//	go test -run '^$' -bench Validate10k -benchtime 5x ./pkg/cli/validate/
func BenchmarkValidate10k(b *testing.B) {
	const n = 10_000
	dir := b.TempDir()
	writeManifests(b, dir, n)
	v := validator(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for range b.N {
		rep, err := Validate(context.Background(), v, []string{dir}, manifest.Options{Recursive: true})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Valid != n || rep.Invalid != 0 {
			b.Fatalf("got %d valid, %d invalid: %v", rep.Valid, rep.Invalid, rep.Problems[0])
		}
	}
	reportRates(b, n, cpuTime(b)-cpu0)
}

// BenchmarkRead10k measures reading alone (pkg/manifest), the same input.
func BenchmarkRead10k(b *testing.B) {
	const n = 10_000
	dir := b.TempDir()
	writeManifests(b, dir, n)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for range b.N {
		objs, err := manifest.Read([]string{dir}, manifest.Options{Recursive: true})
		if err != nil || len(objs) != n {
			b.Fatalf("read %d objects: %v", len(objs), err)
		}
	}
	reportRates(b, n, cpuTime(b)-cpu0)
}

// reportRates reports manifests/s (wall clock, the goal) and
// manifests/cpu-s (CPU time of the whole process: user + system, all
// threads, GC included), which stays meaningful on a busy machine.
func reportRates(b *testing.B, n int, cpu time.Duration) {
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "manifests/s")
	if cpu > 0 {
		b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "manifests/cpu-s")
	}
}

// cpuTime returns the CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
