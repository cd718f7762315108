package resource

import (
	"bytes"
	"strings"
	"testing"
)

const podListJSON = `{
  "kind": "List", "apiVersion": "v1",
  "items": [
    {"metadata": {"name": "web-1", "labels": {"app": "web", "app.kubernetes.io/name": "shop"}},
     "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}, {"name": "log", "image": "busybox"}]},
     "status": {"phase": "Running", "restartCount": 3, "ready": true,
                "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}]}},
    {"metadata": {"name": "web-2", "labels": {"app": "web"}},
     "spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]},
     "status": {"phase": "Pending", "restartCount": 0, "ready": false,
                "conditions": [{"type": "Ready", "status": "False"}]}}
  ]
}`

func mustValue(t *testing.T, s string) map[string]any {
	t.Helper()
	v, err := decodeValue([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJSONPath_KubectlTemplates(t *testing.T) {
	data := mustValue(t, podListJSON)
	tests := []struct {
		template string
		want     string
	}{
		{`{.kind}`, `List`},
		{`{.items[*].metadata.name}`, `web-1 web-2`},
		{`{range .items[*]}{.metadata.name}{"\n"}{end}`, "web-1\nweb-2\n"},
		{`{range .items[*]}{.metadata.name}{"\t"}{.status.phase}{"\n"}{end}`, "web-1\tRunning\nweb-2\tPending\n"},
		{`{.items[0].spec.containers[0].image}`, `nginx:1.25`},
		{`{.items[-1].metadata.name}`, `web-2`},
		{`{.items[0].spec.containers[*].name}`, `web log`},
		{`{.items[0:1].metadata.name}`, `web-1`},
		{`{.items[1:].metadata.name}`, `web-2`},
		{`{.items[::-1].metadata.name}`, `web-2 web-1`},
		{`{.items[0,1].status.phase}`, `Running Pending`},
		{`{.items[0].metadata.labels.app}`, `web`},
		{`{.items[0].metadata.labels.app\.kubernetes\.io/name}`, `shop`},
		{`{.items[0].metadata.labels['app.kubernetes.io/name']}`, `shop`},
		{`{.items[1].metadata.labels}`, `{"app":"web"}`},
		{`{.items[0].status.restartCount}`, `3`},
		{`{.items[0].status.ready}`, `true`},
		{`{.items[*].status.conditions[?(@.type=="Ready")].status}`, `True False`},
		{`{.items[?(@.status.phase=="Running")].metadata.name}`, `web-1`},
		{`{.items[?(@.status.phase!='Running')].metadata.name}`, `web-2`},
		{`{.items[?(@.status.restartCount>1)].metadata.name}`, `web-1`},
		{`{.items[?(@.status.restartCount<=0)].metadata.name}`, `web-2`},
		{`{.items[?(@.status.ready==true)].metadata.name}`, `web-1`},
		{`{.items[?(@.metadata.labels.app\.kubernetes\.io/name)].metadata.name}`, `web-1`},
		{`{..image}`, `nginx:1.25 busybox nginx:1.26`},
		{`{.items[0].metadata.*}`, `{"app":"web","app.kubernetes.io/name":"shop"} web-1`},
		{`name: {.items[0].metadata.name}!`, `name: web-1!`},
		{`{.missing}{.items[5].metadata.name}`, ``},
		{`{range .items[*]}[{range .spec.containers[*]}{.name},{end}]{end}`, `[web,log,][web,]`},
		{`{$.kind}`, `List`},
		{`{range.items[*]}{.metadata.name};{end}`, `web-1;web-2;`},
		{`{.items[0].metadata.name}{'\n'}`, "web-1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			jp, err := ParseJSONPath(tt.template)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			var b bytes.Buffer
			if err := jp.Execute(&b, data); err != nil {
				t.Fatalf("execute: %v", err)
			}
			if b.String() != tt.want {
				t.Errorf("got %q, want %q", b.String(), tt.want)
			}
		})
	}
}

func TestJSONPath_ParseErrors(t *testing.T) {
	for template, want := range map[string]string{
		`{.items[*]`:             "unclosed action",
		`{range .items[*]}{.x}`:  "missing {end}",
		`{end}`:                  "not in range",
		`{.items[?(@.a ~ "b")]}`: "unknown operator",
		`{.items[x]}`:            "invalid array index",
		`{.items[0}`:             "unterminated [",
		`{}`:                     "empty action",
		`{.items[1:2:0]}`:        "step must not be 0",
		`{.items[?(@.a=="b)]}`:   "unclosed action",
		`{.metadata.name .x}`:    "unexpected",
	} {
		_, err := ParseJSONPath(template)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseJSONPath(%q) = %v, want an error containing %q", template, err, want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "error parsing jsonpath "+template) {
			t.Errorf("ParseJSONPath(%q) error %q does not name the template", template, err)
		}
	}
}
