package validation

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

// BenchmarkValidate10000Manifests validates 10,000 decoded manifests (a mix
// of Deployments, Services, Pods and ConfigMaps) through both layers, the
// way `kl validate -R -f dir/` does. Goal: >= 10,000 manifests/s.
//
//	go test -run '^$' -bench Validate10000 -benchtime 5x ./pkg/validation/
func BenchmarkValidate10000Manifests(b *testing.B) {
	v := validator(b)
	docs := benchManifests(b, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUTime()
	for range b.N {
		for _, d := range docs {
			if _, errs := v.Validate(d); errs != nil {
				b.Fatal(errs)
			}
		}
	}
	reportRates(b, len(docs), cpu0)
}

// BenchmarkValidateAll10000Manifests is the same work through ValidateAll,
// which uses every core.
func BenchmarkValidateAll10000Manifests(b *testing.B) {
	v := validator(b)
	docs := benchManifests(b, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPUTime()
	for range b.N {
		for _, r := range v.ValidateAll(docs, 0) {
			if r.Errors != nil {
				b.Fatal(r.Errors)
			}
		}
	}
	reportRates(b, len(docs), cpu0)
}

func reportRates(b *testing.B, n int, cpu0 time.Duration) {
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "manifests/s")
	// CPU time (all threads, GC included) depends less on what else the
	// machine is running than the wall-clock rate above.
	if cpu := processCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "manifests/cpu-s")
	}
}

// benchManifests returns n decoded manifests cycling through
// realisticManifests, with distinct names.
func benchManifests(b *testing.B, n int) []map[string]any {
	names := make([]string, 0, len(realisticManifests))
	for name := range realisticManifests {
		names = append(names, name)
	}
	sort.Strings(names)
	docs := make([]map[string]any, n)
	for i := range docs {
		m := manifest(b, realisticManifests[names[i%len(names)]])
		md := m["metadata"].(map[string]any)
		if _, ok := md["name"]; ok {
			md["name"] = fmt.Sprintf("app-%d", i)
		}
		docs[i] = m
	}
	return docs
}

// BenchmarkValidateSchemaDeployment measures the schema layer alone on a
// valid Deployment (the allocation-free fast path).
func BenchmarkValidateSchemaDeployment(b *testing.B) {
	v := validator(b)
	d := manifest(b, realisticManifests["deployment"])
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if errs := v.ValidateSchema(d); errs != nil {
			b.Fatal(errs)
		}
	}
}
