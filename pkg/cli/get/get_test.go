package get

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/client"
)

func TestNewCmdGet_ParsesFlags(t *testing.T) {
	tests := []struct {
		args    []string
		check   func(*Options) bool
		wantErr string
	}{
		{args: []string{"pods", "-A", "-l", "app=web", "-o", "wide", "--no-headers", "--show-labels"}, check: func(o *Options) bool {
			return o.AllNamespaces && o.LabelSelector == "app=web" && o.Output == "wide" && o.NoHeaders && o.ShowLabels && len(o.Args) == 1
		}},
		{args: []string{"deploy", "web", "--field-selector", "metadata.name=web", "-w"}, check: func(o *Options) bool {
			return o.Watch && o.FieldSelector == "metadata.name=web" && len(o.Args) == 2
		}},
		{args: []string{"pods", "--watch-only"}, check: func(o *Options) bool { return o.Watch && o.WatchOnly }},
		{args: nil, wantErr: "you must specify the type of resource to get"},
	}
	for _, tt := range tests {
		ios, _, _, _ := iostreams.Test()
		var got *Options
		cmd := NewCmdGet(cmdutil.NewFactory(ios), func(o *Options) error { got = o; return nil })
		cmd.SetArgs(tt.args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: got error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got == nil || !tt.check(got) {
			t.Errorf("%v: err %v, options %+v", tt.args, err, got)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until cond holds for the buffer, for at most 10s.
func waitFor(t *testing.T, b *syncBuffer, what string, cond func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond(b.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; output so far:\n%s", what, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func post(t *testing.T, c *client.Client, path, body string) {
	t.Helper()
	if _, err := c.Do(context.Background(), http.MethodPost, path, nil, "application/json", []byte(body)); err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
}

func TestRunGet_WatchPrintsListThenOneRowPerChange(t *testing.T) {
	c := apiservertest.StartClient(t)
	post(t, c, "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"a"},"data":{"k":"v"}}`)

	out, errOut := &syncBuffer{}, &syncBuffer{}
	opts := &Options{
		IO:        &iostreams.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut},
		Client:    func() (*client.Client, error) { return c, nil },
		Namespace: func() (string, bool, error) { return "default", false, nil },
		Now:       time.Now,
		Args:      []string{"configmaps"},
		Watch:     true,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runGet(ctx, opts) }()

	waitFor(t, out, "the initial list", func(s string) bool { return strings.Contains(s, "a      1      ") })
	post(t, c, "/api/v1/namespaces/default/configmaps", `{"metadata":{"name":"b"},"data":{"k":"v","k2":"v"}}`)
	waitFor(t, out, "the added object", func(s string) bool { return strings.Contains(s, "\nb ") })
	if _, err := c.Dynamic().Delete(ctx, gvrConfigMaps, "default", "a", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, "the deleted object", func(s string) bool { return strings.Count(s, "\na ") == 2 })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runGet after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop when its context was cancelled")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "NAME") || strings.Contains(strings.Join(lines[1:], "\n"), "NAME") {
		t.Errorf("want one header and three rows (list a, added b, deleted a), got:\n%s", out)
	}
	if errOut.String() != "" {
		t.Errorf("stderr: %s", errOut)
	}
}

func TestRunGet_WatchRejectsSeveralTypes(t *testing.T) {
	c := apiservertest.StartClient(t)
	ios, _, _, _ := iostreams.Test()
	err := runGet(context.Background(), &Options{
		IO: ios, Client: func() (*client.Client, error) { return c, nil },
		Namespace: func() (string, bool, error) { return "default", false, nil },
		Args:      []string{"pods,services"}, Watch: true,
	})
	if err == nil || !strings.Contains(err.Error(), "single resource type") {
		t.Fatalf("got %v, want a single-type error", err)
	}
}

var gvrConfigMaps = meta.GroupVersionResource{Version: "v1", Resource: "configmaps"}
