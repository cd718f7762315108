package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kl-dev/kl/pkg/api/meta"
)

type benchPod struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            struct {
		NodeName   string `json:"nodeName,omitempty"`
		Containers []struct {
			Name  string `json:"name"`
			Image string `json:"image"`
		} `json:"containers"`
	} `json:"spec"`
}

func benchObject(i int) string {
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-%d","namespace":"default","uid":"u-%d","resourceVersion":"%d","labels":{"app":"web","pod-template-hash":"abc123"}},"spec":{"nodeName":"node-%d","containers":[{"name":"web","image":"registry.local/web:1.2.3"}]}}`, i, i, i, i%100)
}

// BenchmarkWatchDecode measures decoding a watch stream of 10,000 events,
// the informer's hot path.
func BenchmarkWatchDecode(b *testing.B) {
	var stream bytes.Buffer
	for i := range 10000 {
		fmt.Fprintf(&stream, `{"type":"MODIFIED","object":%s}`+"\n", benchObject(i))
	}
	data := stream.Bytes()
	log := slog.New(slog.DiscardHandler)
	decode := func(raw []byte) (*benchPod, error) {
		p := new(benchPod)
		return p, json.Unmarshal(raw, p)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for range decodeWatch(context.Background(), io.NopCloser(bytes.NewReader(data)), decode, log) {
			n++
		}
		if n != 10000 {
			b.Fatalf("decoded %d events", n)
		}
	}
}

// BenchmarkList measures a list of 10,000 objects over HTTP, decoded into
// typed objects.
func BenchmarkList(b *testing.B) {
	var body bytes.Buffer
	body.WriteString(`{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"10000"},"items":[`)
	for i := range 10000 {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(benchObject(i))
	}
	body.WriteString("]}")
	data := body.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(data) }))
	b.Cleanup(srv.Close)
	c, err := New(Config{Servers: []string{srv.URL}})
	if err != nil {
		b.Fatal(err)
	}
	pods := NewResource[benchPod](c, meta.GroupVersionResource{Version: "v1", Resource: "pods"}, true)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		items, _, err := pods.List(context.Background(), ListOptions{})
		if err != nil || len(items) != 10000 {
			b.Fatalf("%d items, %v", len(items), err)
		}
	}
}
