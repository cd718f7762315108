package describe

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/client"
)

var update = flag.Bool("update", false, "rewrite testdata/*.txt")

// send sends body (JSON, with %s verbs filled from args) and returns the
// response's metadata.uid.
func send(t *testing.T, c *client.Client, method, path, body string, args ...any) string {
	t.Helper()
	ct := "application/json"
	if method == http.MethodPatch {
		ct = "application/merge-patch+json"
	}
	out, err := c.Do(context.Background(), method, path, nil, ct, []byte(fmt.Sprintf(body, args...)))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	var o struct {
		Metadata struct {
			UID string `json:"uid"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatal(err)
	}
	return o.Metadata.UID
}

// fixture creates a small cluster's worth of objects. Event times are
// relative to now.
func fixture(t *testing.T, c *client.Client, now time.Time) {
	ts := func(d time.Duration) string { return now.Add(-d).UTC().Format(time.RFC3339) }
	const ns = "/api/v1/namespaces/default"
	send(t, c, "POST", "/api/v1/nodes", `{"metadata":{"name":"node-1","labels":{"kubernetes.io/hostname":"node-1","node-role.kubernetes.io/control-plane":""}},
		"spec":{"podCIDR":"10.1.0.0/24"}}`)
	send(t, c, "PATCH", "/api/v1/nodes/node-1/status", `{"status":{
		"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"4","memory":"8Gi","pods":"110"},
		"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status","lastHeartbeatTime":%q,"lastTransitionTime":%q}],
		"addresses":[{"type":"InternalIP","address":"192.168.1.10"},{"type":"Hostname","address":"node-1"}],
		"nodeInfo":{"machineID":"m1","systemUUID":"u1","bootID":"b1","kernelVersion":"6.1.0","osImage":"Debian GNU/Linux 13","containerRuntimeVersion":"docker://27.0.0","kubeletVersion":"v1.31.0-kl","kubeProxyVersion":"","operatingSystem":"linux","architecture":"amd64"}}}`,
		ts(time.Minute), ts(2*time.Hour))

	depUID := send(t, c, "POST", "/apis/apps/v1/namespaces/default/deployments", `{"metadata":{"name":"web","labels":{"app":"web"},"annotations":{"deployment.kubernetes.io/revision":"2"}},
		"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
		"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":1}},
		"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.25","ports":[{"containerPort":80,"name":"http"}],
		"env":[{"name":"MODE","value":"prod"},{"name":"PASSWORD","valueFrom":{"secretKeyRef":{"name":"db","key":"password"}}}]}]}}}}`)
	send(t, c, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/status", `{"status":{"replicas":2,"updatedReplicas":2,"readyReplicas":1,"availableReplicas":1,"unavailableReplicas":1,
		"conditions":[{"type":"Available","status":"False","reason":"MinimumReplicasUnavailable"},{"type":"Progressing","status":"True","reason":"ReplicaSetUpdated"}]}}`)
	rs := `{"metadata":{"name":"%s","labels":{"app":"web","pod-template-hash":"%s"},"annotations":{"deployment.kubernetes.io/revision":"%s"},
		"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":%q,"controller":true}]},
		"spec":{"replicas":%s,"selector":{"matchLabels":{"app":"web","pod-template-hash":"%s"}},
		"template":{"metadata":{"labels":{"app":"web","pod-template-hash":"%s"}},"spec":{"containers":[{"name":"web","image":"nginx:%s"}]}}}}`
	send(t, c, "POST", "/apis/apps/v1/namespaces/default/replicasets", rs, "web-old", "old", "1", depUID, "0", "old", "old", "1.24")
	rsUID := send(t, c, "POST", "/apis/apps/v1/namespaces/default/replicasets", rs, "web-new", "new", "2", depUID, "2", "new", "new", "1.25")
	send(t, c, "PATCH", "/apis/apps/v1/namespaces/default/replicasets/web-new/status", `{"status":{"replicas":2,"readyReplicas":1}}`)

	pod := `{"metadata":{"name":"%s","labels":{"app":"web","pod-template-hash":"new"},
		"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-new","uid":%q,"controller":true}]},
		"spec":{"nodeName":"node-1","serviceAccountName":"default","containers":[{"name":"web","image":"nginx:1.25","ports":[{"containerPort":80}],
		"resources":{"requests":{"cpu":"250m","memory":"64Mi"},"limits":{"memory":"128Mi"}},
		"livenessProbe":{"httpGet":{"path":"/healthz","port":80},"periodSeconds":10,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3},
		"volumeMounts":[{"name":"cache","mountPath":"/cache"}]}],
		"volumes":[{"name":"cache","emptyDir":{}}]}}`
	send(t, c, "POST", ns+"/pods", pod, "web-new-1", rsUID)
	send(t, c, "POST", ns+"/pods", pod, "web-new-2", rsUID)
	send(t, c, "PATCH", ns+"/pods/web-new-1/status", `{"status":{"phase":"Running","hostIP":"192.168.1.10","podIP":"10.1.0.5","podIPs":[{"ip":"10.1.0.5"}],
		"startTime":%q,"conditions":[{"type":"Ready","status":"True"},{"type":"PodScheduled","status":"True"}],
		"containerStatuses":[{"name":"web","ready":true,"restartCount":0,"image":"nginx:1.25","imageID":"docker://sha256:abc","containerID":"docker://c1","state":{"running":{"startedAt":%q}}}]}}`,
		ts(10*time.Minute), ts(9*time.Minute))
	send(t, c, "PATCH", ns+"/pods/web-new-2/status", `{"status":{"phase":"Running","hostIP":"192.168.1.10","podIP":"10.1.0.6",
		"containerStatuses":[{"name":"web","ready":false,"restartCount":3,"image":"nginx:1.25","imageID":"","state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off 40s restarting failed container"}},
		"lastState":{"terminated":{"exitCode":137,"reason":"OOMKilled","startedAt":%q,"finishedAt":%q}}}]}}`, ts(3*time.Minute), ts(2*time.Minute))

	event := `{"metadata":{"name":"%s"},"involvedObject":{"kind":"%s","namespace":"default","name":"%s"},"reason":"%s","message":"%s","type":"%s",
		"source":{"component":"%s"},"count":%s,"firstTimestamp":%q,"lastTimestamp":%q,"reportingComponent":""}`
	send(t, c, "POST", ns+"/events", event, "e1", "Pod", "web-new-2", "Scheduled", "Successfully assigned default/web-new-2 to node-1", "Normal", "default-scheduler", "1", ts(10*time.Minute), ts(10*time.Minute))
	send(t, c, "POST", ns+"/events", event, "e2", "Pod", "web-new-2", "BackOff", "Back-off restarting failed container", "Warning", "kubelet", "3", ts(5*time.Minute), ts(time.Minute))
	send(t, c, "POST", ns+"/events", event, "e3", "Pod", "web-new-1", "Pulled", "not about web-new-2", "Normal", "kubelet", "1", ts(time.Minute), ts(time.Minute))
	send(t, c, "POST", ns+"/events", event, "e4", "Deployment", "web", "ScalingReplicaSet", "Scaled up replica set web-new to 2", "Normal", "deployment-controller", "1", ts(20*time.Minute), ts(20*time.Minute))

	send(t, c, "POST", ns+"/services", `{"metadata":{"name":"web"},"spec":{"type":"NodePort","clusterIP":"10.96.0.80","selector":{"app":"web"},
		"ports":[{"name":"http","port":80,"targetPort":"http","nodePort":30080}]}}`)
	send(t, c, "POST", ns+"/endpoints", `{"metadata":{"name":"web"},"subsets":[{"addresses":[{"ip":"10.1.0.5"}],"notReadyAddresses":[{"ip":"10.1.0.6"}],
		"ports":[{"name":"http","port":80,"protocol":"TCP"}]}]}`)
	send(t, c, "POST", ns+"/configmaps", `{"metadata":{"name":"cfg"},"data":{"mode":"prod","nginx.conf":"server {\n  listen 80;\n}"}}`)
	send(t, c, "POST", ns+"/secrets", `{"metadata":{"name":"db"},"stringData":{"password":"s3cret","user":"app"}}`)
	send(t, c, "POST", ns+"/serviceaccounts", `{"metadata":{"name":"builder"},"imagePullSecrets":[{"name":"registry"}]}`)
	send(t, c, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases", `{"metadata":{"name":"kl-scheduler"},"spec":{"holderIdentity":"host-1_abc","leaseDurationSeconds":15}}`)
}

// timestamps matches the RFC 1123 times describe prints.
var timestamps = regexp.MustCompile(`[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [-+]\d{4}`)

func TestRunDescribe_Golden(t *testing.T) {
	t.Setenv("TZ", "UTC")
	c := apiservertest.StartClient(t)
	// Describe "an hour" after the objects were created, so that every age
	// is at least an hour and printed in whole minutes: created objects are
	// 60m old, events 60m more than their offsets.
	fixture(t, c, time.Now())
	now := time.Now().Add(time.Hour)
	tests := []struct {
		name string
		args []string
		ns   string
	}{
		{"pod_running", []string{"pod", "web-new-1"}, "default"},
		{"pod_crashing", []string{"pods/web-new-2"}, "default"},
		{"deployment", []string{"deploy", "web"}, "default"},
		{"replicaset", []string{"rs", "web-new"}, "default"},
		{"service", []string{"svc", "web"}, "default"},
		{"node", []string{"node", "node-1"}, "default"},
		{"configmap", []string{"cm", "cfg"}, "default"},
		{"secret", []string{"secret", "db"}, "default"},
		{"endpoints", []string{"ep", "web"}, "default"},
		{"serviceaccount", []string{"sa", "builder"}, "default"},
		{"namespace", []string{"ns", "default"}, "default"},
		{"lease_generic", []string{"lease", "kl-scheduler"}, "kube-system"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			err := runDescribe(context.Background(), &Options{
				IO: ios, Client: func() (*client.Client, error) { return c, nil },
				Namespace: func() (string, bool, error) { return tt.ns, false, nil },
				Now:       func() time.Time { return now },
				Args:      tt.args, ShowEvents: true,
			})
			if err != nil {
				t.Fatalf("runDescribe: %v (stderr %s)", err, errOut)
			}
			got := timestamps.ReplaceAllString(out.String(), "<time>")
			got = regexp.MustCompile(`(?m)^(Creation Timestamp|  Uid|  Resource Version):.*$`).ReplaceAllString(got, "$1: <masked>")
			path := filepath.Join("testdata", tt.name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("describe %s: got\n%s\nwant\n%s", strings.Join(tt.args, " "), got, want)
			}
		})
	}
}

func TestRunDescribe_SeveralObjectsAndErrors(t *testing.T) {
	c := apiservertest.StartClient(t)
	now := time.Now()
	fixture(t, c, now)
	run := func(selector string, args ...string) (string, string, error) {
		ios, _, out, errOut := iostreams.Test()
		err := runDescribe(context.Background(), &Options{
			IO: ios, Client: func() (*client.Client, error) { return c, nil },
			Namespace: func() (string, bool, error) { return "default", false, nil },
			Now:       func() time.Time { return now }, Args: args, Selector: selector,
		})
		return out.String(), errOut.String(), err
	}
	out, _, err := run("app=web", "pods")
	if err != nil {
		t.Fatal(err)
	}
	out2, _, err := run("", "pods")
	if err != nil || out2 != out || strings.Count(out, "\nName:") != 1 || !strings.HasPrefix(out, "Name:") || !strings.Contains(out, "\n\n\nName:") {
		t.Errorf("describe pods: want two descriptions separated by two blank lines, got:\n%s", out)
	}
	_, errOut, err := run("", "pod", "web-new-1", "nope")
	if err == nil || !strings.Contains(errOut, `Error from server (NotFound): pods "nope" not found`) {
		t.Errorf("describe with a missing name: err %v, stderr %q", err, errOut)
	}
}

func TestRunDescribe_NothingFound(t *testing.T) {
	c := apiservertest.StartClient(t)
	ios, _, out, errOut := iostreams.Test()
	err := runDescribe(context.Background(), &Options{
		IO: ios, Client: func() (*client.Client, error) { return c, nil },
		Namespace: func() (string, bool, error) { return "default", false, nil },
		Args:      []string{"pods"},
	})
	if err != nil || out.Len() != 0 || errOut.String() != "No resources found in default namespace.\n" {
		t.Errorf("got err %v, stdout %q, stderr %q", err, out, errOut)
	}
}
