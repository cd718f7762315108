package kubelet

import (
	"strings"
	"testing"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/resource"
)

// containerEnv runs env in the pod's container on the fake runtime.
func containerEnv(t *testing.T, rk *runningKubelet, p *corev1.Pod, container string) map[string]string {
	t.Helper()
	id := strings.TrimPrefix(containerStatus(p, container).ContainerID, "fake://")
	out, _, code, err := rk.fake("n1").ExecSync(t.Context(), id, []string{"env"}, 0)
	if err != nil || code != 0 {
		t.Fatalf("exec env: %d %v", code, err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		env[k] = v
	}
	return env
}

func TestEnvironmentIsResolvedAsKubernetesDoes(t *testing.T) {
	c := startCluster(t)
	rk := c.startKubelet(c.testConfig("n1"))
	c.createConfigMap("app", map[string]string{"url": "http://db", "LEVEL": "debug", "shared": "from-configmap"})
	c.createSecret("creds", map[string][]byte{"password": []byte("s3cret"), "TOKEN": []byte("t0k")})

	ref := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}
	}
	res := func(container, r, divisor string) *corev1.EnvVarSource {
		s := &corev1.ResourceFieldSelector{ContainerName: container, Resource: r}
		if divisor != "" {
			s.Divisor = resource.MustParse(divisor)
		}
		return &corev1.EnvVarSource{ResourceFieldRef: s}
	}
	p := pod("envy", "n1", "nginx", "redis")
	p.Labels["tier"] = "web"
	p.Spec.ServiceAccountName = "robot"
	app := &p.Spec.Containers[0]
	app.Resources = corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
	}
	p.Spec.Containers[1].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}
	app.EnvFrom = []corev1.EnvFromSource{
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app"}}, Prefix: "CM_"},
		{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}}},
	}
	app.Env = []corev1.EnvVar{
		{Name: "DB_URL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "app"}, Key: "url"}}},
		{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "password"}}},
		{Name: "POD_NAME", ValueFrom: ref("metadata.name")},
		{Name: "POD_NAMESPACE", ValueFrom: ref("metadata.namespace")},
		{Name: "POD_UID", ValueFrom: ref("metadata.uid")},
		{Name: "NODE_NAME", ValueFrom: ref("spec.nodeName")},
		{Name: "SA", ValueFrom: ref("spec.serviceAccountName")},
		{Name: "POD_IP", ValueFrom: ref("status.podIP")},
		{Name: "HOST_IP", ValueFrom: ref("status.hostIP")},
		{Name: "TIER", ValueFrom: ref("metadata.labels['tier']")},
		{Name: "CPU_LIMIT_MILLI", ValueFrom: res("", "limits.cpu", "1m")},
		{Name: "CPU_LIMIT", ValueFrom: res("", "limits.cpu", "")},
		{Name: "CPU_REQUEST_MILLI", ValueFrom: res("", "requests.cpu", "1m")},
		{Name: "MEM_LIMIT_MI", ValueFrom: res("", "limits.memory", "1Mi")},
		{Name: "REDIS_MEM_MI", ValueFrom: res("app2", "limits.memory", "1Mi")},
		{Name: "NODE_MEM", ValueFrom: res("app2", "limits.cpu", "")},
		{Name: "CM_LEVEL", Value: "overridden"},
		{Name: "CONNECT", Value: "$(DB_URL)?user=$(POD_NAME)&$$(literal)&$(UNKNOWN)"},
	}
	created := c.create(p)
	got := c.waitPod("envy", "Running", running)
	env := containerEnv(t, rk, got, "app")

	want := map[string]string{
		"CM_url": "http://db", "CM_LEVEL": "overridden", "CM_shared": "from-configmap",
		"password": "s3cret", "TOKEN": "t0k",
		"DB_URL": "http://db", "DB_PASSWORD": "s3cret",
		"POD_NAME": "envy", "POD_NAMESPACE": "default", "POD_UID": created.UID,
		"NODE_NAME": "n1", "SA": "robot", "POD_IP": got.Status.PodIP, "HOST_IP": "192.168.56.10",
		"TIER":            "web",
		"CPU_LIMIT_MILLI": "500", "CPU_LIMIT": "1", "CPU_REQUEST_MILLI": "250", "MEM_LIMIT_MI": "128",
		"REDIS_MEM_MI": "1024", "NODE_MEM": "4",
		"CONNECT": "http://db?user=envy&$(literal)&$(UNKNOWN)",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if got.Status.PodIP == "" {
		t.Error("the pod has no IP to compare status.podIP with")
	}
}
