package plugin

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// script writes a shell script plugin and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	skipOnWindows(t)
	path := filepath.Join(t.TempDir(), "kl-test")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitScript loops until a trapped signal ends it; it gives up after 60s so
// a broken test cannot hang.
const waitScript = `i=0
while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
exit 3
`

// readyWriter is a concurrency-safe buffer that closes ready on the first
// write (the script's "ready" line).
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func newReadyWriter() *readyWriter { return &readyWriter{ready: make(chan struct{})} }

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.once.Do(func() { close(w.ready) })
	return w.buf.Write(p)
}

func (w *readyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func (w *readyWriter) wait(t *testing.T) {
	t.Helper()
	select {
	case <-w.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("plugin did not start within 30s")
	}
}

func TestRun_PassesArgsEnvStreamsAndExitCode(t *testing.T) {
	path := script(t, `echo "args: $*"; echo "server: $KL_SERVER"; read line; echo "stdin: $line"; echo oops >&2; exit 7`)
	var out, errOut bytes.Buffer
	code, err := Run(t.Context(), Cmd{
		Path: path, Args: []string{"a", "b c"},
		Env:   Env{Server: "http://s:1"}.Apply(nil),
		Stdin: strings.NewReader("hello\n"), Stdout: &out, Stderr: &errOut,
		Signals: make(chan os.Signal),
	})
	if err != nil || code != 7 {
		t.Fatalf("Run = %d, %v; want exit code 7", code, err)
	}
	if want := "args: a b c\nserver: http://s:1\nstdin: hello\n"; out.String() != want || errOut.String() != "oops\n" {
		t.Errorf("stdout %q stderr %q, want %q and oops", out.String(), errOut.String(), want)
	}
}

func TestRun_ForwardsSignals(t *testing.T) {
	tests := []struct {
		name       string
		foreground bool
		send       []os.Signal
		wantCode   int
		wantOut    string
	}{
		{name: "SIGTERM", send: []os.Signal{syscall.SIGTERM}, wantCode: 42, wantOut: "ready\nterm\n"},
		{name: "interrupt", send: []os.Signal{os.Interrupt}, wantCode: 130, wantOut: "ready\nint\n"},
		{
			name:       "foreground: the terminal delivers interrupts, kl does not",
			foreground: true, send: []os.Signal{os.Interrupt, syscall.SIGTERM}, wantCode: 42, wantOut: "ready\nterm\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := script(t, "trap 'echo term; exit 42' TERM\ntrap 'echo int; exit 130' INT\necho ready\n"+waitScript)
			out := newReadyWriter()
			sigs := make(chan os.Signal, len(tt.send))
			type result struct {
				code int
				err  error
			}
			res := make(chan result, 1)
			go func() {
				code, err := Run(context.Background(), Cmd{Path: path, Stdout: out, Stderr: out, Signals: sigs, Foreground: tt.foreground})
				res <- result{code, err}
			}()
			out.wait(t)
			for _, s := range tt.send {
				sigs <- s
			}
			r := <-res
			if r.err != nil || r.code != tt.wantCode || out.String() != tt.wantOut {
				t.Errorf("Run = %d, %v, output %q; want %d, %q", r.code, r.err, out.String(), tt.wantCode, tt.wantOut)
			}
		})
	}
}

func TestRun_CancelAsksThenKills(t *testing.T) {
	tests := []struct {
		name     string
		trap     string
		wantCode int
	}{
		{name: "plugin stops on SIGTERM", trap: "trap 'exit 42' TERM", wantCode: 42},
		{name: "plugin ignores SIGTERM and is killed", trap: "trap '' TERM", wantCode: 128 + int(syscall.SIGKILL)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := script(t, tt.trap+"\necho ready\n"+waitScript)
			out := newReadyWriter()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go func() {
				select {
				case <-out.ready:
				case <-time.After(30 * time.Second):
				}
				cancel()
			}()
			code, err := Run(ctx, Cmd{Path: path, Stdout: out, Signals: make(chan os.Signal), GracePeriod: 200 * time.Millisecond})
			if err != nil || code != tt.wantCode {
				t.Errorf("Run = %d, %v; want %d", code, err, tt.wantCode)
			}
		})
	}
}

func TestRun_MissingExecutableIsAnError(t *testing.T) {
	skipOnWindows(t)
	missing := filepath.Join(t.TempDir(), "kl-gone")
	_, err := Run(t.Context(), Cmd{Path: missing, Signals: make(chan os.Signal)})
	if err == nil || !strings.Contains(err.Error(), "run plugin "+missing) {
		t.Errorf("error = %v", err)
	}
}

func TestEnvApply_ReplacesConnectionVariables(t *testing.T) {
	environ := []string{"PATH=/bin", "KL_SERVER=http://stale:1", "KL_CONTEXT=stale", "HOME=/h", "KL_V=4"}
	got := Env{Server: "http://a:1,http://b:1", Config: "/c.yaml", Namespace: "ns"}.Apply(environ)
	want := []string{"PATH=/bin", "HOME=/h", "KL_V=4", "KL_SERVER=http://a:1,http://b:1", "KL_CONFIG=/c.yaml", "KL_NAMESPACE=ns"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Apply = %q, want %q", got, want)
	}
}
