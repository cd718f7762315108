package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
)

// send sends obj as JSON and returns the decoded response, failing the
// test on a status other than want.
func send(t *testing.T, method, url string, obj map[string]any, want int) map[string]any {
	t.Helper()
	body, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, data)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func uid(obj map[string]any) string {
	return obj["metadata"].(map[string]any)["uid"].(string)
}

func owned(name, kind, ownerUID string) map[string]any {
	return map[string]any{
		"name": name,
		"ownerReferences": []any{map[string]any{
			"apiVersion": "apps/v1", "kind": kind, "name": "web", "uid": ownerUID, "controller": true,
		}},
		"labels": map[string]any{"app": "web"},
	}
}

var podSpec = map[string]any{"containers": []any{map[string]any{"name": "c", "image": "nginx:1.27"}}}

// cluster creates, in namespace default, Deployment web -> ReplicaSet
// web-7d4b9c -> two pods (one ready, one crash looping), plus an unrelated
// pod, and returns the apiserver URL and when the first object was made.
func cluster(t *testing.T) (string, time.Time) {
	url := apiservertest.Start(t)
	start := time.Now()
	labels := map[string]any{"app": "web"}
	tmpl := map[string]any{"metadata": map[string]any{"labels": labels}, "spec": podSpec}
	apps := url + "/apis/apps/v1/namespaces/default/"
	deploy := send(t, "POST", apps+"deployments", map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web"},
		"spec": map[string]any{"replicas": 2, "selector": map[string]any{"matchLabels": labels}, "template": tmpl},
	}, http.StatusCreated)
	rs := send(t, "POST", apps+"replicasets", map[string]any{
		"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": owned("web-7d4b9c", "Deployment", uid(deploy)),
		"spec": map[string]any{"replicas": 2, "selector": map[string]any{"matchLabels": labels}, "template": tmpl},
	}, http.StatusCreated)
	pods := url + "/api/v1/namespaces/default/pods"
	statuses := map[string]map[string]any{
		"web-7d4b9c-abcde": {"phase": "Running", "conditions": []any{map[string]any{"type": "Ready", "status": "True"}}},
		"web-7d4b9c-fghij": {
			"phase":      "Running",
			"conditions": []any{map[string]any{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}},
			"containerStatuses": []any{map[string]any{
				"name": "c", "image": "nginx:1.27", "imageID": "", "ready": false, "restartCount": 4,
				"state": map[string]any{"waiting": map[string]any{"reason": "CrashLoopBackOff"}},
			}},
		},
	}
	for _, name := range []string{"web-7d4b9c-fghij", "web-7d4b9c-abcde"} {
		pod := send(t, "POST", pods, map[string]any{
			"apiVersion": "v1", "kind": "Pod", "metadata": owned(name, "ReplicaSet", uid(rs)), "spec": podSpec,
		}, http.StatusCreated)
		pod["status"] = statuses[name]
		send(t, "PUT", pods+"/"+name+"/status", pod, http.StatusOK)
	}
	send(t, "POST", pods, map[string]any{
		"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "other"}, "spec": podSpec,
	}, http.StatusCreated)
	return url, start
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// klTree runs the plugin as kl would and returns its exit code and output.
func klTree(t *testing.T, vars map[string]string, now time.Time, args ...string) (int, string, string) {
	t.Helper()
	vars["HOME"] = t.TempDir()
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, env(vars), &out, &errOut, func() time.Time { return now })
	return code, out.String(), errOut.String()
}

func TestTree_DeploymentReplicaSetPods(t *testing.T) {
	url, start := cluster(t)
	// Every object is a few seconds older than start+30d12h: all "30d".
	now := start.Add(30*24*time.Hour + 12*time.Hour)
	want := `NAMESPACE  NAME                      READY  REASON            AGE
default    Deployment/web            -                        30d
default    └─ReplicaSet/web-7d4b9c   -                        30d
default      ├─Pod/web-7d4b9c-abcde  True                     30d
default      └─Pod/web-7d4b9c-fghij  False  CrashLoopBackOff  30d
`
	for _, args := range [][]string{{"deployment", "web"}, {"deploy/web"}, {"Deployment", "web", "-n", "default"}} {
		code, out, errOut := klTree(t, map[string]string{"KL_SERVER": url, "KL_NAMESPACE": "default"}, now, args...)
		if code != 0 || out != want || errOut != "" {
			t.Errorf("kl tree %q: exit %d, stderr %q, stdout\n%s\nwant\n%s", args, code, errOut, out, want)
		}
	}

	// A subtree, from the ReplicaSet; -n beats KL_NAMESPACE.
	code, out, _ := klTree(t, map[string]string{"KL_SERVER": url, "KL_NAMESPACE": "elsewhere"}, now, "rs", "web-7d4b9c", "-n", "default")
	if code != 0 || !strings.HasPrefix(out, "NAMESPACE  NAME                    READY  REASON            AGE\ndefault    ReplicaSet/web-7d4b9c   -                        30d\ndefault    ├─Pod/web-7d4b9c-abcde") {
		t.Errorf("kl tree rs: exit %d\n%s", code, out)
	}
}

func TestTree_Errors(t *testing.T) {
	url := apiservertest.Start(t)
	tests := []struct {
		name     string
		server   string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "not found", server: url, args: []string{"deployment", "nope"}, wantCode: 1, wantErr: "error: deployments.apps \"nope\" not found\n"},
		{name: "unknown kind", server: url, args: []string{"gadget", "x"}, wantCode: 1, wantErr: "error: the server doesn't have a resource type \"gadget\""},
		{name: "usage", server: url, args: []string{"deployment"}, wantCode: 1, wantErr: "error: want KIND NAME or KIND/NAME, e.g. kl tree deployment web\nRun 'kl tree --help' for usage.\n"},
		{name: "no server", args: []string{"deployment", "web"}, wantCode: 1, wantErr: "no apiserver configured"},
		{
			name: "unreachable", server: "http://127.0.0.1:1", args: []string{"deployment", "web"}, wantCode: 1,
			wantErr: "cannot reach the kl apiserver at http://127.0.0.1:1: connection refused (is the apiserver running? use --server URL, KL_SERVER or kl config use-context)\n",
		},
		{name: "bad flag", args: []string{"--bogus"}, wantCode: 1, wantErr: "error: unknown flag: --bogus\nRun 'kl tree --help' for usage.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := klTree(t, map[string]string{"KL_SERVER": tt.server}, time.Now(), tt.args...)
			if code != tt.wantCode || out != "" || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and stderr containing %q", code, out, errOut, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestTree_HelpGoesToStdout(t *testing.T) {
	code, out, errOut := klTree(t, map[string]string{}, time.Now(), "--help")
	if code != 0 || errOut != "" || !strings.HasPrefix(out, "Show an object and everything it owns") || !strings.Contains(out, "-n, --namespace") {
		t.Errorf("exit %d, stderr %q, stdout\n%s", code, errOut, out)
	}
}

func TestStatus_ReasonPrefersContainerState(t *testing.T) {
	decodeObj := func(s string) *object {
		o, err := decode([]byte(s), "Pod")
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	tests := []struct {
		status            string
		wantReady, reason string
	}{
		{`{}`, "-", ""},
		{`{"conditions":[{"type":"Ready","status":"True"}]}`, "True", ""},
		{`{"conditions":[{"type":"Ready","status":"False","reason":"ContainersNotReady"}]}`, "False", "ContainersNotReady"},
		{`{"conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable"}]}`, "-", "Unschedulable"},
		{`{"conditions":[{"type":"Ready","status":"False"}],"containerStatuses":[{"state":{"terminated":{"reason":"OOMKilled"}}}]}`, "False", "OOMKilled"},
		{`{"initContainerStatuses":[{"state":{"waiting":{"reason":"ImagePullBackOff"}}}],"containerStatuses":[{"state":{"terminated":{"reason":"Error"}}}]}`, "-", "ImagePullBackOff"},
	}
	for _, tt := range tests {
		ready, reason := status(decodeObj(`{"status":` + tt.status + `}`))
		if ready != tt.wantReady || reason != tt.reason {
			t.Errorf("status(%s) = %q %q, want %q %q", tt.status, ready, reason, tt.wantReady, tt.reason)
		}
	}
}
