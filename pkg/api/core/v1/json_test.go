package v1

import (
	"encoding/json"
	"testing"

	"github.com/kl-dev/kl/pkg/api/core/v1/apitest"
	"github.com/kl-dev/kl/pkg/api/meta"
)

// Every kind is a meta.Object and every list a meta.ListInterface.
var (
	_ meta.Object        = (*Pod)(nil)
	_ meta.Object        = (*Node)(nil)
	_ meta.Object        = (*Service)(nil)
	_ meta.Object        = (*Endpoints)(nil)
	_ meta.Object        = (*ConfigMap)(nil)
	_ meta.Object        = (*Secret)(nil)
	_ meta.Object        = (*ServiceAccount)(nil)
	_ meta.Object        = (*Namespace)(nil)
	_ meta.Object        = (*Event)(nil)
	_ meta.Object        = (*Binding)(nil)
	_ meta.ListInterface = (*PodList)(nil)
	_ meta.ListInterface = (*NodeList)(nil)
	_ meta.ListInterface = (*ServiceList)(nil)
	_ meta.ListInterface = (*EndpointsList)(nil)
	_ meta.ListInterface = (*ConfigMapList)(nil)
	_ meta.ListInterface = (*SecretList)(nil)
	_ meta.ListInterface = (*ServiceAccountList)(nil)
	_ meta.ListInterface = (*NamespaceList)(nil)
	_ meta.ListInterface = (*EventList)(nil)
)

// The fixtures are objects as the Kubernetes apiserver serialises them
// (each was checked to round-trip unchanged through k8s.io/api's types).
// Decoding and re-encoding them must give the same document.
func TestKubernetesJSONRoundTripsUnchanged(t *testing.T) {
	tests := []struct {
		file string
		obj  any
	}{
		{"testdata/pod.json", &Pod{}},
		{"testdata/node.json", &Node{}},
		{"testdata/service-nodeport.json", &Service{}},
		{"testdata/service-loadbalancer.json", &Service{}},
		{"testdata/service-externalname.json", &Service{}},
		{"testdata/endpoints.json", &Endpoints{}},
		{"testdata/secret.json", &Secret{}},
		{"testdata/configmap.json", &ConfigMap{}},
		{"testdata/namespace.json", &Namespace{}},
		{"testdata/serviceaccount.json", &ServiceAccount{}},
		{"testdata/event.json", &Event{}},
		{"testdata/binding.json", &Binding{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			apitest.RoundTrip(t, tt.file, tt.obj)
		})
	}
}

// Every field of every kind survives encoding and decoding.
func TestEveryFieldRoundTrips(t *testing.T) {
	tests := []struct{ obj, fresh any }{
		{&Pod{}, &Pod{}},
		{&PodList{}, &PodList{}},
		{&Node{}, &Node{}},
		{&Service{}, &Service{}},
		{&Endpoints{}, &Endpoints{}},
		{&ConfigMap{}, &ConfigMap{}},
		{&Secret{}, &Secret{}},
		{&ServiceAccount{}, &ServiceAccount{}},
		{&Namespace{}, &Namespace{}},
		{&Event{}, &Event{}},
		{&Binding{}, &Binding{}},
		{&PodLogOptions{}, &PodLogOptions{}},
		{&PodExecOptions{}, &PodExecOptions{}},
	}
	for _, tt := range tests {
		apitest.FilledRoundTrip(t, tt.obj, tt.fresh)
	}
}

func TestSecretDataIsBase64(t *testing.T) {
	var s Secret
	if err := json.Unmarshal([]byte(`{"data":{"password":"czNjcjN0IQ=="},"type":"Opaque"}`), &s); err != nil {
		t.Fatal(err)
	}
	if got := string(s.Data["password"]); got != "s3cr3t!" {
		t.Errorf("password = %q", got)
	}
	out, err := json.Marshal(&Secret{Data: map[string][]byte{"k": []byte("v")}})
	if err != nil {
		t.Fatal(err)
	}
	apitest.AssertSameJSON(t, []byte(`{"metadata":{},"data":{"k":"dg=="}}`), out)
}

// Zero values encode as Kubernetes encodes them: required fields present,
// structs never omitted.
func TestZeroValuesEncodeLikeKubernetes(t *testing.T) {
	tests := []struct {
		obj  any
		want string
	}{
		{&Pod{}, `{"metadata":{},"spec":{"containers":null},"status":{}}`},
		{&Container{}, `{"name":"","resources":{}}`},
		{&ContainerStatus{}, `{"name":"","state":{},"lastState":{},"ready":false,"restartCount":0,"image":"","imageID":""}`},
		{&ServicePort{}, `{"port":0,"targetPort":0}`},
		{&NodeStatus{}, `{"daemonEndpoints":{"kubeletEndpoint":{"Port":0}},"nodeInfo":{"machineID":"","systemUUID":"","bootID":"","kernelVersion":"","osImage":"","containerRuntimeVersion":"","kubeletVersion":"","kubeProxyVersion":"","operatingSystem":"","architecture":""}}`},
		{&Event{}, `{"metadata":{},"involvedObject":{},"source":{},"firstTimestamp":null,"lastTimestamp":null,"eventTime":null,"reportingComponent":"","reportingInstance":""}`},
		{&PodCondition{}, `{"type":"","status":"","lastProbeTime":null,"lastTransitionTime":null}`},
		{&PodList{}, `{"metadata":{},"items":null}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.obj)
		if err != nil {
			t.Fatal(err)
		}
		apitest.AssertSameJSON(t, []byte(tt.want), got)
	}
}
