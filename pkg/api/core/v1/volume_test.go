package v1

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/kl-dev/kl/pkg/api/core/v1/apitest"
)

func TestVolumeRecordsUnsupportedSources(t *testing.T) {
	tests := []struct {
		json string
		want []string
	}{
		{`{"name":"a","emptyDir":{}}`, nil},
		{`{"name":"a","configMap":{"name":"c"}}`, nil},
		{`{"name":"a","secret":{"secretName":"s"}}`, nil},
		{`{"name":"a","hostPath":{"path":"/x"}}`, nil},
		{`{"name":"a"}`, nil},
		{`{"name":"data","persistentVolumeClaim":{"claimName":"data"}}`, []string{"persistentVolumeClaim"}},
		{`{"name":"a","nfs":{"server":"s","path":"/"}}`, []string{"nfs"}},
		{`{"name":"a","projected":{"sources":[]}}`, []string{"projected"}},
		{`{"name":"a","downwardAPI":{"items":[]}}`, []string{"downwardAPI"}},
		{`{"name":"a","csi":{"driver":"d"}}`, []string{"csi"}},
		{`{"name":"a","emptyDir":{},"csi":{"driver":"d"},"nfs":{}}`, []string{"csi", "nfs"}},
		{`{"name":"a","emptyDri":{}}`, []string{"emptyDri"}},
		// An explicit null is no source at all.
		{`{"name":"a","emptyDir":{},"nfs":null}`, nil},
	}
	for _, tt := range tests {
		var v Volume
		if err := json.Unmarshal([]byte(tt.json), &v); err != nil {
			t.Fatalf("%s: %v", tt.json, err)
		}
		if got := v.UnsupportedSources(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: UnsupportedSources() = %v, want %v", tt.json, got, tt.want)
		}
	}
}

func TestUnsupportedSourcesDoNotReEncode(t *testing.T) {
	var pod Pod
	in := `{"spec":{"containers":[],"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data"}},{"name":"tmp","emptyDir":{}}]}}`
	if err := json.Unmarshal([]byte(in), &pod); err != nil {
		t.Fatal(err)
	}
	if got := pod.Spec.Volumes[0].UnsupportedSources(); !slices.Equal(got, []string{"persistentVolumeClaim"}) {
		t.Fatalf("UnsupportedSources() = %v", got)
	}
	out, err := json.Marshal(pod.Spec.Volumes)
	if err != nil {
		t.Fatal(err)
	}
	apitest.AssertSameJSON(t, []byte(`[{"name":"data"},{"name":"tmp","emptyDir":{}}]`), out)
}

func TestUnsupportedSourcesSurviveDeepCopyAndDefaulting(t *testing.T) {
	var pod Pod
	in := `{"spec":{"containers":[{"name":"c","image":"x"}],"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data"}}]}}`
	if err := json.Unmarshal([]byte(in), &pod); err != nil {
		t.Fatal(err)
	}
	cp := pod.DeepCopy()
	if got := cp.Spec.Volumes[0].UnsupportedSources(); !slices.Equal(got, []string{"persistentVolumeClaim"}) {
		t.Errorf("after DeepCopy: %v", got)
	}
	SetDefaultsPod(cp)
	if cp.Spec.Volumes[0].EmptyDir != nil {
		t.Error("defaulting turned a volume with an unsupported source into an emptyDir")
	}
	// A volume with no source at all does become an emptyDir, as in Kubernetes.
	p := Pod{Spec: PodSpec{Volumes: []Volume{{Name: "scratch"}}}}
	SetDefaultsPod(&p)
	if p.Spec.Volumes[0].EmptyDir == nil {
		t.Error("sourceless volume was not defaulted to emptyDir")
	}
}

func TestDecodingReplacesEarlierUnsupportedSources(t *testing.T) {
	var v Volume
	v.SetUnsupportedSources("nfs")
	if err := json.Unmarshal([]byte(`{"name":"a","emptyDir":{}}`), &v); err != nil {
		t.Fatal(err)
	}
	if got := v.UnsupportedSources(); got != nil {
		t.Errorf("stale unsupported sources %v", got)
	}
	if err := json.Unmarshal([]byte(`[1]`), &v); err == nil {
		t.Error("decoding a non-object succeeded")
	}
}
