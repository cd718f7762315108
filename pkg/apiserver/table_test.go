package apiserver

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"
)

// kubectlAccept is the Accept header kubectl get sends for its tables.
const kubectlAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"

// getAccept sends a GET with an Accept header.
func (ts *testServer) getAccept(path, accept string) response {
	ts.t.Helper()
	req, err := http.NewRequest("GET", ts.url+path, nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	out := response{code: resp.StatusCode, body: data, header: resp.Header}
	_ = json.Unmarshal(data, &out.obj)
	return out
}

// wireTable is a Table as clients decode it.
type wireTable struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Metadata   struct {
		ResourceVersion    string `json:"resourceVersion"`
		Continue           string `json:"continue"`
		RemainingItemCount *int64 `json:"remainingItemCount"`
	} `json:"metadata"`
	ColumnDefinitions []struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		Format   string `json:"format"`
		Priority int32  `json:"priority"`
	} `json:"columnDefinitions"`
	Rows []struct {
		Cells      []any            `json:"cells"`
		Conditions []map[string]any `json:"conditions"`
		Object     map[string]any   `json:"object"`
	} `json:"rows"`
}

func decodeTable(t *testing.T, data []byte) wireTable {
	t.Helper()
	var tb wireTable
	if err := json.Unmarshal(data, &tb); err != nil {
		t.Fatalf("decode Table: %v\n%s", err, data)
	}
	if tb.Kind != "Table" {
		t.Fatalf("kind %q, want Table:\n%s", tb.Kind, data)
	}
	return tb
}

func (tb wireTable) columnNames() []string {
	var out []string
	for _, c := range tb.ColumnDefinitions {
		out = append(out, c.Name)
	}
	return out
}

var agePattern = regexp.MustCompile(`^\d+s$`)

// checkCells compares a row's cells with want; "AGE" matches any age in
// seconds, numbers are compared as JSON numbers (float64).
func checkCells(t *testing.T, got []any, want ...any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("cells %v, want %v", got, want)
	}
	for i := range want {
		if want[i] == "AGE" {
			if s, _ := got[i].(string); !agePattern.MatchString(s) {
				t.Errorf("cell %d = %v, want an age in seconds", i, got[i])
			}
			continue
		}
		if got[i] != want[i] {
			t.Errorf("cell %d = %#v, want %#v (cells %v)", i, got[i], want[i], got)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTable_ListAnswersKubectlWithPodColumnsAndMetadata(t *testing.T) {
	ts := startServer(t)
	ts.post("/api/v1/namespaces/default/pods", pod("web-1")).must(t, http.StatusCreated)
	ts.post("/api/v1/namespaces/default/pods", pod("web-2")).must(t, http.StatusCreated)

	tb := decodeTable(t, ts.getAccept("/api/v1/namespaces/default/pods", kubectlAccept).must(t, http.StatusOK).body)
	if tb.APIVersion != "meta.k8s.io/v1" || tb.Metadata.ResourceVersion == "" {
		t.Errorf("apiVersion %q resourceVersion %q, want meta.k8s.io/v1 and a resourceVersion", tb.APIVersion, tb.Metadata.ResourceVersion)
	}
	want := []string{"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"}
	if got := tb.columnNames(); !equalStrings(got, want) {
		t.Fatalf("columns %v, want %v", got, want)
	}
	for i, c := range tb.ColumnDefinitions {
		wantPriority := int32(0)
		if i >= 5 {
			wantPriority = 1
		}
		if c.Priority != wantPriority || c.Type != "string" {
			t.Errorf("column %s: priority %d type %q, want %d string", c.Name, c.Priority, c.Type, wantPriority)
		}
	}
	if tb.ColumnDefinitions[0].Format != "name" {
		t.Errorf("Name column format %q, want name", tb.ColumnDefinitions[0].Format)
	}
	if len(tb.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(tb.Rows))
	}
	checkCells(t, tb.Rows[0].Cells, "web-1", "0/1", "Pending", "0", "AGE", "<none>", "<none>", "<none>", "<none>")
	// includeObject defaults to Metadata: the row's object is a
	// PartialObjectMetadata, which kubectl reads the NAMESPACE column from.
	obj := tb.Rows[1].Object
	if obj["kind"] != "PartialObjectMetadata" || obj["apiVersion"] != "meta.k8s.io/v1" ||
		dig(obj, "metadata", "name") != "web-2" || dig(obj, "metadata", "namespace") != "default" ||
		dig(obj, "metadata", "labels", "app") != "web" || obj["spec"] != nil {
		t.Errorf("row object = %v, want web-2's PartialObjectMetadata", obj)
	}
}

func TestTable_IncludeObjectChoosesWhatRowsCarry(t *testing.T) {
	ts := startServer(t)
	ts.post("/api/v1/namespaces/default/configmaps", configMap("cfg", map[string]any{"a": "1", "b": "2"})).must(t, http.StatusCreated)
	tests := []struct {
		include  string
		wantKind any // of the row's object; nil: no object
	}{
		{"", "PartialObjectMetadata"},
		{"Metadata", "PartialObjectMetadata"},
		{"Object", "ConfigMap"},
		{"None", nil},
	}
	for _, tt := range tests {
		t.Run("includeObject="+tt.include, func(t *testing.T) {
			path := "/api/v1/namespaces/default/configmaps"
			if tt.include != "" {
				path += "?includeObject=" + tt.include
			}
			tb := decodeTable(t, ts.getAccept(path, kubectlAccept).must(t, http.StatusOK).body)
			if len(tb.Rows) != 1 {
				t.Fatalf("%d rows, want 1", len(tb.Rows))
			}
			checkCells(t, tb.Rows[0].Cells, "cfg", float64(2), "AGE")
			row := tb.Rows[0]
			if got := row.Object["kind"]; got != tt.wantKind {
				t.Errorf("row object kind %v, want %v", got, tt.wantKind)
			}
			if tt.include == "Object" && dig(row.Object, "data", "a") != "1" {
				t.Errorf("row object %v, want the whole ConfigMap", row.Object)
			}
		})
	}
	r := ts.getAccept("/api/v1/namespaces/default/configmaps?includeObject=Everything", kubectlAccept).must(t, http.StatusBadRequest)
	if msg := r.str("message"); !regexp.MustCompile(`^Unable to convert to Table as requested: includeObject: Unsupported value: "Everything"`).MatchString(msg) {
		t.Errorf("message %q", msg)
	}
}

func TestTable_GetAnswersOneRow(t *testing.T) {
	ts := startServer(t)
	tb := decodeTable(t, ts.getAccept("/api/v1/namespaces/default", kubectlAccept).must(t, http.StatusOK).body)
	if got := tb.columnNames(); !equalStrings(got, []string{"Name", "Status", "Age"}) {
		t.Fatalf("columns %v", got)
	}
	if len(tb.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(tb.Rows))
	}
	checkCells(t, tb.Rows[0].Cells, "default", "Active", "AGE")
	if tb.Metadata.ResourceVersion == "" || tb.Metadata.ResourceVersion != dig(tb.Rows[0].Object, "metadata", "resourceVersion") {
		t.Errorf("table resourceVersion %q, want the object's (%v)", tb.Metadata.ResourceVersion, dig(tb.Rows[0].Object, "metadata", "resourceVersion"))
	}

	ts.post("/apis/apps/v1/namespaces/default/deployments", deployment("web", 3)).must(t, http.StatusCreated)
	tb = decodeTable(t, ts.getAccept("/apis/apps/v1/namespaces/default/deployments/web", kubectlAccept).must(t, http.StatusOK).body)
	if got := tb.columnNames(); !equalStrings(got, []string{"Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"}) {
		t.Fatalf("columns %v", got)
	}
	checkCells(t, tb.Rows[0].Cells, "web", "0/3", float64(0), float64(0), "AGE", "c", "nginx:1.27", "app=web")

	r := ts.getAccept("/api/v1/namespaces/default/pods/nope", kubectlAccept).must(t, http.StatusNotFound)
	if r.str("kind") != "Status" {
		t.Errorf("a missing object is a Status, got %s", r.body)
	}
}

func TestTable_PaginatedListKeepsContinue(t *testing.T) {
	ts := startServer(t)
	for _, n := range []string{"a", "b", "c"} {
		ts.post("/api/v1/namespaces/default/configmaps", configMap(n, nil)).must(t, http.StatusCreated)
	}
	tb := decodeTable(t, ts.getAccept("/api/v1/namespaces/default/configmaps?limit=2", kubectlAccept).must(t, http.StatusOK).body)
	if len(tb.Rows) != 2 || tb.Metadata.Continue == "" || tb.Metadata.RemainingItemCount == nil || *tb.Metadata.RemainingItemCount != 1 {
		t.Fatalf("rows %d continue %q remaining %v, want 2 rows, a continue token and 1 remaining", len(tb.Rows), tb.Metadata.Continue, tb.Metadata.RemainingItemCount)
	}
	tb = decodeTable(t, ts.getAccept("/api/v1/namespaces/default/configmaps?limit=2&continue="+tb.Metadata.Continue, kubectlAccept).must(t, http.StatusOK).body)
	if len(tb.Rows) != 1 || tb.Rows[0].Cells[0] != "c" || tb.Metadata.Continue != "" {
		t.Fatalf("second page: %+v", tb)
	}
	tb = decodeTable(t, ts.getAccept("/api/v1/namespaces/default/configmaps?labelSelector=none%3Dx", kubectlAccept).must(t, http.StatusOK).body)
	if tb.Rows == nil || len(tb.Rows) != 0 {
		t.Errorf("an empty list is a Table with rows: [], got %v", tb.Rows)
	}
}

func TestTable_AcceptNegotiation(t *testing.T) {
	ts := startServer(t)
	ts.post("/api/v1/namespaces/default/pods", pod("web")).must(t, http.StatusCreated)
	tests := []struct {
		accept   string
		wantKind string
		wantAPI  string
	}{
		{kubectlAccept, "Table", "meta.k8s.io/v1"},
		{"application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json", "Table", "meta.k8s.io/v1beta1"},
		{"application/json;as=Table;g=meta.k8s.io;v=v1", "Table", "meta.k8s.io/v1"},
		{"application/json;q=0.9, application/json;as=Table;v=v1;g=meta.k8s.io", "Table", "meta.k8s.io/v1"},
		{"", "PodList", "v1"},
		{"application/json", "PodList", "v1"},
		{"*/*", "PodList", "v1"},
		{"application/json, application/json;as=Table;v=v1;g=meta.k8s.io", "PodList", "v1"},
		{"application/json;as=Table;v=v2;g=meta.k8s.io,application/json", "PodList", "v1"},
		{"application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json", "PodList", "v1"},
		{"application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json", "PodList", "v1"},
		{"application/json;as=Table;v=v1;g=meta.k8s.io;q=0", "PodList", "v1"},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			r := ts.getAccept("/api/v1/namespaces/default/pods", tt.accept).must(t, http.StatusOK)
			if r.str("kind") != tt.wantKind || r.str("apiVersion") != tt.wantAPI {
				t.Errorf("got %s %s, want %s %s", r.str("apiVersion"), r.str("kind"), tt.wantAPI, tt.wantKind)
			}
		})
	}
}

// watchAccept opens a watch with an Accept header and returns its events.
func (ts *testServer) watchAccept(path, accept string) *watchStream {
	ts.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.url+path, nil)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		ts.t.Fatalf("watch %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		ts.t.Fatalf("watch %s: HTTP %d: %s", path, resp.StatusCode, data)
	}
	ws := &watchStream{resp: resp, events: make(chan map[string]any, 100), cancel: cancel}
	go func() {
		defer close(ws.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				ws.events <- ev
			}
		}
	}()
	ts.t.Cleanup(ws.stop)
	return ws
}

// eventTable returns a watch event's type and its object as a Table.
func eventTable(t *testing.T, ev map[string]any) (string, wireTable) {
	t.Helper()
	data, err := json.Marshal(ev["object"])
	if err != nil {
		t.Fatal(err)
	}
	typ, _ := ev["type"].(string)
	return typ, decodeTable(t, data)
}

func TestTable_WatchStreamsOneRowTablesWithHeadersFirst(t *testing.T) {
	ts := startServer(t)
	ts.post("/api/v1/namespaces/default/pods", pod("web-1")).must(t, http.StatusCreated)
	ws := ts.watchAccept("/api/v1/namespaces/default/pods?watch=true", kubectlAccept)

	typ, tb := eventTable(t, ws.next(t))
	if typ != "ADDED" || len(tb.ColumnDefinitions) != 9 || len(tb.Rows) != 1 {
		t.Fatalf("first event %s with %d columns and %d rows, want ADDED, 9, 1", typ, len(tb.ColumnDefinitions), len(tb.Rows))
	}
	checkCells(t, tb.Rows[0].Cells, "web-1", "0/1", "Pending", "0", "AGE", "<none>", "<none>", "<none>", "<none>")
	if tb.Metadata.ResourceVersion == "" || tb.Rows[0].Object["kind"] != "PartialObjectMetadata" {
		t.Errorf("first event: resourceVersion %q, row object %v", tb.Metadata.ResourceVersion, tb.Rows[0].Object)
	}

	ts.post("/api/v1/namespaces/default/pods", pod("web-2")).must(t, http.StatusCreated)
	typ, tb = eventTable(t, ws.next(t))
	if typ != "ADDED" || tb.ColumnDefinitions != nil || len(tb.Rows) != 1 {
		t.Fatalf("second event %s with columns %v and %d rows, want ADDED, no columns, 1 row", typ, tb.ColumnDefinitions, len(tb.Rows))
	}
	checkCells(t, tb.Rows[0].Cells, "web-2", "0/1", "Pending", "0", "AGE", "<none>", "<none>", "<none>", "<none>")

	ts.del("/api/v1/namespaces/default/pods/web-1").must(t, http.StatusOK)
	typ, tb = eventTable(t, ws.next(t))
	if typ != "DELETED" || len(tb.Rows) != 1 || tb.Rows[0].Cells[0] != "web-1" {
		t.Fatalf("third event %s %+v, want web-1 DELETED", typ, tb.Rows)
	}
}

func TestTable_WatchListEndsInitialEventsWithATableBookmark(t *testing.T) {
	ts := startServer(t)
	ts.post("/api/v1/namespaces/default/configmaps", configMap("cfg", nil)).must(t, http.StatusCreated)
	ws := ts.watchAccept("/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&includeObject=Object", kubectlAccept)
	typ, tb := eventTable(t, ws.next(t))
	if typ != "ADDED" || len(tb.Rows) != 1 || tb.Rows[0].Object["kind"] != "ConfigMap" {
		t.Fatalf("first event %s %+v, want the ConfigMap ADDED", typ, tb.Rows)
	}
	typ, tb = eventTable(t, ws.next(t))
	if typ != "BOOKMARK" || tb.Metadata.ResourceVersion == "" || len(tb.Rows) != 1 ||
		dig(tb.Rows[0].Object, "metadata", "annotations", initialEventsEndAnnotation) != "true" {
		t.Fatalf("second event %s %+v, want the initial-events-end BOOKMARK", typ, tb)
	}
}

func TestTable_WatchWithoutTableIsUnchanged(t *testing.T) {
	ts := startServer(t)
	ts.post("/api/v1/namespaces/default/pods", pod("web-1")).must(t, http.StatusCreated)
	ws := ts.watchAccept("/api/v1/namespaces/default/pods?watch=true", "application/json")
	ev := ws.next(t)
	if typ, name := eventName(ev); typ != "ADDED" || name != "web-1" || dig(ev, "object", "kind") != "Pod" {
		t.Fatalf("event %v, want web-1 ADDED as a Pod", ev)
	}
	ws.none(t, 100*time.Millisecond)
}
