package validation

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
)

// realisticManifests are manifests as people write them for Kubernetes;
// kl must accept them unchanged.
var realisticManifests = map[string]string{
	"deployment": `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-web
  namespace: shop
  labels:
    app.kubernetes.io/name: shop
    app.kubernetes.io/component: web
  annotations:
    kubernetes.io/change-cause: "deploy v1.4.2"
spec:
  replicas: 3
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: shop
      app.kubernetes.io/component: web
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: shop
        app.kubernetes.io/component: web
    spec:
      terminationGracePeriodSeconds: 20
      initContainers:
      - name: migrate
        image: registry.local/shop:1.4.2
        command: ["/app/migrate", "--wait"]
        envFrom:
        - secretRef: {name: shop-db}
      containers:
      - name: web
        image: registry.local/shop:1.4.2
        imagePullPolicy: IfNotPresent
        args: ["--listen=:8080"]
        ports:
        - name: http
          containerPort: 8080
        - name: metrics
          containerPort: 9090
          protocol: TCP
        env:
        - name: LOG_LEVEL
          valueFrom:
            configMapKeyRef: {name: shop-config, key: log.level}
        - name: POD_NAME
          valueFrom:
            fieldRef: {fieldPath: metadata.name}
        - name: GOMAXPROCS
          valueFrom:
            resourceFieldRef: {resource: limits.cpu}
        resources:
          requests: {cpu: 250m, memory: 128Mi}
          limits: {cpu: "1", memory: 512Mi}
        readinessProbe:
          httpGet: {path: /healthz, port: http}
          periodSeconds: 5
        livenessProbe:
          tcpSocket: {port: 8080}
          initialDelaySeconds: 10
        volumeMounts:
        - name: config
          mountPath: /etc/shop
          readOnly: true
        - name: cache
          mountPath: /var/cache/shop
      volumes:
      - name: config
        configMap:
          name: shop-config
          items:
          - key: app.yaml
            path: app.yaml
      - name: cache
        emptyDir: {sizeLimit: 1Gi}
      tolerations:
      - key: dedicated
        operator: Equal
        value: web
        effect: NoSchedule
`,
	"service": `
apiVersion: v1
kind: Service
metadata:
  name: shop-web
  namespace: shop
spec:
  type: NodePort
  selector:
    app.kubernetes.io/name: shop
    app.kubernetes.io/component: web
  ports:
  - name: http
    port: 80
    targetPort: http
    nodePort: 30080
  - name: metrics
    port: 9090
    targetPort: 9090
`,
	"pod": `
apiVersion: v1
kind: Pod
metadata:
  generateName: debug-
  namespace: shop
spec:
  restartPolicy: Never
  activeDeadlineSeconds: 600
  nodeSelector: {kubernetes.io/os: linux}
  containers:
  - name: shell
    image: busybox:1.36
    command: ["sh", "-c", "sleep 3600"]
    stdin: true
    tty: true
    securityContext:
      runAsUser: 1000
      allowPrivilegeEscalation: false
    volumeMounts:
    - {name: host-logs, mountPath: /logs, readOnly: true}
  volumes:
  - name: host-logs
    hostPath: {path: /var/log, type: Directory}
`,
	"configmap": `
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-config
  namespace: shop
data:
  log.level: info
  app.yaml: |
    listen: :8080
    features: [cart, search]
binaryData:
  logo.png: iVBORw0KGgo=
`,
}

func TestRealisticManifestsPassBothLayers(t *testing.T) {
	v := validator(t)
	for name, doc := range realisticManifests {
		t.Run(name, func(t *testing.T) {
			obj, errs := v.Validate(manifest(t, doc))
			if errs != nil {
				t.Fatalf("errors:\n%s", strings.Join(errorStrings(errs), "\n"))
			}
			if obj == nil {
				t.Fatal("no typed object returned")
			}
		})
	}
	obj, _ := v.Validate(manifest(t, realisticManifests["deployment"]))
	d, ok := obj.(*appsv1.Deployment)
	if !ok || *d.Spec.Replicas != 3 || d.Spec.Template.Spec.Containers[0].Resources.Limits.Memory().String() != "512Mi" {
		t.Errorf("decoded deployment = %+v", obj)
	}
}

func TestValidateRunsSemanticChecksAfterTheSchema(t *testing.T) {
	v := validator(t)
	// Schema errors stop the pipeline: the semantic layer would report the
	// same problem again or see a half-decoded object.
	_, errs := v.Validate(manifest(t, deploymentWith("replicas: 2", "replicas: -1\n  replica: 1")))
	want := []string{`spec.replica: unknown field "replica" (did you mean "replicas"?)`}
	if got := errorStrings(errs); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("schema errors = %q, want %q", got, want)
	}
	_, errs = v.Validate(manifest(t, deploymentWith("replicas: 2", "replicas: -1")))
	want = []string{"spec.replicas: Invalid value: -1: must be greater than or equal to 0"}
	if got := errorStrings(errs); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("semantic errors = %q, want %q", got, want)
	}
}

// One Validator serves many goroutines (the apiserver validates requests
// concurrently); run with -race.
func TestValidatorIsSafeForConcurrentUse(t *testing.T) {
	v := validator(t)
	done := make(chan []string)
	for g := range 4 {
		go func() {
			var bad []string
			for i := range 50 {
				doc := realisticManifests[[]string{"deployment", "service", "pod", "configmap"}[(g+i)%4]]
				if _, errs := v.Validate(manifest(t, doc)); errs != nil {
					bad = append(bad, errs.Error())
				}
				if errs := v.ValidateSchema(manifest(t, deploymentWith("replicas: 2", "replica: 2"))); len(errs) != 1 {
					bad = append(bad, fmt.Sprint(errorStrings(errs)))
				}
			}
			done <- bad
		}()
	}
	for range 4 {
		if bad := <-done; len(bad) > 0 {
			t.Error(strings.Join(bad, "\n"))
		}
	}
}

func TestValidateAllKeepsInputOrder(t *testing.T) {
	v := validator(t)
	var docs []map[string]any
	for i := range 9 {
		doc := realisticManifests["service"]
		if i%3 == 1 {
			doc = deploymentWith("replicas: 2", "replicas: -1")
		}
		docs = append(docs, manifest(t, doc))
	}
	for _, workers := range []int{0, 1, 4, 20} {
		results := v.ValidateAll(docs, workers)
		if len(results) != len(docs) {
			t.Fatalf("workers=%d: %d results", workers, len(results))
		}
		for i, r := range results {
			if wantErr := i%3 == 1; (r.Errors != nil) != wantErr || r.Object == nil {
				t.Errorf("workers=%d: result %d = %+v", workers, i, r)
			}
		}
	}
	if got := v.ValidateAll(nil, 0); len(got) != 0 {
		t.Errorf("ValidateAll(nil) = %v", got)
	}
}
