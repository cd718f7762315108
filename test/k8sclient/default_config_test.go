package k8sclient

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestDefaultConfigReads uses a clientset built from a rest.Config that
// sets nothing but the host, as clientcmd gives one from a kubeconfig:
// client-go's typed clients then ask for protobuf first
// (Accept: application/vnd.kubernetes.protobuf,application/json), and kl
// answers JSON, which client-go accepts.
func TestDefaultConfigReads(t *testing.T) {
	t.Parallel()
	c := startCluster(t)
	ctx := testContext(t, 10*time.Second)
	client, err := kubernetes.NewForConfig(&rest.Config{Host: c.config.Host})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get namespace default: %v", err)
	}
	if ns.Status.Phase != corev1.NamespaceActive {
		t.Errorf("namespace default: phase %q, want Active", ns.Status.Phase)
	}
	if _, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("list namespaces: %v", err)
	}
}

// TestDefaultConfigProtobufWrites is the same default clientset writing:
// client-go sends built-in kinds as protobuf
// (Content-Type: application/vnd.kubernetes.protobuf) unless
// rest.Config.ContentType says JSON, and Kubernetes accepts that.
func TestDefaultConfigProtobufWrites(t *testing.T) {
	knownGap(t, "kl decodes JSON and YAML bodies only; client-go's default clientset sends protobuf and gets 415")
	t.Parallel()
	c := startCluster(t)
	ctx := testContext(t, 10*time.Second)
	client, err := kubernetes.NewForConfig(&rest.Config{Host: c.config.Host})
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "pb"}, Data: map[string]string{"k": "v"}}
	created, err := client.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create configmap with the default (protobuf) content type: %v", err)
	}
	if created.Data["k"] != "v" {
		t.Errorf("created configmap: data %v, want k=v", created.Data)
	}
}
