package validation

import (
	"encoding/json"
	"fmt"
	"net"

	coordinationv1 "github.com/kl-dev/kl/pkg/api/coordination/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
)

// MaxDataSize is the most bytes the data of a ConfigMap or Secret may hold,
// as in Kubernetes.
const MaxDataSize = 1024 * 1024

func validateNamespace(ns *corev1.Namespace) ErrorList {
	errs := validateObjectMeta(&ns.ObjectMeta, false, nameIsDNSLabel, NewFieldPath("metadata"))
	for i, f := range ns.Spec.Finalizers {
		for _, msg := range isQualifiedName(string(f)) {
			errs = append(errs, Invalid(NewFieldPath("spec", "finalizers").Index(i), string(f), msg))
		}
	}
	return errs
}

func validateNode(n *corev1.Node) ErrorList {
	errs := validateObjectMeta(&n.ObjectMeta, false, nameIsDNSSubdomain, NewFieldPath("metadata"))
	sp := NewFieldPath("spec")
	if c := n.Spec.PodCIDR; c != "" {
		if _, _, err := net.ParseCIDR(c); err != nil {
			errs = append(errs, Invalid(sp.Child("podCIDR"), c, "must be a valid CIDR (e.g. 10.244.0.0/24)"))
		}
	}
	for i, c := range n.Spec.PodCIDRs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			errs = append(errs, Invalid(sp.Child("podCIDRs").Index(i), c, "must be a valid CIDR (e.g. 10.244.0.0/24)"))
		}
	}
	seen := map[string]bool{}
	for i, t := range n.Spec.Taints {
		tp := sp.Child("taints").Index(i)
		if t.Key == "" {
			errs = append(errs, Required(tp.Child("key"), ""))
		} else {
			for _, msg := range isQualifiedName(t.Key) {
				errs = append(errs, Invalid(tp.Child("key"), t.Key, msg))
			}
		}
		for _, msg := range isLabelValue(t.Value) {
			errs = append(errs, Invalid(tp.Child("value"), t.Value, msg))
		}
		if t.Effect == "" {
			errs = append(errs, Required(tp.Child("effect"), ""))
		} else {
			errs = append(errs, enum(string(t.Effect), taintEffects, false, tp, "effect")...)
		}
		key := t.Key + ":" + string(t.Effect)
		if seen[key] {
			errs = append(errs, Duplicate(tp, fmt.Sprintf("%s=%s:%s", t.Key, t.Value, t.Effect)))
		}
		seen[key] = true
	}
	return errs
}

func validateConfigMap(cm *corev1.ConfigMap) ErrorList {
	errs := validateObjectMeta(&cm.ObjectMeta, true, nameIsDNSSubdomain, NewFieldPath("metadata"))
	size := 0
	for _, k := range sortedKeys(cm.Data) {
		errs = append(errs, validateDataKey(k, NewFieldPath("data").Key(k))...)
		size += len(k) + len(cm.Data[k])
	}
	for _, k := range sortedKeys(cm.BinaryData) {
		kp := NewFieldPath("binaryData").Key(k)
		errs = append(errs, validateDataKey(k, kp)...)
		if _, dup := cm.Data[k]; dup {
			errs = append(errs, Invalid(kp, k, "duplicate of key present in data"))
		}
		size += len(k) + len(cm.BinaryData[k])
	}
	if size > MaxDataSize {
		errs = append(errs, TooLong(NewFieldPath("data"), MaxDataSize))
	}
	return errs
}

func validateDataKey(k string, p *FieldPath) ErrorList {
	var errs ErrorList
	for _, msg := range isConfigMapKey(k) {
		errs = append(errs, Invalid(p, k, msg))
	}
	return errs
}

func validateSecret(s *corev1.Secret) ErrorList {
	errs := validateObjectMeta(&s.ObjectMeta, true, nameIsDNSSubdomain, NewFieldPath("metadata"))
	dp := NewFieldPath("data")
	size := 0
	for _, k := range sortedKeys(s.Data) {
		errs = append(errs, validateDataKey(k, dp.Key(k))...)
		size += len(k) + len(s.Data[k])
	}
	for _, k := range sortedKeys(s.StringData) {
		errs = append(errs, validateDataKey(k, NewFieldPath("stringData").Key(k))...)
		if _, dup := s.Data[k]; !dup {
			size += len(k) + len(s.StringData[k])
		}
	}
	if size > MaxDataSize {
		errs = append(errs, TooLong(dp, MaxDataSize))
	}
	// has reports whether a key is set, in data or stringData (defaulting
	// merges stringData into data).
	has := func(k string) ([]byte, bool) {
		if v, ok := s.StringData[k]; ok {
			return []byte(v), true
		}
		v, ok := s.Data[k]
		return v, ok
	}
	require := func(keys ...string) {
		for _, k := range keys {
			if _, ok := has(k); !ok {
				errs = append(errs, Required(dp.Key(k), ""))
			}
		}
	}
	requireJSON := func(k string) {
		v, ok := has(k)
		if !ok {
			errs = append(errs, Required(dp.Key(k), ""))
			return
		}
		if !json.Valid(v) {
			errs = append(errs, Invalid(dp.Key(k), "<secret contents redacted>", "invalid JSON"))
		}
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		const ann = "kubernetes.io/service-account.name"
		if s.Annotations[ann] == "" {
			errs = append(errs, Required(NewFieldPath("metadata", "annotations").Key(ann), ""))
		}
	case corev1.SecretTypeDockercfg:
		requireJSON(corev1.DockerConfigKey)
	case corev1.SecretTypeDockerConfigJSON:
		requireJSON(corev1.DockerConfigJSONKey)
	case corev1.SecretTypeBasicAuth:
		_, u := has(corev1.BasicAuthUsernameKey)
		_, pw := has(corev1.BasicAuthPasswordKey)
		if !u && !pw {
			errs = append(errs, Required(dp.Key(corev1.BasicAuthUsernameKey), ""))
			errs = append(errs, Required(dp.Key(corev1.BasicAuthPasswordKey), ""))
		}
	case corev1.SecretTypeSSHAuth:
		require(corev1.SSHAuthPrivateKey)
	case corev1.SecretTypeTLS:
		require(corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	return errs
}

func validateServiceAccount(sa *corev1.ServiceAccount) ErrorList {
	errs := validateObjectMeta(&sa.ObjectMeta, true, nameIsDNSSubdomain, NewFieldPath("metadata"))
	for i, s := range sa.ImagePullSecrets {
		if s.Name == "" {
			errs = append(errs, Required(NewFieldPath("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	return errs
}

func validateEvent(ev *corev1.Event) ErrorList {
	errs := validateObjectMeta(&ev.ObjectMeta, true, nameIsDNSSubdomain, NewFieldPath("metadata"))
	io := ev.InvolvedObject
	if io.Namespace != "" && ev.Namespace != "" && io.Namespace != ev.Namespace {
		errs = append(errs, Invalid(NewFieldPath("involvedObject", "namespace"), io.Namespace, "does not match event.namespace"))
	}
	if ev.Type != "" {
		errs = append(errs, enum(ev.Type, []string{corev1.EventTypeNormal, corev1.EventTypeWarning}, false, nil, "type")...)
	}
	errs = append(errs, nonNegative(ev.Count, nil, "count")...)
	return errs
}

func validateBinding(b *corev1.Binding) ErrorList {
	errs := validateObjectMeta(&b.ObjectMeta, true, nameIsDNSSubdomain, NewFieldPath("metadata"))
	tp := NewFieldPath("target")
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		errs = append(errs, NotSupported(tp.Child("kind"), b.Target.Kind, []string{"Node", "<empty>"}))
	}
	if b.Target.Name == "" {
		errs = append(errs, Required(tp.Child("name"), ""))
	} else {
		for _, msg := range isDNS1123Subdomain(b.Target.Name) {
			errs = append(errs, Invalid(tp.Child("name"), b.Target.Name, msg))
		}
	}
	return errs
}

func validateLease(l *coordinationv1.Lease) ErrorList {
	errs := validateObjectMeta(&l.ObjectMeta, true, nameIsDNSSubdomain, NewFieldPath("metadata"))
	sp := NewFieldPath("spec")
	if d := l.Spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, Invalid(sp.Child("leaseDurationSeconds"), *d, "must be greater than 0"))
	}
	errs = append(errs, nonNegativePtr(l.Spec.LeaseTransitions, sp, "leaseTransitions")...)
	return errs
}
