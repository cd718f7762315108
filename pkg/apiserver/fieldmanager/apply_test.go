package fieldmanager_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/fieldmanager"
)

// step is one write in a scenario: an apply of a configuration, an Update
// (a merge patch by a non-apply manager), or defaulting by the apiserver
// (a merge patch with no bookkeeping).
type step struct {
	manager  string
	apply    string // YAML configuration applied by manager
	force    bool
	update   string // YAML merge patch written by manager as an Update
	defaults string // YAML merge patch written without bookkeeping

	wantErr   string              // the apply must fail with exactly this message
	want      string              // YAML of the whole object afterwards ("" = not checked)
	owners    map[string][]string // "manager/Operation" -> owned paths (nil = not checked)
	unchanged bool                // object and managedFields must be exactly as before
}

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "nginx:1.25"}
`

// deploymentOwners is what "kl" owns after applying deployment.
var deploymentOwners = []string{
	".metadata.labels.app",
	".spec.replicas",
	".spec.selector.matchLabels.app",
	".spec.template.metadata.labels.app",
	`.spec.template.spec.containers[name="web"]`,
	`.spec.template.spec.containers[name="web"].image`,
	`.spec.template.spec.containers[name="web"].name`,
}

func without(paths []string, drop ...string) []string {
	var out []string
	for _, p := range paths {
		keep := true
		for _, d := range drop {
			if p == d {
				keep = false
			}
		}
		if keep {
			out = append(out, p)
		}
	}
	return out
}

func TestApplyScenarios(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "first apply creates the object and gives the applier its fields",
			steps: []step{{
				manager: "kl", apply: deployment, want: deployment,
				owners: map[string][]string{"kl/Apply": deploymentOwners},
			}},
		},
		{
			name: "re-applying an unchanged config changes nothing, not even times",
			steps: []step{
				{manager: "kl", apply: deployment},
				{defaults: `{spec: {strategy: {type: RollingUpdate}, template: {spec: {restartPolicy: Always}}}, status: {replicas: 3}}`},
				{manager: "kl", apply: deployment, unchanged: true},
				{manager: "kl", apply: deployment, unchanged: true},
			},
		},
		{
			name: "a field dropped from the config is removed, and maps it empties go too",
			steps: []step{
				{manager: "kl", apply: `
metadata: {name: web, labels: {app: web, tier: front}, annotations: {note: hello}}
spec: {replicas: 3}`},
				{manager: "kl", apply: `
metadata: {name: web, labels: {app: web}}
spec: {replicas: 3}`,
					want: `
metadata: {name: web, labels: {app: web}}
spec: {replicas: 3}`,
					owners: map[string][]string{"kl/Apply": {".metadata.labels.app", ".spec.replicas"}}},
			},
		},
		{
			name: "a field another manager set survives a config that never set it",
			steps: []step{
				{manager: "kl", apply: `{metadata: {name: web}, spec: {paused: false}}`},
				{manager: "kl-scale", update: `{spec: {replicas: 5}}`,
					owners: map[string][]string{"kl/Apply": {".spec.paused"}, "kl-scale/Update": {".spec.replicas"}}},
				{manager: "kl", apply: `{metadata: {name: web}, spec: {paused: false}}`, unchanged: true,
					want: `{metadata: {name: web}, spec: {paused: false, replicas: 5}}`},
			},
		},
		{
			name: "changing a field another manager owns is a conflict; the same value shares it",
			steps: []step{
				{manager: "kl", apply: deployment},
				{manager: "kl-scale", update: `{spec: {replicas: 5}}`,
					owners: map[string][]string{
						"kl/Apply":        without(deploymentOwners, ".spec.replicas"),
						"kl-scale/Update": {".spec.replicas"},
					}},
				{manager: "kl", apply: deployment,
					wantErr: `Apply failed with 1 conflict: conflict with "kl-scale" using apps/v1: .spec.replicas`},
				{manager: "kl", apply: strings.Replace(deployment, "replicas: 3", "replicas: 5", 1),
					owners: map[string][]string{"kl/Apply": deploymentOwners, "kl-scale/Update": {".spec.replicas"}}},
			},
		},
		{
			name: "force takes a conflicting field over",
			steps: []step{
				{manager: "kl", apply: deployment},
				{manager: "kl-scale", update: `{spec: {replicas: 5}}`},
				{manager: "kl", apply: deployment, force: true, want: deployment,
					owners: map[string][]string{"kl/Apply": deploymentOwners}},
			},
		},
		{
			name: "conflicts are listed per manager in Kubernetes' wording",
			steps: []step{
				{manager: "kl", apply: deployment},
				{manager: "kl-scale", update: `{spec: {replicas: 5}}`},
				{manager: "kl-edit", update: `{spec: {template: {spec: {containers: [{name: web, image: "nginx:1.26"}]}}}}`},
				{manager: "kl", apply: deployment, wantErr: `Apply failed with 2 conflicts: conflicts with "kl-edit" using apps/v1:
- .spec.template.spec.containers[name="web"].image
conflicts with "kl-scale" using apps/v1:
- .spec.replicas`},
			},
		},
		{
			name: "a manager never conflicts with its own updates",
			steps: []step{
				{manager: "kl", apply: deployment},
				{manager: "kl", update: `{spec: {replicas: 5}}`,
					owners: map[string][]string{"kl/Apply": without(deploymentOwners, ".spec.replicas"), "kl/Update": {".spec.replicas"}}},
				{manager: "kl", apply: deployment, want: deployment,
					owners: map[string][]string{"kl/Apply": deploymentOwners}},
			},
		},
		{
			name: "a label added by kl label survives re-apply",
			steps: []step{
				{manager: "kl", apply: deployment},
				{manager: "kl-label", update: `{metadata: {labels: {env: prod}}}`,
					owners: map[string][]string{"kl/Apply": deploymentOwners, "kl-label/Update": {".metadata.labels.env"}}},
				{manager: "kl", apply: deployment, unchanged: true,
					want: strings.Replace(deployment, "labels: {app: web}}", "labels: {app: web, env: prod}}", 1)},
			},
		},
		{
			name: "containers merge by name",
			steps: []step{
				{manager: "kl", apply: deployment},
				{manager: "injector", update: `{spec: {template: {spec: {containers: [
					{name: web, image: "nginx:1.25"}, {name: sidecar, image: envoy}]}}}}`,
					owners: map[string][]string{
						"kl/Apply": deploymentOwners,
						"injector/Update": {
							`.spec.template.spec.containers[name="sidecar"]`,
							`.spec.template.spec.containers[name="sidecar"].image`,
							`.spec.template.spec.containers[name="sidecar"].name`,
						},
					}},
				{manager: "kl", apply: strings.Replace(deployment, "nginx:1.25", "nginx:1.26", 1),
					want: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "nginx:1.26"}
      - {name: sidecar, image: envoy}`},
				{manager: "kl", apply: strings.Replace(deployment, "{name: web, image: \"nginx:1.25\"}", "{name: api, image: \"api:1\"}", 1),
					want: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: sidecar, image: envoy}
      - {name: api, image: "api:1"}`},
			},
		},
		{
			name: "env merges by name",
			steps: []step{
				{manager: "kl", apply: `
metadata: {name: web}
spec: {template: {spec: {containers: [{name: web, env: [{name: A, value: "1"}, {name: B, value: "2"}]}]}}}`},
				{manager: "operator", update: `
spec: {template: {spec: {containers: [{name: web, env: [{name: A, value: "1"}, {name: B, value: "2"}, {name: C, value: "3"}]}]}}}`},
				{manager: "kl", apply: `
metadata: {name: web}
spec: {template: {spec: {containers: [{name: web, env: [{name: A, value: "10"}]}]}}}`,
					want: `
metadata: {name: web}
spec: {template: {spec: {containers: [{name: web, env: [{name: A, value: "10"}, {name: C, value: "3"}]}]}}}`,
					owners: map[string][]string{
						"kl/Apply": {
							`.spec.template.spec.containers[name="web"]`,
							`.spec.template.spec.containers[name="web"].env[name="A"]`,
							`.spec.template.spec.containers[name="web"].env[name="A"].name`,
							`.spec.template.spec.containers[name="web"].env[name="A"].value`,
							`.spec.template.spec.containers[name="web"].name`,
						},
						"operator/Update": {
							`.spec.template.spec.containers[name="web"].env[name="C"]`,
							`.spec.template.spec.containers[name="web"].env[name="C"].name`,
							`.spec.template.spec.containers[name="web"].env[name="C"].value`,
						},
					}},
			},
		},
		{
			name: "service ports merge by port and protocol, missing protocol meaning TCP",
			steps: []step{
				{manager: "kl", apply: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{name: http, port: 80}, {name: https, port: 443}]}`},
				{defaults: `
spec:
  type: ClusterIP
  clusterIP: 10.0.0.5
  ports: [{name: http, port: 80, protocol: TCP, targetPort: 80}, {name: https, port: 443, protocol: TCP, targetPort: 443}]`},
				{manager: "dns-operator", update: `
spec:
  ports:
  - {name: http, port: 80, protocol: TCP, targetPort: 80}
  - {name: https, port: 443, protocol: TCP, targetPort: 443}
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}`},
				{manager: "kl", apply: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{name: http, port: 80}, {name: dns-tcp, port: 53}]}`,
					want: `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: ClusterIP
  clusterIP: 10.0.0.5
  ports:
  - {name: http, port: 80, protocol: TCP, targetPort: 80}
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53}`,
					owners: map[string][]string{
						"kl/Apply": {
							`.spec.ports[port=53,protocol="TCP"]`,
							`.spec.ports[port=53,protocol="TCP"].name`,
							`.spec.ports[port=53,protocol="TCP"].port`,
							`.spec.ports[port=80,protocol="TCP"]`,
							`.spec.ports[port=80,protocol="TCP"].name`,
							`.spec.ports[port=80,protocol="TCP"].port`,
						},
						"dns-operator/Update": {
							`.spec.ports[port=53,protocol="UDP"]`,
							`.spec.ports[port=53,protocol="UDP"].name`,
							`.spec.ports[port=53,protocol="UDP"].port`,
							`.spec.ports[port=53,protocol="UDP"].protocol`,
							`.spec.ports[port=53,protocol="UDP"].targetPort`,
						},
					}},
			},
		},
		{
			name: "container ports key on containerPort and protocol",
			steps: []step{
				{manager: "kl", apply: `
metadata: {name: web}
spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}`},
				{defaults: `
spec: {containers: [{name: web, image: nginx, imagePullPolicy: IfNotPresent, ports: [{containerPort: 80, protocol: TCP}]}]}`},
				{manager: "kl", apply: `
metadata: {name: web}
spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}`, unchanged: true},
				{manager: "kl", apply: `
metadata: {name: web}
spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}, {containerPort: 53, protocol: UDP}]}]}`,
					want: `
metadata: {name: web}
spec: {containers: [{name: web, image: nginx, imagePullPolicy: IfNotPresent,
  ports: [{containerPort: 80, protocol: TCP}, {containerPort: 53, protocol: UDP}]}]}`},
			},
		},
		{
			name: "an explicit null removes the field and gives nobody ownership",
			steps: []step{
				{manager: "kl", apply: `{metadata: {name: web, annotations: {keep: k}}, spec: {replicas: 1}}`},
				{manager: "someone", update: `{metadata: {annotations: {temp: x}}, spec: {paused: true}}`},
				{manager: "kl", apply: `{metadata: {name: web, annotations: {keep: k, temp: null}}, spec: {replicas: 1, paused: null}}`,
					want:   `{metadata: {name: web, annotations: {keep: k}}, spec: {replicas: 1}}`,
					owners: map[string][]string{"kl/Apply": {".metadata.annotations.keep", ".spec.replicas"}}},
			},
		},
		{
			name: "atomic lists are owned and replaced whole",
			steps: []step{
				{manager: "kl", apply: `{metadata: {name: p}, spec: {containers: [{name: c, args: [--a, --b]}]}}`},
				{manager: "kl", apply: `{metadata: {name: p}, spec: {containers: [{name: c, args: [--c]}]}}`,
					want: `{metadata: {name: p}, spec: {containers: [{name: c, args: [--c]}]}}`,
					owners: map[string][]string{"kl/Apply": {
						`.spec.containers[name="c"]`,
						`.spec.containers[name="c"].args`,
						`.spec.containers[name="c"].name`,
					}}},
				{manager: "debugger", update: `{spec: {containers: [{name: c, args: [--c, --verbose]}]}}`},
				{manager: "kl", apply: `{metadata: {name: p}, spec: {containers: [{name: c, args: [--c]}]}}`,
					wantErr: `Apply failed with 1 conflict: conflict with "debugger" using apps/v1: .spec.containers[name="c"].args`},
			},
		},
		{
			name: "appliers share a field set to the same value until both stop",
			steps: []step{
				{manager: "a", apply: `{metadata: {name: web, labels: {app: web}}, spec: {replicas: 3}}`},
				{manager: "b", apply: `{metadata: {name: web, annotations: {b: "1"}}, spec: {replicas: 3}}`,
					owners: map[string][]string{
						"a/Apply": {".metadata.labels.app", ".spec.replicas"},
						"b/Apply": {".metadata.annotations.b", ".spec.replicas"},
					}},
				{manager: "b", apply: `{metadata: {name: web, annotations: {b: "1"}}, spec: {replicas: 4}}`,
					wantErr: `Apply failed with 1 conflict: conflict with "a": .spec.replicas`},
				{manager: "a", apply: `{metadata: {name: web, labels: {app: web}}}`,
					want: `{metadata: {name: web, labels: {app: web}, annotations: {b: "1"}}, spec: {replicas: 3}}`,
					owners: map[string][]string{
						"a/Apply": {".metadata.labels.app"},
						"b/Apply": {".metadata.annotations.b", ".spec.replicas"},
					}},
				{manager: "b", apply: `{metadata: {name: web, annotations: {b: "1"}}}`,
					want: `{metadata: {name: web, labels: {app: web}, annotations: {b: "1"}}}`},
			},
		},
		{
			name: "a keyed item another applier also applies is kept when one drops it",
			steps: []step{
				{manager: "a", apply: `{metadata: {name: p}, spec: {containers: [{name: web, image: nginx, env: [{name: X, value: x}]}]}}`},
				{manager: "b", apply: `{metadata: {name: p}, spec: {containers: [{name: web, image: nginx}]}}`},
				{manager: "a", apply: `{metadata: {name: p}, spec: {containers: [{name: api, image: api}]}}`,
					want: `{metadata: {name: p}, spec: {containers: [{name: web, image: nginx}, {name: api, image: api}]}}`},
			},
		},
		{
			name: "dropping a keyed item removes it whole, even fields others changed",
			steps: []step{
				{manager: "kl", apply: deployment},
				{manager: "kl-set-image", update: `{spec: {template: {spec: {containers: [{name: web, image: "nginx:1.26"}]}}}}`},
				{manager: "kl", apply: strings.Replace(deployment, "{name: web, image: \"nginx:1.25\"}", "{name: api, image: \"api:1\"}", 1),
					owners: map[string][]string{"kl/Apply": {
						".metadata.labels.app",
						".spec.replicas",
						".spec.selector.matchLabels.app",
						".spec.template.metadata.labels.app",
						`.spec.template.spec.containers[name="api"]`,
						`.spec.template.spec.containers[name="api"].image`,
						`.spec.template.spec.containers[name="api"].name`,
					}}},
			},
		},
		{
			name: "fields set by nobody's config stay, even when a config sets their siblings",
			steps: []step{
				{manager: "kl", apply: `{metadata: {name: web}, spec: {replicas: 1}}`},
				{defaults: `{spec: {revisionHistoryLimit: 10, strategy: {type: RollingUpdate}}}`},
				{manager: "kl", apply: `{metadata: {name: web}, spec: {replicas: 2, strategy: {rollingUpdate: {maxSurge: 1}}}}`,
					want: `{metadata: {name: web}, spec: {replicas: 2, revisionHistoryLimit: 10, strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1}}}}`},
				{manager: "kl", apply: `{metadata: {name: web}, spec: {replicas: 2}}`,
					want: `{metadata: {name: web}, spec: {replicas: 2, revisionHistoryLimit: 10, strategy: {type: RollingUpdate}}}`},
			},
		},
		{
			name: "status and identity fields are ignored",
			steps: []step{
				{manager: "kl", apply: deployment},
				{defaults: `{metadata: {uid: u-1, resourceVersion: "7", generation: 1, creationTimestamp: "2025-01-01T00:00:00Z"}, status: {replicas: 3}}`},
				{manager: "kl", apply: `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  uid: other
  resourceVersion: "1"
  generation: 9
  selfLink: /x
  managedFields: [{manager: evil, operation: Apply}]
  labels: {app: web}
status: {replicas: 99}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: "nginx:1.25"}
`, unchanged: true},
				{manager: "kl", apply: `{metadata: {name: web, labels: {app: web}}}`,
					want: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, uid: u-1, resourceVersion: "7", generation: 1, creationTimestamp: "2025-01-01T00:00:00Z", labels: {app: web}}
status: {replicas: 3}`,
					owners: map[string][]string{"kl/Apply": {".metadata.labels.app"}}},
			},
		},
		{
			name: "an update that removes a field takes it from every owner",
			steps: []step{
				{manager: "kl", apply: `{metadata: {name: web, labels: {app: web, tier: front}}}`},
				{manager: "kl-label", update: `{metadata: {labels: {tier: null}}}`,
					owners: map[string][]string{"kl/Apply": {".metadata.labels.app"}}},
				{manager: "kl", apply: `{metadata: {name: web, labels: {app: web}}}`, unchanged: true},
			},
		},
		{
			name: "an update that creates a map owns the map itself",
			steps: []step{
				{manager: "kl", apply: `{metadata: {name: web, labels: {app: web}}}`},
				{manager: "kl-annotate", update: `{metadata: {annotations: {note: hi}}}`,
					owners: map[string][]string{
						"kl/Apply":           {".metadata.labels.app"},
						"kl-annotate/Update": {".metadata.annotations", ".metadata.annotations.note"},
					}},
				{manager: "kl-annotate", update: `{status: {replicas: 1}}`, unchanged: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var live map[string]any
			var managed []meta.ManagedFieldsEntry
			for i, s := range tt.steps {
				clock := t0.Add(time.Duration(i) * time.Minute)
				m := &fieldmanager.Manager{Now: func() time.Time { return clock }}
				prevLive, prevManaged := toJSON(t, live), toJSON(t, managed)
				switch {
				case s.apply != "":
					merged, mf, err := m.Apply(live, managed, obj(t, s.apply), s.manager, "apps/v1", s.force)
					if s.wantErr != "" {
						var ce *fieldmanager.ConflictError
						if !errors.As(err, &ce) {
							t.Fatalf("step %d: want conflict %q, got %v", i, s.wantErr, err)
						}
						if err.Error() != s.wantErr {
							t.Fatalf("step %d: error\n%s\nwant\n%s", i, err, s.wantErr)
						}
						continue
					}
					if err != nil {
						t.Fatalf("step %d: apply: %v", i, err)
					}
					if s.unchanged && !fieldmanager.Equal(merged, live) {
						t.Errorf("step %d: re-apply changed the object:\n%s\nwas\n%s", i, toJSON(t, merged), prevLive)
					}
					live, managed = merged, mf
				case s.update != "":
					next := mergePatch(live, obj(t, s.update))
					managed = m.Update(live, next, managed, s.manager, "apps/v1")
					live = next
				case s.defaults != "":
					live = mergePatch(live, obj(t, s.defaults))
				}
				if s.unchanged && toJSON(t, managed) != prevManaged {
					t.Errorf("step %d: managedFields changed:\n%s\nwas\n%s", i, toJSON(t, managed), prevManaged)
				}
				if s.want != "" && !fieldmanager.Equal(live, obj(t, s.want)) {
					t.Errorf("step %d: object\n%s\nwant\n%s", i, toJSON(t, live), toJSON(t, obj(t, s.want)))
				}
				if s.owners != nil {
					if got := owners(t, managed); !reflect.DeepEqual(got, s.owners) {
						t.Errorf("step %d: owners\n%v\nwant\n%v", i, got, s.owners)
					}
				}
			}
		})
	}
}
