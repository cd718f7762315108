package printers

import (
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

// kinds is every kind kl serves, by group and kind.
var kinds = []struct{ group, kind string }{
	{"", "Pod"}, {"", "Service"}, {"", "Node"}, {"", "Namespace"}, {"", "ConfigMap"}, {"", "Secret"},
	{"", "Endpoints"}, {"", "ServiceAccount"}, {"", "Event"},
	{"apps", "Deployment"}, {"apps", "ReplicaSet"}, {"coordination.k8s.io", "Lease"},
}

// headers returns a table's column headers; wide ones end in "+".
func headers(t *Table) string {
	var out []string
	for _, c := range t.Columns {
		h := c.Header()
		if c.Priority > 0 {
			h += "+"
		}
		out = append(out, h)
	}
	return strings.Join(out, ",")
}

func TestFor_ColumnsAreKubectls(t *testing.T) {
	want := map[string]string{
		"/Pod":                      "NAME,READY,STATUS,RESTARTS,AGE,IP+,NODE+,NOMINATED NODE+,READINESS GATES+",
		"apps/Deployment":           "NAME,READY,UP-TO-DATE,AVAILABLE,AGE,CONTAINERS+,IMAGES+,SELECTOR+",
		"apps/ReplicaSet":           "NAME,DESIRED,CURRENT,READY,AGE,CONTAINERS+,IMAGES+,SELECTOR+",
		"/Service":                  "NAME,TYPE,CLUSTER-IP,EXTERNAL-IP,PORT(S),AGE,SELECTOR+",
		"/Node":                     "NAME,STATUS,ROLES,AGE,VERSION,INTERNAL-IP+,EXTERNAL-IP+,OS-IMAGE+,KERNEL-VERSION+,CONTAINER-RUNTIME+",
		"/Namespace":                "NAME,STATUS,AGE",
		"/ConfigMap":                "NAME,DATA,AGE",
		"/Secret":                   "NAME,TYPE,DATA,AGE",
		"/Endpoints":                "NAME,ENDPOINTS,AGE",
		"/ServiceAccount":           "NAME,SECRETS,AGE",
		"coordination.k8s.io/Lease": "NAME,HOLDER,AGE",
		"/Event":                    "LAST SEEN,TYPE,REASON,OBJECT,SUBOBJECT+,SOURCE+,MESSAGE,FIRST SEEN+,COUNT+,NAME+",
		"example.com/Widget":        "NAME,AGE",
	}
	for key, w := range want {
		group, kind, _ := strings.Cut(key, "/")
		tb := For(group, kind)
		if got := headers(tb); got != w {
			t.Errorf("%s: columns %s, want %s", key, got, w)
		}
		if i := tb.NameColumn(); i < 0 || tb.Columns[i].Header() != "NAME" {
			t.Errorf("%s: name column %d", key, i)
		}
		for _, c := range tb.Columns {
			if c.Type != "string" && c.Type != "integer" || c.Description == "" {
				t.Errorf("%s: column %s has type %q description %q", key, c.Name, c.Type, c.Description)
			}
		}
	}
}

func TestTable_RowCellsOfEveryKind(t *testing.T) {
	tests := []struct {
		group, kind, json string
		want              []any
	}{
		{"", "Pod", `{"metadata":{"name":"web-2","namespace":"default","creationTimestamp":"2026-01-08T09:00:00Z"},
			"spec":{"nodeName":"node-1","containers":[{"name":"web","image":"nginx"},{"name":"log","image":"busybox"}]},
			"status":{"phase":"Running","podIP":"10.1.0.6","nominatedNodeName":"node-2",
			  "containerStatuses":[
			    {"name":"web","ready":false,"restartCount":5,"image":"nginx","imageID":"","state":{"waiting":{"reason":"CrashLoopBackOff"}},
			     "lastState":{"terminated":{"exitCode":1,"finishedAt":"2026-01-10T11:58:00Z"}}},
			    {"name":"log","ready":true,"restartCount":0,"image":"busybox","imageID":"","state":{"running":{}}}]}}`,
			[]any{"web-2", "1/2", "CrashLoopBackOff", "5 (2m ago)", "2d3h", "10.1.0.6", "node-1", "node-2", "<none>"}},
		{"apps", "Deployment", `{"metadata":{"name":"web","creationTimestamp":"2026-01-10T08:00:00Z"},
			"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.25"},{"name":"log","image":"busybox"}]}}},
			"status":{"replicas":3,"updatedReplicas":2,"readyReplicas":2,"availableReplicas":1}}`,
			[]any{"web", "2/3", int64(2), int64(1), "4h", "web,log", "nginx:1.25,busybox", "app=web"}},
		{"apps", "ReplicaSet", `{"metadata":{"name":"web-5d9c","creationTimestamp":"2026-01-10T11:00:00Z"},
			"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"spec":{"containers":[{"name":"web","image":"nginx"}]}}},
			"status":{"replicas":2,"readyReplicas":1}}`,
			[]any{"web-5d9c", int64(1), int64(2), int64(1), "60m", "web", "nginx", "app=web"}},
		{"", "Service", `{"metadata":{"name":"lb","creationTimestamp":"2026-01-10T11:00:00Z"},
			"spec":{"type":"LoadBalancer","clusterIP":"10.96.0.12","selector":{"tier":"b","app":"a"},"ports":[{"port":53,"nodePort":30053,"protocol":"UDP"},{"port":80}]}}`,
			[]any{"lb", "LoadBalancer", "10.96.0.12", "<pending>", "53:30053/UDP,80/TCP", "60m", "app=a,tier=b"}},
		{"", "Node", `{"metadata":{"name":"node-1","creationTimestamp":"2026-01-01T12:00:00Z","labels":{"node-role.kubernetes.io/control-plane":""}},
			"spec":{"unschedulable":true},
			"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"}],"conditions":[{"type":"Ready","status":"True"}],"nodeInfo":{"kubeletVersion":"v1.31.0-kl"}}}`,
			[]any{"node-1", "Ready,SchedulingDisabled", "control-plane", "9d", "v1.31.0-kl", "10.0.0.1", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
		{"", "Namespace", `{"metadata":{"name":"shop","creationTimestamp":"2026-01-10T11:59:58Z"},"status":{"phase":"Active"}}`,
			[]any{"shop", "Active", "2s"}},
		{"", "ConfigMap", `{"metadata":{"name":"cfg"},"data":{"a":"1"},"binaryData":{"b":"eA=="}}`,
			[]any{"cfg", int64(2), "<unknown>"}},
		{"", "Secret", `{"metadata":{"name":"tls","creationTimestamp":"2026-01-10T11:00:00Z"},"type":"kubernetes.io/tls","data":{"tls.crt":"eA==","tls.key":"eA=="}}`,
			[]any{"tls", "kubernetes.io/tls", int64(2), "60m"}},
		{"", "Endpoints", `{"metadata":{"name":"web","creationTimestamp":"2026-01-10T11:00:00Z"},"subsets":[{"addresses":[{"ip":"10.1.0.5"},{"ip":"10.1.0.6"}],"ports":[{"port":80},{"port":443}]}]}`,
			[]any{"web", "10.1.0.5:80,10.1.0.5:443,10.1.0.6:80 + 1 more...", "60m"}},
		{"", "ServiceAccount", `{"metadata":{"name":"default","creationTimestamp":"2026-01-10T11:00:00Z"},"secrets":[{"name":"a"}]}`,
			[]any{"default", int64(1), "60m"}},
		{"coordination.k8s.io", "Lease", `{"metadata":{"name":"kl-scheduler","creationTimestamp":"2026-01-10T11:00:00Z"},"spec":{"holderIdentity":"host-1_abc"}}`,
			[]any{"kl-scheduler", "host-1_abc", "60m"}},
		{"", "Event", `{"metadata":{"name":"web.1","namespace":"default","creationTimestamp":"2026-01-10T11:40:00Z"},
			"involvedObject":{"kind":"Pod","name":"web","fieldPath":"spec.containers{web}"},"source":{"component":"kubelet","host":"node-1"},
			"reason":"BackOff","message":"Back-off restarting failed container\n","type":"Warning","count":3,
			"firstTimestamp":"2026-01-10T11:40:00Z","lastTimestamp":"2026-01-10T11:59:30Z"}`,
			[]any{"30s", "Warning", "BackOff", "pod/web", "spec.containers{web}", "kubelet, node-1", "Back-off restarting failed container", "20m", int64(3), "web.1"}},
		{"example.com", "Widget", `{"metadata":{"name":"w","creationTimestamp":"2026-01-10T11:00:00Z"},"spec":{"size":3}}`,
			[]any{"w", "60m"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			row, err := For(tt.group, tt.kind).Row([]byte(tt.json), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(row.Cells) != len(tt.want) {
				t.Fatalf("cells %#v, want %#v", row.Cells, tt.want)
			}
			for i := range tt.want {
				if row.Cells[i] != tt.want[i] {
					t.Errorf("cell %d = %#v, want %#v", i, row.Cells[i], tt.want[i])
				}
			}
			if row.Metadata.Name == "" {
				t.Errorf("row metadata has no name: %+v", row.Metadata)
			}
		})
	}
}

func TestTable_EveryKindPrintsAnEmptyObject(t *testing.T) {
	for _, k := range kinds {
		tb := For(k.group, k.kind)
		row, err := tb.Row([]byte(`{"metadata":{"name":"x"}}`), testNow)
		if err != nil {
			t.Errorf("%s: %v", k.kind, err)
			continue
		}
		if len(row.Cells) != len(tb.Columns) || row.Cells[tb.NameColumn()] != "x" {
			t.Errorf("%s: cells %v for %d columns", k.kind, row.Cells, len(tb.Columns))
		}
	}
}

func TestTable_RowRejectsWhatIsNotTheKind(t *testing.T) {
	_, err := For("", "Pod").Row([]byte(`{"spec":"not an object"}`), testNow)
	if err == nil || !strings.Contains(err.Error(), "decode Pod") {
		t.Errorf("err = %v, want a decode Pod error", err)
	}
}

func TestTable_FinishedPodsCarryTheCompletedCondition(t *testing.T) {
	for phase, reason := range map[string]string{"Succeeded": "Succeeded", "Failed": "Failed", "Running": ""} {
		row, err := For("", "Pod").Row([]byte(`{"metadata":{"name":"p"},"status":{"phase":"`+phase+`"}}`), testNow)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if len(row.Conditions) == 1 && row.Conditions[0].Type == "Completed" && row.Conditions[0].Status == "True" {
			got = row.Conditions[0].Reason
		}
		if got != reason || (reason == "" && len(row.Conditions) > 0) {
			t.Errorf("%s pod: conditions %+v, want Completed=%q", phase, row.Conditions, reason)
		}
	}
}

func TestTable_CLIColumnsAreKlGetsLayout(t *testing.T) {
	names := func(tb *Table, wide bool) string {
		var out []string
		for _, i := range tb.CLIColumns(wide) {
			out = append(out, tb.Columns[i].Header())
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		group, kind string
		wide        bool
		want        string
	}{
		{"", "Pod", false, "NAME,READY,STATUS,RESTARTS,AGE"},
		{"", "Pod", true, "NAME,READY,STATUS,RESTARTS,AGE,IP,NODE"},
		{"", "Event", false, "LAST SEEN,TYPE,REASON,OBJECT,MESSAGE"},
		{"", "Event", true, "LAST SEEN,TYPE,REASON,OBJECT,MESSAGE,NAME,SOURCE,FIRST SEEN,COUNT"},
		{"apps", "Deployment", false, "NAME,READY,UP-TO-DATE,AVAILABLE,AGE"},
		{"apps", "Deployment", true, "NAME,READY,UP-TO-DATE,AVAILABLE,AGE,CONTAINERS,IMAGES,SELECTOR"},
		{"", "Service", true, "NAME,TYPE,CLUSTER-IP,EXTERNAL-IP,PORT(S),AGE,SELECTOR"},
		{"", "Namespace", true, "NAME,STATUS,AGE"},
	}
	for _, tt := range tests {
		if got := names(For(tt.group, tt.kind), tt.wide); got != tt.want {
			t.Errorf("%s wide=%v: %s, want %s", tt.kind, tt.wide, got, tt.want)
		}
	}
}

func TestFormatCell(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want string
	}{{"1/1", "1/1"}, {int64(3), "3"}, {nil, ""}, {true, "true"}} {
		if got := FormatCell(tt.in); got != tt.want {
			t.Errorf("FormatCell(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAge_UnknownForAZeroTime(t *testing.T) {
	if got := Age(time.Time{}, testNow); got != "<unknown>" {
		t.Errorf("Age(zero) = %q", got)
	}
	if got := Age(testNow.Add(-90*time.Second), testNow); got != "90s" {
		t.Errorf("Age(90s ago) = %q", got)
	}
}
