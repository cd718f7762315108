package validation

import (
	"reflect"
	"strings"
	"testing"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
)

// Kubernetes' long syntax messages, checked literally in names_test.go.
var (
	subdomainMsg  = regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, "example.com")
	dnsLabelMsg   = regexError(dns1123LabelErrMsg, dns1123LabelFmt, "my-name", "123-abc")
	dns1035Msg    = regexError(dns1035LabelErrMsg, dns1035LabelFmt, "my-name", "abc-123")
	qualifiedMsg  = "name part " + regexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc")
	envVarMsg     = regexError(envVarNameErrMsg, envVarNameFmt, "my.env-name", "MY_ENV.NAME", "MyEnvName1")
	configKeyMsg  = regexError(configMapKeyErrMsg, configMapKeyFmt, "key.name", "KEY_NAME", "key-name")
	labelValueMsg = regexError(labelValueErrMsg, labelValueFmt, "MyValue", "my_value", "12345")
)

func ptr[T any](v T) *T { return &v }

func basePodSpec() corev1.PodSpec {
	return corev1.PodSpec{
		Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		Containers: []corev1.Container{{
			Name:         "web",
			Image:        "nginx:1.25",
			Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
			VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{"cpu": resource.MustParse("100m")},
				Limits:   corev1.ResourceList{"cpu": resource.MustParse("1")},
			},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}}},
		}},
	}
}

func pod(mut func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		TypeMeta:   meta.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec:       basePodSpec(),
	}
	if mut != nil {
		mut(p)
	}
	return p
}

func deployment(mut func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		TypeMeta:   meta.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(3)),
			Selector: &meta.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
				Spec:       basePodSpec(),
			},
		},
	}
	if mut != nil {
		mut(d)
	}
	return d
}

func replicaSet(mut func(*appsv1.ReplicaSet)) *appsv1.ReplicaSet {
	d := deployment(nil)
	rs := &appsv1.ReplicaSet{
		TypeMeta:   meta.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: d.ObjectMeta,
		Spec:       appsv1.ReplicaSetSpec{Replicas: d.Spec.Replicas, Selector: d.Spec.Selector, Template: d.Spec.Template},
	}
	if mut != nil {
		mut(rs)
	}
	return rs
}

func service(mut func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		TypeMeta:   meta.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}},
		},
	}
	if mut != nil {
		mut(s)
	}
	return s
}

type objectCase struct {
	name string
	obj  meta.Object
	want []string // exact Error() strings, in order; nil: valid
}

func runObjectCases(t *testing.T, tests []objectCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorStrings(ValidateObject(tt.obj))
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestValidateObjectMeta(t *testing.T) {
	runObjectCases(t, []objectCase{
		{"valid", pod(nil), nil},
		{"name must be a DNS subdomain", pod(func(p *corev1.Pod) { p.Name = "Web_1" }),
			[]string{`metadata.name: Invalid value: "Web_1": ` + subdomainMsg}},
		{"name or generateName required", pod(func(p *corev1.Pod) { p.Name = "" }),
			[]string{"metadata.name: Required value: name or generateName is required"}},
		{"generateName may end with a dash", pod(func(p *corev1.Pod) { p.Name, p.GenerateName = "", "web-" }), nil},
		{"generateName syntax", pod(func(p *corev1.Pod) { p.Name, p.GenerateName = "", "Web-" }),
			[]string{`metadata.generateName: Invalid value: "Web-": ` + subdomainMsg}},
		{"namespace must be a DNS label", pod(func(p *corev1.Pod) { p.Namespace = "team.a" }),
			[]string{`metadata.namespace: Invalid value: "team.a": ` + dnsLabelMsg}},
		{"label key syntax", pod(func(p *corev1.Pod) { p.Labels["bad key"] = "x" }),
			[]string{`metadata.labels: Invalid value: "bad key": ` + qualifiedMsg}},
		{"label value length", pod(func(p *corev1.Pod) { p.Labels["app"] = strings.Repeat("a", 64) }),
			[]string{`metadata.labels: Invalid value: "` + strings.Repeat("a", 64) + `": must be no more than 63 characters`}},
		{"label value syntax", pod(func(p *corev1.Pod) { p.Labels["app"] = "a b" }),
			[]string{`metadata.labels: Invalid value: "a b": ` + labelValueMsg}},
		{"annotations size", pod(func(p *corev1.Pod) {
			p.Annotations = map[string]string{"big": strings.Repeat("x", totalAnnotationSizeLimit)}
		}), []string{"metadata.annotations: Too long: must have at most 262144 bytes"}},
		{"one controller owner", pod(func(p *corev1.Pod) {
			p.OwnerReferences = []meta.OwnerReference{
				{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "a", UID: "1", Controller: ptr(true)},
				{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "b", UID: "2", Controller: ptr(true)},
			}
		}), []string{`metadata.ownerReferences: Invalid value: Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/a and ReplicaSet/b`}},
		{"cluster-scoped kinds have no namespace", &corev1.Namespace{ObjectMeta: meta.ObjectMeta{Name: "shop", Namespace: "default"}},
			[]string{"metadata.namespace: Forbidden: not allowed on this type"}},
		{"namespace names are DNS labels", &corev1.Namespace{ObjectMeta: meta.ObjectMeta{Name: "shop.eu"}},
			[]string{`metadata.name: Invalid value: "shop.eu": ` + dnsLabelMsg}},
	})
}

func TestValidatePod(t *testing.T) {
	c0 := func(mut func(c *corev1.Container)) *corev1.Pod {
		return pod(func(p *corev1.Pod) { mut(&p.Spec.Containers[0]) })
	}
	runObjectCases(t, []objectCase{
		{"containers required", pod(func(p *corev1.Pod) { p.Spec.Containers = nil }),
			[]string{"spec.containers: Required value"}},
		{"container names unique across init and app containers", pod(func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "web", Image: "busybox"}}
		}), []string{`spec.containers[0].name: Duplicate value: "web"`}},
		{"container name is a DNS label", c0(func(c *corev1.Container) { c.Name = "Web" }),
			[]string{`spec.containers[0].name: Invalid value: "Web": ` + dnsLabelMsg}},
		{"image required", c0(func(c *corev1.Container) { c.Image = "" }),
			[]string{"spec.containers[0].image: Required value"}},
		{"container port range", c0(func(c *corev1.Container) { c.Ports[0].ContainerPort = 70000 }),
			[]string{"spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"}},
		{"container port required", c0(func(c *corev1.Container) { c.Ports[0].ContainerPort = 0 }),
			[]string{"spec.containers[0].ports[0].containerPort: Required value"}},
		{"port names unique", c0(func(c *corev1.Container) {
			c.Ports = append(c.Ports, corev1.ContainerPort{Name: "http", ContainerPort: 81})
		}), []string{`spec.containers[0].ports[1].name: Duplicate value: "http"`}},
		{"port numbers unique per protocol", c0(func(c *corev1.Container) {
			c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: 80, Protocol: "TCP"}, corev1.ContainerPort{ContainerPort: 80, Protocol: "UDP"})
		}), []string{"spec.containers[0].ports[1].containerPort: Duplicate value: 80"}},
		{"port name is an IANA service name", c0(func(c *corev1.Container) { c.Ports[0].Name = "web--1" }),
			[]string{`spec.containers[0].ports[0].name: Invalid value: "web--1": must not contain consecutive hyphens`}},
		{"host port must match on the host network", pod(func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports[0].HostPort = 8080
		}), []string{"spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true"}},
		{"requests at most limits", c0(func(c *corev1.Container) { c.Resources.Requests["cpu"] = resource.MustParse("2") }),
			[]string{`spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1`}},
		{"quantities not negative", c0(func(c *corev1.Container) { c.Resources.Limits["memory"] = resource.MustParse("-1Mi") }),
			[]string{`spec.containers[0].resources.limits[memory]: Invalid value: "-1Mi": must be greater than or equal to 0`}},
		{"resource names standard or qualified", c0(func(c *corev1.Container) { c.Resources.Limits["gpu"] = resource.MustParse("1") }),
			[]string{`spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers`}},
		{"extended resources are qualified names", c0(func(c *corev1.Container) { c.Resources.Limits["example.com/gpu"] = resource.MustParse("1") }), nil},
		{"probe with two handlers", c0(func(c *corev1.Container) {
			c.ReadinessProbe.TCPSocket = &corev1.TCPSocketAction{Port: intstr.FromInt(80)}
		}), []string{"spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"}},
		{"probe without handler", c0(func(c *corev1.Container) { c.LivenessProbe = &corev1.Probe{PeriodSeconds: 5} }),
			[]string{"spec.containers[0].livenessProbe: Required value: must specify a handler type"}},
		{"liveness success threshold is 1", c0(func(c *corev1.Container) {
			c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, SuccessThreshold: 2}
		}), []string{"spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"}},
		{"probe port", c0(func(c *corev1.Container) { c.ReadinessProbe.HTTPGet.Port = intstr.FromInt(0) }),
			[]string{"spec.containers[0].readinessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive"}},
		{"init containers have no probes", pod(func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", ReadinessProbe: p.Spec.Containers[0].ReadinessProbe}}
		}), []string{"spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers"}},
		{"volume with two sources", pod(func(p *corev1.Pod) {
			p.Spec.Volumes[0].HostPath = &corev1.HostPathVolumeSource{Path: "/tmp"}
		}), []string{"spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type"}},
		{"volume without source", pod(func(p *corev1.Pod) { p.Spec.Volumes[0].EmptyDir = nil }),
			[]string{"spec.volumes[0]: Required value: must specify a volume type"}},
		{"volume names unique", pod(func(p *corev1.Pod) { p.Spec.Volumes = append(p.Spec.Volumes, p.Spec.Volumes[0]) }),
			[]string{`spec.volumes[1].name: Duplicate value: "data"`}},
		{"unsupported volume source", pod(func(p *corev1.Pod) {
			p.Spec.Volumes[0].EmptyDir = nil
			p.Spec.Volumes[0].SetUnsupportedSources("persistentVolumeClaim")
		}), []string{`spec.volumes[0].persistentVolumeClaim: volume source "persistentVolumeClaim" is not supported by kl (supported: emptyDir, configMap, secret, hostPath)`}},
		{"configMap volume needs a name and valid items", pod(func(p *corev1.Pod) {
			p.Spec.Volumes[0].EmptyDir = nil
			p.Spec.Volumes[0].ConfigMap = &corev1.ConfigMapVolumeSource{Items: []corev1.KeyToPath{{Key: "a/b", Path: "../x"}}, DefaultMode: ptr(int32(0o1777))}
		}), []string{
			"spec.volumes[0].configMap.name: Required value",
			"spec.volumes[0].configMap.defaultMode: Invalid value: 1023: must be a number between 0 and 0777 (octal), both inclusive",
			`spec.volumes[0].configMap.items[0].key: Invalid value: "a/b": ` + configKeyMsg,
			`spec.volumes[0].configMap.items[0].path: Invalid value: "../x": must not contain '..'`,
		}},
		{"hostPath is absolute", pod(func(p *corev1.Pod) {
			p.Spec.Volumes[0].EmptyDir = nil
			p.Spec.Volumes[0].HostPath = &corev1.HostPathVolumeSource{Path: "tmp"}
		}), []string{`spec.volumes[0].hostPath.path: Invalid value: "tmp": must be an absolute path`}},
		{"volume mounts refer to volumes", c0(func(c *corev1.Container) { c.VolumeMounts[0].Name = "cache" }),
			[]string{`spec.containers[0].volumeMounts[0].name: Not found: "cache"`}},
		{"mount paths unique", c0(func(c *corev1.Container) { c.VolumeMounts = append(c.VolumeMounts, c.VolumeMounts[0]) }),
			[]string{`spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique`}},
		{"env var names", c0(func(c *corev1.Container) { c.Env = []corev1.EnvVar{{Name: "1X", Value: "v"}} }),
			[]string{`spec.containers[0].env[0].name: Invalid value: "1X": ` + envVarMsg}},
		{"env value and valueFrom", c0(func(c *corev1.Container) {
			c.Env = []corev1.EnvVar{{Name: "A", Value: "v", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
		}), []string{"spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty"}},
		{"env valueFrom sources", c0(func(c *corev1.Container) {
			c.Env = []corev1.EnvVar{
				{Name: "A", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "a b"}}},
				{Name: "B", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.containers"}}},
				{Name: "C", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
			}
		}), []string{
			`spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Invalid value: "a b": ` + configKeyMsg,
			`spec.containers[0].env[1].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.containers": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"`,
		}},
		{"restart policy", pod(func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" }),
			[]string{`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`}},
		{"image pull policy", c0(func(c *corev1.Container) { c.ImagePullPolicy = "always" }),
			[]string{`spec.containers[0].imagePullPolicy: Unsupported value: "always": supported values: "Always", "IfNotPresent", "Never"`}},
		{"active deadline", pod(func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr(int64(0)) }),
			[]string{"spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"}},
		{"tolerations", pod(func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{
				{Operator: "Equal", Value: "x"},
				{Key: "k", Operator: "Exists", Value: "x"},
				{Key: "k", Effect: "NoSchedule", TolerationSeconds: ptr(int64(5))},
				{Operator: "Exists"},
			}
		}), []string{
			"spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
			"spec.tolerations[1].value: Invalid value: \"x\": value must be empty when `operator` is 'Exists'",
			"spec.tolerations[2].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
		}},
		{"node selector is labels", pod(func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "s s d"} }),
			[]string{`spec.nodeSelector: Invalid value: "s s d": ` + labelValueMsg}},
	})
}

func TestValidateWorkloads(t *testing.T) {
	runObjectCases(t, []objectCase{
		{"valid deployment", deployment(nil), nil},
		{"valid replicaset", replicaSet(nil), nil},
		{"replicas not negative", deployment(func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(int32(-1)) }),
			[]string{"spec.replicas: Invalid value: -1: must be greater than or equal to 0"}},
		{"selector required", deployment(func(d *appsv1.Deployment) { d.Spec.Selector = nil }),
			[]string{"spec.selector: Required value"}},
		{"selector not empty", deployment(func(d *appsv1.Deployment) { d.Spec.Selector = &meta.LabelSelector{} }),
			[]string{"spec.selector: Invalid value: {}: empty selector is invalid for deployment"}},
		{"selector matches template labels", deployment(func(d *appsv1.Deployment) {
			d.Spec.Template.Labels = map[string]string{"app": "api"}
		}), []string{"spec.template.metadata.labels: Invalid value: {\"app\":\"api\"}: `selector` does not match template `labels`"}},
		{"replicaset selector matches template labels", replicaSet(func(rs *appsv1.ReplicaSet) {
			rs.Spec.Selector = &meta.LabelSelector{MatchExpressions: []meta.LabelSelectorRequirement{{Key: "app", Operator: "NotIn", Values: []string{"web"}}}}
		}), []string{"spec.template.metadata.labels: Invalid value: {\"app\":\"web\",\"tier\":\"front\"}: `selector` does not match template `labels`"}},
		{"replicaset empty selector", replicaSet(func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = &meta.LabelSelector{} }),
			[]string{"spec.selector: Invalid value: {}: empty selector is invalid for replicaset"}},
		{"selector expressions", deployment(func(d *appsv1.Deployment) {
			d.Spec.Selector.MatchExpressions = []meta.LabelSelectorRequirement{
				{Key: "tier", Operator: "In"},
				{Key: "tier", Operator: "Exists", Values: []string{"x"}},
				{Key: "tier", Operator: "Like", Values: []string{"x"}},
			}
		}), []string{
			"spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
			"spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
			`spec.selector.matchExpressions[2].operator: Unsupported value: "Like": supported values: "In", "NotIn", "Exists", "DoesNotExist"`,
		}},
		{"template restarts Always", deployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = "Never" }),
			[]string{`spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`}},
		{"template errors carry the full path", deployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" }),
			[]string{"spec.template.spec.containers[0].image: Required value"}},
		{"maxSurge and maxUnavailable not both 0", deployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr(intstr.FromInt(0)), MaxSurge: ptr(intstr.FromString("0%"))}
		}), []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"}},
		{"rolling update parameters", deployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr(intstr.FromString("150%")), MaxSurge: ptr(intstr.FromString("many"))}
		}), []string{
			`spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%`,
			`spec.strategy.rollingUpdate.maxSurge: Invalid value: "many": must be an integer or percentage (e.g '5%')`,
		}},
		{"recreate has no rolling update", deployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: "Recreate", RollingUpdate: &appsv1.RollingUpdateDeployment{}}
		}), []string{"spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"}},
		{"progress deadline after min ready", deployment(func(d *appsv1.Deployment) {
			d.Spec.MinReadySeconds = 30
			d.Spec.ProgressDeadlineSeconds = ptr(int32(30))
		}), []string{"spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds"}},
		{"scale replicas", &appsv1.Scale{ObjectMeta: meta.ObjectMeta{Name: "web"}, Spec: appsv1.ScaleSpec{Replicas: -2}},
			[]string{"spec.replicas: Invalid value: -2: must be greater than or equal to 0"}},
	})
}

func TestValidateService(t *testing.T) {
	runObjectCases(t, []objectCase{
		{"valid", service(nil), nil},
		{"headless needs no ports", service(func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.Ports = "None", nil }), nil},
		{"name is a DNS-1035 label", service(func(s *corev1.Service) { s.Name = "1web" }),
			[]string{`metadata.name: Invalid value: "1web": ` + dns1035Msg}},
		{"ports required", service(func(s *corev1.Service) { s.Spec.Ports = nil }),
			[]string{"spec.ports: Required value"}},
		{"port names required when several", service(func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Port: 80}, {Port: 443}}
		}), []string{"spec.ports[0].name: Required value", "spec.ports[1].name: Required value"}},
		{"port names and numbers unique", service(func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "http", Port: 80})
		}), []string{`spec.ports[1].name: Duplicate value: "http"`, `spec.ports[1]: Duplicate value: "80/TCP"`}},
		{"port range", service(func(s *corev1.Service) { s.Spec.Ports[0].Port = 0 }),
			[]string{"spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"}},
		{"target port", service(func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromInt(70000) }),
			[]string{"spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive"}},
		{"target port name", service(func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("Http") }),
			[]string{`spec.ports[0].targetPort: Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`}},
		{"nodePort only for NodePort and LoadBalancer", service(func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30080 }),
			[]string{"spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"}},
		{"nodePort range", service(func(s *corev1.Service) { s.Spec.Type, s.Spec.Ports[0].NodePort = "NodePort", 8080 }),
			[]string{"spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767"}},
		{"nodePort in range", service(func(s *corev1.Service) { s.Spec.Type, s.Spec.Ports[0].NodePort = "NodePort", 30080 }), nil},
		{"headless only for ClusterIP", service(func(s *corev1.Service) { s.Spec.Type, s.Spec.ClusterIP = "NodePort", "None" }),
			[]string{`spec.clusterIP: Invalid value: "None": may not be set to 'None' for NodePort services`}},
		{"clusterIP syntax", service(func(s *corev1.Service) { s.Spec.ClusterIP = "10.0.0" }),
			[]string{`spec.clusterIP: Invalid value: "10.0.0": must be empty, 'None', or a valid IP address`}},
		{"ExternalName", service(func(s *corev1.Service) { s.Spec.Type, s.Spec.Ports = "ExternalName", nil }),
			[]string{"spec.externalName: Required value"}},
		{"service type", service(func(s *corev1.Service) { s.Spec.Type = "Internal" }),
			[]string{`spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"`}},
		{"affinity config needs ClientIP", service(func(s *corev1.Service) {
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(10))}}
		}), []string{"spec.sessionAffinityConfig: Forbidden: must not be set when `sessionAffinity` is None"}},
		{"external traffic policy", service(func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = "Local" }),
			[]string{`spec.externalTrafficPolicy: Invalid value: "Local": may only be set when ` + "`type` is 'NodePort' or 'LoadBalancer'"}},
		{"endpoints", &corev1.Endpoints{ObjectMeta: meta.ObjectMeta{Name: "web"}, Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: "10.1.2.300"}},
			Ports:     []corev1.EndpointPort{{Port: 0}},
		}}}, []string{
			`subsets[0].addresses[0].ip: Invalid value: "10.1.2.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
			"subsets[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
		}},
	})
}

func TestValidateConfigAndOtherKinds(t *testing.T) {
	om := meta.ObjectMeta{Name: "x", Namespace: "default"}
	runObjectCases(t, []objectCase{
		{"configmap keys", &corev1.ConfigMap{ObjectMeta: om, Data: map[string]string{"a/b": "1", "ok": "2"}, BinaryData: map[string][]byte{"ok": {1}}},
			[]string{`data[a/b]: Invalid value: "a/b": ` + configKeyMsg, `binaryData[ok]: Invalid value: "ok": duplicate of key present in data`}},
		{"configmap size", &corev1.ConfigMap{ObjectMeta: om, Data: map[string]string{"big": strings.Repeat("x", MaxDataSize)}},
			[]string{"data: Too long: must have at most 1048576 bytes"}},
		{"secret keys", &corev1.Secret{ObjectMeta: om, Data: map[string][]byte{"..x": []byte("v")}},
			[]string{`data[..x]: Invalid value: "..x": must not start with '..'`}},
		{"tls secret keys", &corev1.Secret{ObjectMeta: om, Type: corev1.SecretTypeTLS, StringData: map[string]string{"tls.crt": "c"}},
			[]string{"data[tls.key]: Required value"}},
		{"docker config json", &corev1.Secret{ObjectMeta: om, Type: corev1.SecretTypeDockerConfigJSON, Data: map[string][]byte{".dockerconfigjson": []byte("{")}},
			[]string{`data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid JSON`}},
		{"valid service account", &corev1.ServiceAccount{ObjectMeta: om}, nil},
		{"node taints", &corev1.Node{ObjectMeta: meta.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{
			{Key: "dedicated", Value: "db", Effect: "NoSchedule"},
			{Key: "dedicated", Value: "web", Effect: "NoSchedule"},
			{Key: "gpu"},
		}}}, []string{
			`spec.taints[1]: Duplicate value: "dedicated=web:NoSchedule"`,
			"spec.taints[2].effect: Required value",
		}},
		{"lease", &coordinationv1.Lease{ObjectMeta: om, Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: ptr(int32(0)), LeaseTransitions: ptr(int32(-1))}},
			[]string{"spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0", "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0"}},
		{"valid lease", &coordinationv1.Lease{ObjectMeta: om, Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("a"), LeaseDurationSeconds: ptr(int32(15))}}, nil},
		{"binding", &corev1.Binding{ObjectMeta: om, Target: corev1.ObjectReference{Kind: "Pod"}},
			[]string{`target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>"`, "target.name: Required value"}},
		{"event", &corev1.Event{ObjectMeta: om, InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "other", Name: "p"}, Type: "Bad"},
			[]string{`involvedObject.namespace: Invalid value: "other": does not match event.namespace`, `type: Unsupported value: "Bad": supported values: "Normal", "Warning"`}},
		{"unknown Go type", unknownObject{}, []string{`kind: no validation for validation.unknownObject (apiVersion "x/v1", kind "Thing")`}},
	})
}

type unknownObject struct{}

func (unknownObject) GetTypeMeta() *meta.TypeMeta {
	return &meta.TypeMeta{APIVersion: "x/v1", Kind: "Thing"}
}
func (unknownObject) GetObjectMeta() *meta.ObjectMeta { return &meta.ObjectMeta{} }
