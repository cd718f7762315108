package k8sclient

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kl-dev/kl/pkg/apiserver/apiservertest"
)

// cluster is an in-process kl apiserver (memory storage, plain HTTP on a
// loopback port) and client-go clients pointed at it.
type cluster struct {
	config  *rest.Config
	client  kubernetes.Interface
	dynamic dynamic.Interface
}

// startCluster starts an apiserver for one test and stops it when the test
// ends.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	url := apiservertest.Start(t)

	// client-go's typed clients send protobuf bodies unless the config asks
	// for JSON; kl speaks JSON only (see TestDefaultConfigProtobufWrites).
	cfg := &rest.Config{
		Host: url, QPS: -1, UserAgent: "kl-k8sclient-test",
		ContentConfig: rest.ContentConfig{ContentType: runtime.ContentTypeJSON},
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("client-go clientset: %v", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("client-go dynamic client: %v", err)
	}
	return &cluster{config: cfg, client: client, dynamic: dyn}
}

// testContext returns a context that ends with the test or after d.
func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond every 20ms until it returns nil or timeout passes,
// then fails the test with cond's last error.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true within %s: %v", what, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
