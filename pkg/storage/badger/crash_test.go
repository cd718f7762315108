package badger_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kl-dev/kl/pkg/storage/badger"
)

const crashDirEnv = "KL_BADGER_CRASH_TEST_DIR"

// TestCrashChild is the child process of TestAcknowledgedWritesSurviveKill:
// 8 goroutines create keys and print "ack <key> <revision>" once each
// create returns. It does nothing in a normal test run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("child process of TestAcknowledgedWritesSurviveKill")
	}
	s, err := badger.Open(badger.Options{Dir: dir})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for g := range 8 {
		wg.Go(func() {
			for i := range 5000 { // the parent kills us long before
				key := fmt.Sprintf("/registry/pods/ns%d/p%05d", g, i)
				rev, err := s.Create(context.Background(), key, []byte(key))
				mu.Lock()
				if err != nil {
					fmt.Println("error:", err)
				} else {
					fmt.Printf("ack %s %d\n", key, rev)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(3) // not killed in time: the parent reports it
}

// TestAcknowledgedWritesSurviveKill kills a process that is writing with
// SIGKILL and checks that every write it acknowledged is in the reopened
// store, at the revision it was acknowledged with.
func TestAcknowledgedWritesSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]int64{}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "ack "); ok {
			key, revText, _ := strings.Cut(rest, " ")
			rev, err := strconv.ParseInt(revText, 10, 64)
			if err != nil {
				t.Fatalf("bad line from child: %q", line)
			}
			acked[key] = rev
		} else if strings.HasPrefix(line, "error:") || strings.HasPrefix(line, "open:") {
			t.Fatalf("child: %s", line)
		}
		// Kill mid-stream; lines the child printed before dying are still
		// read below, and count as acknowledged too.
		if len(acked) >= 400 && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited before it was killed (%v) after %d acks", err, len(acked))
	}

	s, err := badger.Open(badger.Options{Dir: dir})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	var maxRev int64
	for key, rev := range acked {
		kv, err := s.Get(t.Context(), key)
		if err != nil {
			t.Fatalf("acknowledged %s (revision %d) lost: %v", key, rev, err)
		}
		if kv.ModRevision != rev || string(kv.Value) != key {
			t.Fatalf("acknowledged %s at revision %d, reopened store has revision %d value %q", key, rev, kv.ModRevision, kv.Value)
		}
		maxRev = max(maxRev, rev)
	}
	cur, err := s.CurrentRevision(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if cur < maxRev {
		t.Fatalf("reopened at revision %d, below the acknowledged %d", cur, maxRev)
	}
	t.Logf("%d acknowledged writes survived; reopened at revision %d", len(acked), cur)
}
