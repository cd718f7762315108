package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kl-dev/kl/test/e2e/framework"
)

// TestAcknowledgedWritesSurviveSIGKILL creates objects from 16 concurrent
// clients, kills the apiserver with SIGKILL while they write, restarts it on
// the same data directory and checks that every create that got a 201 is
// there with the same resourceVersion (badger runs with SyncWrites).
func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	dataDir := t.TempDir()
	proc, url := framework.APIServer(t, klBinary, dataDir, "--storage", "badger")

	const clients, perClient = 16, 100 // 1,600 attempts; the kill lands mid-way
	var acked sync.Map                 // name -> resourceVersion
	var count atomic.Int64
	killAt := int64(1000)
	killed := make(chan struct{})
	var once sync.Once
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; i < perClient; i++ {
				name := fmt.Sprintf("cm-%02d-%03d", c, i)
				body, _ := json.Marshal(map[string]any{
					"apiVersion": "v1", "kind": "ConfigMap",
					"metadata": map[string]any{"name": name},
					"data":     map[string]any{"n": fmt.Sprint(i)},
				})
				resp, err := client.Post(url+"/api/v1/namespaces/default/configmaps", "application/json", bytes.NewReader(body))
				if err != nil {
					return // the server is gone
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					continue
				}
				var obj struct {
					Metadata struct{ ResourceVersion string } `json:"metadata"`
				}
				if err := json.Unmarshal(data, &obj); err != nil {
					t.Errorf("decode create response: %v", err)
					return
				}
				acked.Store(name, obj.Metadata.ResourceVersion)
				if count.Add(1) == killAt {
					once.Do(func() { proc.Kill(); close(killed) })
				}
			}
		}(c)
	}
	wg.Wait()
	once.Do(func() { proc.Kill(); close(killed) })
	<-killed
	n := count.Load()
	if n < killAt {
		t.Fatalf("only %d creates acknowledged before the kill", n)
	}

	_, url = framework.APIServer(t, klBinary, dataDir, "--storage", "badger")
	missing, changed := 0, 0
	acked.Range(func(k, v any) bool {
		resp, err := client.Get(url + "/api/v1/namespaces/default/configmaps/" + k.(string))
		if err != nil {
			t.Fatalf("get after restart: %v", err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			missing++
			return true
		}
		var obj struct {
			Metadata struct{ ResourceVersion string } `json:"metadata"`
		}
		_ = json.Unmarshal(data, &obj)
		if obj.Metadata.ResourceVersion != v.(string) {
			changed++
		}
		return true
	})
	t.Logf("%d creates acknowledged before SIGKILL; after restart %d missing, %d with another resourceVersion", n, missing, changed)
	if missing > 0 || changed > 0 {
		t.Fatalf("lost %d acknowledged writes and %d changed resourceVersion across SIGKILL", missing, changed)
	}
}
