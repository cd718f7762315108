package validation

import (
	"reflect"
	"strings"
	"testing"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
)

func TestValidateUpdate(t *testing.T) {
	withUID := func(uid string) func(*corev1.Pod) { return func(p *corev1.Pod) { p.UID = uid } }
	cm := func(immutable *bool, data string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "cfg", Namespace: "default"}, Immutable: immutable, Data: map[string]string{"k": data}}
	}
	svc := func(typ corev1.ServiceType, ip string) *corev1.Service {
		return service(func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ClusterIP = typ, ip
			if typ == corev1.ServiceTypeExternalName {
				s.Spec.ExternalName, s.Spec.Ports, s.Spec.ClusterIP = "db.example.com", nil, ""
			}
		})
	}
	tests := []struct {
		name     string
		old, new meta.Object
		want     []string
	}{
		{"unchanged", pod(withUID("u1")), pod(withUID("u1")), nil},
		{"name immutable", pod(nil), pod(func(p *corev1.Pod) { p.Name = "web2" }),
			[]string{`metadata.name: Invalid value: "web2": field is immutable`}},
		{"namespace immutable", pod(nil), pod(func(p *corev1.Pod) { p.Namespace = "prod" }),
			[]string{`metadata.namespace: Invalid value: "prod": field is immutable`}},
		{"uid immutable", pod(withUID("u1")), pod(withUID("u2")),
			[]string{`metadata.uid: Invalid value: "u2": field is immutable`}},
		{"labels may change", pod(nil), pod(func(p *corev1.Pod) { p.Labels["v"] = "2" }), nil},
		{"pod image may change", pod(nil), pod(func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.26" }), nil},
		{"pod tolerations may be added", pod(nil), pod(func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: "Exists"}}
		}), nil},
		{"pod tolerations may not be removed", pod(func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: "Exists"}}
		}), pod(nil), []string{"spec: Forbidden: " + podUpdateForbidden}},
		{"pod spec otherwise immutable", pod(nil), pod(func(p *corev1.Pod) { p.Spec.RestartPolicy = "Never" }),
			[]string{"spec: Forbidden: " + podUpdateForbidden}},
		{"pod deadline may only shrink", pod(func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr(int64(60)) }),
			pod(func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr(int64(120)) }),
			[]string{"spec.activeDeadlineSeconds: Invalid value: 120: must be less than or equal to previous value"}},
		{"pod deadline may be set", pod(nil), pod(func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr(int64(60)) }), nil},
		{"deployment selector immutable", deployment(nil), deployment(func(d *appsv1.Deployment) {
			d.Spec.Selector = &meta.LabelSelector{MatchLabels: map[string]string{"tier": "front"}}
		}), []string{`spec.selector: Invalid value: {"matchLabels":{"tier":"front"}}: field is immutable`}},
		{"deployment template may change", deployment(nil), deployment(func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Image = "nginx:2"
			d.Spec.Replicas = ptr(int32(5))
		}), nil},
		{"replicaset selector immutable", replicaSet(nil), replicaSet(func(rs *appsv1.ReplicaSet) {
			rs.Spec.Selector = &meta.LabelSelector{MatchLabels: map[string]string{"tier": "front"}}
		}), []string{`spec.selector: Invalid value: {"matchLabels":{"tier":"front"}}: field is immutable`}},
		{"service clusterIP immutable", svc("", "10.96.0.10"), svc("", "10.96.0.11"),
			[]string{`spec.clusterIP: Invalid value: "10.96.0.11": field is immutable`}},
		{"service clusterIP omitted on update", svc("", "10.96.0.10"), svc("", ""), nil},
		{"service to ExternalName drops the clusterIP", svc("", "10.96.0.10"), svc(corev1.ServiceTypeExternalName, ""), nil},
		{"service from ExternalName gets a clusterIP", svc(corev1.ServiceTypeExternalName, ""), svc("", "10.96.0.12"), nil},
		{"immutable configmap data", cm(ptr(true), "a"), cm(ptr(true), "b"),
			[]string{"data: Forbidden: field is immutable when `immutable` is set"}},
		{"immutable cannot be unset", cm(ptr(true), "a"), cm(nil, "a"),
			[]string{"immutable: Forbidden: field is immutable when `immutable` is set"}},
		{"mutable configmap data", cm(nil, "a"), cm(ptr(true), "b"), nil},
		{"secret type immutable", &corev1.Secret{ObjectMeta: meta.ObjectMeta{Name: "s"}, Type: "Opaque"},
			&corev1.Secret{ObjectMeta: meta.ObjectMeta{Name: "s"}, Type: "example.com/custom"},
			[]string{`type: Invalid value: "example.com/custom": field is immutable`}},
		{"immutable secret data", &corev1.Secret{ObjectMeta: meta.ObjectMeta{Name: "s"}, Immutable: ptr(true), Data: map[string][]byte{"k": []byte("a")}},
			&corev1.Secret{ObjectMeta: meta.ObjectMeta{Name: "s"}, Immutable: ptr(true), Data: map[string][]byte{"k": []byte("b")}},
			[]string{"data: Forbidden: field is immutable when `immutable` is set"}},
		{"node podCIDR", &corev1.Node{ObjectMeta: meta.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{PodCIDR: "10.244.1.0/24"}},
			&corev1.Node{ObjectMeta: meta.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{PodCIDR: "10.244.2.0/24"}},
			[]string{`spec.podCIDR: Forbidden: node updates may not change podCIDR except from "" to valid`}},
		{"new object is validated too", deployment(nil), deployment(func(d *appsv1.Deployment) { d.Spec.Replicas = ptr(int32(-1)) }),
			[]string{"spec.replicas: Invalid value: -1: must be greater than or equal to 0"}},
		{"kind cannot change", pod(nil), service(nil),
			[]string{`kind: Invalid value: "Service": cannot update a *v1.Pod with a *v1.Service`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorStrings(ValidateUpdate(tt.new, tt.old))
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}
