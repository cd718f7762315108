package resource

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
)

var (
	testNow    = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	podMapping = Mapping{GVR: meta.GroupVersionResource{Version: "v1", Resource: "pods"}, Kind: "Pod", Namespaced: true}
	depMapping = Mapping{GVR: meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, Kind: "Deployment", Namespaced: true}
	svcMapping = Mapping{GVR: meta.GroupVersionResource{Version: "v1", Resource: "services"}, Kind: "Service", Namespaced: true}
	nodMapping = Mapping{GVR: meta.GroupVersionResource{Version: "v1", Resource: "nodes"}, Kind: "Node"}
	evtMapping = Mapping{GVR: meta.GroupVersionResource{Version: "v1", Resource: "events"}, Kind: "Event", Namespaced: true}
	rsMapping  = Mapping{GVR: meta.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}, Kind: "ReplicaSet", Namespaced: true}
	epMapping  = Mapping{GVR: meta.GroupVersionResource{Version: "v1", Resource: "endpoints"}, Kind: "Endpoints", Namespaced: true}
	cmMapping  = Mapping{GVR: meta.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Kind: "ConfigMap", Namespaced: true}
	secMapping = Mapping{GVR: meta.GroupVersionResource{Version: "v1", Resource: "secrets"}, Kind: "Secret", Namespaced: true}
	lsMapping  = Mapping{GVR: meta.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}, Kind: "Lease", Namespaced: true}
	nsMapping  = Mapping{GVR: meta.GroupVersionResource{Version: "v1", Resource: "namespaces"}, Kind: "Namespace"}
)

func obj(t *testing.T, m Mapping, raw string) Object {
	t.Helper()
	o, err := NewObject(m, []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func testPods(t *testing.T) []Object {
	return []Object{
		obj(t, podMapping, `{"metadata":{"name":"web-1","namespace":"default","creationTimestamp":"2026-01-10T11:55:00Z","labels":{"app":"web"}},
			"spec":{"nodeName":"node-1","containers":[{"name":"web","image":"nginx"}]},
			"status":{"phase":"Running","podIP":"10.1.0.5","conditions":[{"type":"Ready","status":"True"}],
			  "containerStatuses":[{"name":"web","ready":true,"restartCount":0,"image":"nginx","imageID":"","state":{"running":{}}}]}}`),
		obj(t, podMapping, `{"metadata":{"name":"web-2","namespace":"default","creationTimestamp":"2026-01-08T09:00:00Z"},
			"spec":{"nodeName":"node-1","containers":[{"name":"web","image":"nginx"},{"name":"log","image":"busybox"}]},
			"status":{"phase":"Running","podIP":"10.1.0.6",
			  "containerStatuses":[
			    {"name":"web","ready":false,"restartCount":5,"image":"nginx","imageID":"","state":{"waiting":{"reason":"CrashLoopBackOff"}},
			     "lastState":{"terminated":{"exitCode":1,"finishedAt":"2026-01-10T11:58:00Z"}}},
			    {"name":"log","ready":true,"restartCount":0,"image":"busybox","imageID":"","state":{"running":{}}}]}}`),
		obj(t, podMapping, `{"metadata":{"name":"job-1","namespace":"default","creationTimestamp":"2026-01-10T11:59:30Z"},
			"spec":{"containers":[{"name":"job","image":"busybox"}]},
			"status":{"phase":"Succeeded","containerStatuses":[{"name":"job","ready":false,"restartCount":0,"image":"busybox","imageID":"","state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]}}`),
		obj(t, podMapping, `{"metadata":{"name":"pull-1","namespace":"shop","creationTimestamp":"2026-01-10T11:00:00Z"},
			"spec":{"containers":[{"name":"app","image":"nope"}]},
			"status":{"phase":"Pending","containerStatuses":[{"name":"app","ready":false,"restartCount":0,"image":"nope","imageID":"","state":{"waiting":{"reason":"ImagePullBackOff"}}}]}}`),
		obj(t, podMapping, `{"metadata":{"name":"old-1","namespace":"shop","creationTimestamp":"2025-11-01T00:00:00Z","deletionTimestamp":"2026-01-10T11:59:50Z"},
			"spec":{"nodeName":"node-2","containers":[{"name":"app","image":"x"}]},
			"status":{"phase":"Running"}}`),
		obj(t, podMapping, `{"metadata":{"name":"new-1","namespace":"shop","creationTimestamp":"2026-01-10T11:59:58Z"},
			"spec":{"containers":[{"name":"app","image":"x"}]},"status":{"phase":"Pending"}}`),
	}
}

func printString(t *testing.T, opts PrintOptions, objs []Object, single bool) string {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	p, err := NewPrinter(opts)
	if err != nil {
		t.Fatalf("NewPrinter: %v", err)
	}
	var b bytes.Buffer
	if err := p.Print(&b, objs, single); err != nil {
		t.Fatalf("Print: %v", err)
	}
	return b.String()
}

func checkOutput(t *testing.T, got, want string) {
	t.Helper()
	want = strings.TrimPrefix(want, "\n")
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestPrinter_PodTableShowsKubectlStatusAndAge(t *testing.T) {
	checkOutput(t, printString(t, PrintOptions{}, testPods(t), false), `
NAME     READY   STATUS             RESTARTS     AGE
web-1    1/1     Running            0            5m
web-2    1/2     CrashLoopBackOff   5 (2m ago)   2d3h
job-1    0/1     Completed          0            30s
pull-1   0/1     ImagePullBackOff   0            60m
old-1    0/1     Terminating        0            70d
new-1    0/1     Pending            0            2s
`)
}

func TestPrinter_WideAllNamespacesLabels(t *testing.T) {
	pods := testPods(t)[:2]
	checkOutput(t, printString(t, PrintOptions{Output: "wide", WithNamespace: true, ShowLabels: true}, pods, false), `
NAMESPACE   NAME    READY   STATUS             RESTARTS     AGE    IP         NODE     LABELS
default     web-1   1/1     Running            0            5m     10.1.0.5   node-1   app=web
default     web-2   1/2     CrashLoopBackOff   5 (2m ago)   2d3h   10.1.0.6   node-1   <none>
`)
	checkOutput(t, printString(t, PrintOptions{NoHeaders: true}, pods, false), `
web-1   1/1   Running            0            5m
web-2   1/2   CrashLoopBackOff   5 (2m ago)   2d3h
`)
}

func TestPrinter_KindTables(t *testing.T) {
	tests := []struct {
		name string
		objs []Object
		opts PrintOptions
		want string
	}{
		{
			name: "deployments wide",
			opts: PrintOptions{Output: "wide"},
			objs: []Object{obj(t, depMapping, `{"metadata":{"name":"web","creationTimestamp":"2026-01-10T08:00:00Z"},
				"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.25"},{"name":"log","image":"busybox"}]}}},
				"status":{"replicas":3,"updatedReplicas":2,"readyReplicas":2,"availableReplicas":1}}`)},
			want: `
NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES               SELECTOR
web    2/3     2            1           4h    web,log      nginx:1.25,busybox   app=web
`,
		},
		{
			name: "replicasets",
			objs: []Object{obj(t, rsMapping, `{"metadata":{"name":"web-5d9c","creationTimestamp":"2026-01-10T11:00:00Z"},
				"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"spec":{"containers":[{"name":"web","image":"nginx"}]}}},
				"status":{"replicas":3,"readyReplicas":1}}`)},
			want: `
NAME       DESIRED   CURRENT   READY   AGE
web-5d9c   3         3         1       60m
`,
		},
		{
			name: "services",
			objs: []Object{
				obj(t, svcMapping, `{"metadata":{"name":"web","creationTimestamp":"2026-01-10T11:00:00Z"},
					"spec":{"type":"ClusterIP","clusterIP":"10.96.0.10","ports":[{"port":80,"protocol":"TCP"},{"port":443,"protocol":"TCP"}]}}`),
				obj(t, svcMapping, `{"metadata":{"name":"np","creationTimestamp":"2026-01-10T11:00:00Z"},
					"spec":{"type":"NodePort","clusterIP":"10.96.0.11","ports":[{"port":80,"nodePort":30080,"protocol":"TCP"}]}}`),
				obj(t, svcMapping, `{"metadata":{"name":"lb","creationTimestamp":"2026-01-10T11:00:00Z"},
					"spec":{"type":"LoadBalancer","clusterIP":"10.96.0.12","ports":[{"port":53,"nodePort":30053,"protocol":"UDP"}]}}`),
				obj(t, svcMapping, `{"metadata":{"name":"ext","creationTimestamp":"2026-01-10T11:00:00Z"},
					"spec":{"type":"ExternalName","externalName":"db.example.com"}}`),
			},
			want: `
NAME   TYPE           CLUSTER-IP   EXTERNAL-IP      PORT(S)          AGE
web    ClusterIP      10.96.0.10   <none>           80/TCP,443/TCP   60m
np     NodePort       10.96.0.11   <none>           80:30080/TCP     60m
lb     LoadBalancer   10.96.0.12   <pending>        53:30053/UDP     60m
ext    ExternalName   <none>       db.example.com   <none>           60m
`,
		},
		{
			name: "nodes",
			objs: []Object{
				obj(t, nodMapping, `{"metadata":{"name":"node-1","creationTimestamp":"2026-01-01T12:00:00Z","labels":{"node-role.kubernetes.io/control-plane":""}},
					"status":{"conditions":[{"type":"Ready","status":"True"}],"nodeInfo":{"kubeletVersion":"v1.31.0-kl"}}}`),
				obj(t, nodMapping, `{"metadata":{"name":"node-2","creationTimestamp":"2026-01-01T12:00:00Z"},"spec":{"unschedulable":true},
					"status":{"conditions":[{"type":"Ready","status":"False"}]}}`),
				obj(t, nodMapping, `{"metadata":{"name":"node-3","creationTimestamp":"2026-01-01T12:00:00Z"},
					"status":{"conditions":[{"type":"Ready","status":"Unknown"}]}}`),
			},
			want: `
NAME     STATUS                        ROLES           AGE   VERSION
node-1   Ready                         control-plane   9d    v1.31.0-kl
node-2   NotReady,SchedulingDisabled   <none>          9d    <none>
node-3   Unknown                       <none>          9d    <none>
`,
		},
		{
			name: "events sorted by last timestamp",
			objs: []Object{
				obj(t, evtMapping, `{"metadata":{"name":"e2","creationTimestamp":"2026-01-10T11:59:00Z"},"involvedObject":{"kind":"Pod","name":"web-1"},
					"reason":"Started","message":"Started container web","type":"Normal","lastTimestamp":"2026-01-10T11:59:00Z","reportingComponent":""}`),
				obj(t, evtMapping, `{"metadata":{"name":"e1","creationTimestamp":"2026-01-10T11:50:00Z"},"involvedObject":{"kind":"Pod","name":"web-1"},
					"reason":"Scheduled","message":"Successfully assigned default/web-1 to node-1","type":"Normal","lastTimestamp":"2026-01-10T11:50:00Z","reportingComponent":""}`),
				obj(t, evtMapping, `{"metadata":{"name":"e3","creationTimestamp":"2026-01-10T11:40:00Z"},"involvedObject":{"kind":"Deployment","name":"web"},
					"reason":"BackOff","message":"Back-off restarting failed container","type":"Warning","count":3,"lastTimestamp":"2026-01-10T11:59:30Z","reportingComponent":""}`),
			},
			want: `
LAST SEEN   TYPE      REASON      OBJECT           MESSAGE
10m         Normal    Scheduled   pod/web-1        Successfully assigned default/web-1 to node-1
60s         Normal    Started     pod/web-1        Started container web
30s         Warning   BackOff     deployment/web   Back-off restarting failed container
`,
		},
		{
			name: "endpoints, configmaps, secrets, leases, namespaces",
			objs: []Object{
				obj(t, epMapping, `{"metadata":{"name":"web","creationTimestamp":"2026-01-10T11:00:00Z"},"subsets":[{"addresses":[{"ip":"10.1.0.5"},{"ip":"10.1.0.6"}],"ports":[{"port":80},{"port":443}]}]}`),
				obj(t, epMapping, `{"metadata":{"name":"none","creationTimestamp":"2026-01-10T11:00:00Z"}}`),
				obj(t, cmMapping, `{"metadata":{"name":"cfg","creationTimestamp":"2026-01-10T11:00:00Z"},"data":{"a":"1","b":"2"}}`),
				obj(t, secMapping, `{"metadata":{"name":"tls","creationTimestamp":"2026-01-10T11:00:00Z"},"type":"kubernetes.io/tls","data":{"tls.crt":"eA==","tls.key":"eA=="}}`),
				obj(t, lsMapping, `{"metadata":{"name":"kl-scheduler","creationTimestamp":"2026-01-10T11:00:00Z"},"spec":{"holderIdentity":"host-1_abc"}}`),
				obj(t, nsMapping, `{"metadata":{"name":"shop","creationTimestamp":"2026-01-10T11:00:00Z"},"status":{"phase":"Terminating"}}`),
			},
			want: `
NAME   ENDPOINTS                                          AGE
web    10.1.0.5:80,10.1.0.5:443,10.1.0.6:80 + 1 more...   60m
none   <none>                                             60m

NAME   DATA   AGE
cfg    2      60m

NAME   TYPE                DATA   AGE
tls    kubernetes.io/tls   2      60m

NAME           HOLDER       AGE
kl-scheduler   host-1_abc   60m

NAME   STATUS        AGE
shop   Terminating   60m
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkOutput(t, printString(t, tt.opts, tt.objs, false), tt.want)
		})
	}
}

func TestPrinter_SeveralKindsPrintKindSlashName(t *testing.T) {
	objs := []Object{
		testPods(t)[0],
		obj(t, svcMapping, `{"metadata":{"name":"web","creationTimestamp":"2026-01-10T11:00:00Z"},"spec":{"clusterIP":"10.96.0.10","ports":[{"port":80}]}}`),
	}
	checkOutput(t, printString(t, PrintOptions{WithKind: true}, objs, false), `
NAME        READY   STATUS    RESTARTS   AGE
pod/web-1   1/1     Running   0          5m

NAME          TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE
service/web   ClusterIP   10.96.0.10   <none>        80/TCP    60m
`)
	checkOutput(t, printString(t, PrintOptions{Output: "name"}, []Object{objs[0], objs[1],
		obj(t, depMapping, `{"metadata":{"name":"web"}}`)}, false), `
pod/web-1
service/web
deployment.apps/web
`)
}

func TestPrinter_YAMLAndJSON_SingleObjectOrList(t *testing.T) {
	cm := obj(t, cmMapping, `{"metadata":{"name":"cfg","namespace":"default"},"data":{"replicas":"3"},"binaryData":null}`)
	checkOutput(t, printString(t, PrintOptions{Output: "yaml"}, []Object{cm}, true), `
apiVersion: v1
binaryData: null
data:
  replicas: "3"
kind: ConfigMap
metadata:
  name: cfg
  namespace: default
`)
	checkOutput(t, printString(t, PrintOptions{Output: "yaml"}, []Object{cm}, false), `
apiVersion: v1
items:
- apiVersion: v1
  binaryData: null
  data:
    replicas: "3"
  kind: ConfigMap
  metadata:
    name: cfg
    namespace: default
kind: List
metadata:
  resourceVersion: ""
`)
	checkOutput(t, printString(t, PrintOptions{Output: "json"}, nil, false), `
{
    "apiVersion": "v1",
    "items": [],
    "kind": "List",
    "metadata": {
        "resourceVersion": ""
    }
}
`)
	n := obj(t, depMapping, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3,"ratio":0.5}}`)
	checkOutput(t, printString(t, PrintOptions{Output: "json"}, []Object{n}, true), `
{
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web"
    },
    "spec": {
        "ratio": 0.5,
        "replicas": 3
    }
}
`)
}

func TestPrinter_JSONPathAndCustomColumns(t *testing.T) {
	pods := testPods(t)[:3]
	checkOutput(t, printString(t, PrintOptions{Output: `jsonpath={range .items[*]}{.metadata.name}={.status.phase}{"\n"}{end}`}, pods, false), `
web-1=Running
web-2=Running
job-1=Succeeded
`)
	checkOutput(t, printString(t, PrintOptions{Output: `jsonpath={.metadata.name}`}, pods[:1], true), `web-1`)
	checkOutput(t, printString(t, PrintOptions{Output: `custom-columns=NAME:.metadata.name,IMAGES:.spec.containers[*].image,NODE:spec.nodeName,IP:{.status.podIP}`}, pods, false), `
NAME    IMAGES          NODE     IP
web-1   nginx           node-1   10.1.0.5
web-2   nginx,busybox   node-1   10.1.0.6
job-1   busybox         <none>   <none>
`)
}

func TestNewPrinter_RejectsUnknownFormats(t *testing.T) {
	for output, want := range map[string]string{
		"xml":                 `unable to match a printer suitable for the output format "xml"`,
		"jsonpath":            "no template given",
		"jsonpath={.a":        "unclosed action",
		"custom-columns=NAME": "expected <header>:<json-path-expr>",
		"custom-columns=":     "no custom columns given",
		"wide=1":              "takes no argument",
	} {
		_, err := NewPrinter(PrintOptions{Output: output})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewPrinter(-o %s) = %v, want an error containing %q", output, err, want)
		}
	}
}

func TestHumanDuration_MatchesKubectl(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-5 * time.Second:              "<invalid>",
		-500 * time.Millisecond:       "0s",
		5 * time.Second:               "5s",
		119 * time.Second:             "119s",
		3*time.Minute + 2*time.Second: "3m2s",
		4 * time.Minute:               "4m",
		45 * time.Minute:              "45m",
		179 * time.Minute:             "179m",
		4 * time.Hour:                 "4h",
		5*time.Hour + 30*time.Minute:  "5h30m",
		30 * time.Hour:                "30h",
		51 * time.Hour:                "2d3h",
		72 * time.Hour:                "3d",
		45 * 24 * time.Hour:           "45d",
		(2*365 + 30) * 24 * time.Hour: "2y30d",
		9 * 365 * 24 * time.Hour:      "9y",
	} {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
		}
	}
	if got := Age(time.Time{}, testNow); got != "<unknown>" {
		t.Errorf("Age(zero) = %q, want <unknown>", got)
	}
}

func TestPrinter_LeavesOutManagedFieldsUnlessAsked(t *testing.T) {
	cm := obj(t, cmMapping, `{"metadata":{"name":"cfg","managedFields":[{"manager":"kl","operation":"Apply"}]}}`)
	if got := printString(t, PrintOptions{Output: "yaml"}, []Object{cm}, true); strings.Contains(got, "managedFields") {
		t.Errorf("yaml shows managedFields:\n%s", got)
	}
	if got := printString(t, PrintOptions{Output: "json", ShowManagedFields: true}, []Object{cm}, true); !strings.Contains(got, `"manager": "kl"`) {
		t.Errorf("json with ShowManagedFields lacks them:\n%s", got)
	}
}
