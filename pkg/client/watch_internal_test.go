package client

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/kl-dev/kl/pkg/api/meta"
)

type named struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Note string `json:"note"`
}

func decodeNamed(raw []byte) (*named, error) {
	n := new(named)
	return n, json.Unmarshal(raw, n)
}

func collect(t *testing.T, stream string) []Event[*named] {
	t.Helper()
	var evs []Event[*named]
	for ev := range decodeWatch(context.Background(), io.NopCloser(strings.NewReader(stream)), decodeNamed, slog.New(slog.DiscardHandler)) {
		evs = append(evs, ev)
	}
	return evs
}

func TestDecodeWatchAcceptsEveryEnvelopeShape(t *testing.T) {
	long := strings.Repeat("x", 200<<10) // longer than the reader's buffer
	tests := []struct {
		name, line, wantType, wantName string
	}{
		{"canonical", `{"type":"ADDED","object":{"metadata":{"name":"a"}}}`, meta.Added, "a"},
		{"spaces and CRLF", "  {\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}\r", meta.Modified, "b"},
		{"object first", `{"object":{"metadata":{"name":"c"}},"type":"DELETED"}`, meta.Deleted, "c"},
		{"extra field", `{"type":"ADDED","object":{"metadata":{"name":"d"}},"extra":{"x":1}}`, meta.Added, "d"},
		{"spaced envelope", `{ "type": "BOOKMARK", "object": {"metadata":{"name":"e"}} }`, meta.Bookmark, "e"},
		{"long line", `{"type":"ADDED","object":{"metadata":{"name":"f"},"note":"` + long + `"}}`, meta.Added, "f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := collect(t, tt.line+"\n"+tt.line) // the last line has no newline
			if len(evs) != 2 {
				t.Fatalf("got %d events, want 2", len(evs))
			}
			for _, ev := range evs {
				if ev.Type != tt.wantType || ev.Object == nil || ev.Object.Metadata.Name != tt.wantName {
					t.Fatalf("event = %+v, want %s %s", ev, tt.wantType, tt.wantName)
				}
			}
		})
	}
}

func TestDecodeWatchErrorEvents(t *testing.T) {
	tests := []struct {
		name, stream string
		wantCode     int32
		wantMsg      string
	}{
		{"server status", `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Gone","code":410,"message":"too old"}}`, 410, "too old"},
		{"bad json", `{"type":"ADDED","object":{`, 500, "decoding watch stream"},
		{"unknown type", `{"type":"SOMETHING","object":{}}`, 500, "unknown event type"},
		{"wrong object shape", `{"type":"ADDED","object":{"note":5}}`, 500, "decoding watch ADDED event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := collect(t, tt.stream+"\n"+`{"type":"ADDED","object":{"metadata":{"name":"after"}}}`+"\n")
			first := evs[0]
			if first.Type != meta.Error || first.Status.Code != tt.wantCode || !strings.Contains(first.Status.Message, tt.wantMsg) {
				t.Fatalf("first event = %+v (status %+v), want ERROR %d %q", first, first.Status, tt.wantCode, tt.wantMsg)
			}
			// A server's ERROR is passed on like any event; a line the
			// client cannot decode ends the stream.
			if wantLen := map[bool]int{true: 1, false: 2}[tt.wantCode == 500]; len(evs) != wantLen {
				t.Fatalf("got %d events, want %d", len(evs), wantLen)
			}
		})
	}
}
