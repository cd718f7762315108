package main

// This file holds what the Go types cannot say by themselves: which Go types
// have a custom JSON form, which fields Kubernetes requires, which lists
// merge by key, which string types are closed enums, and the REST names of
// each kind. Entries name types by their path inside the module
// ("pkg/api/core/v1.Container") so the same rules apply to the test module.

// QuantityPattern is the regular expression Kubernetes' OpenAPI gives for
// resource.Quantity.
const QuantityPattern = `^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$`

// kindInfo is what the REST layer calls a kind.
type kindInfo struct {
	// Group overrides the group of the Go package (Scale lives in apps/v1
	// but is served as autoscaling/v1).
	Group      string
	Resource   string
	Namespaced bool
	ShortNames []string
	// Subresource is set for kinds that exist only as a subresource body
	// (Scale); they get a schema but no resource of their own.
	Subresource string
}

// UnknownField is the message for an unknown key of one struct.
type UnknownField struct {
	// Format has %q for the unknown key (filled by the validator) and
	// {supported} for Supported, joined with ", ".
	Format string
	// Supported must list the struct's properties other than "name" (in
	// the order the message shows them); the generator checks it.
	Supported []string
}

// Rules holds the tables of this file; Generate reads them, the tests
// extend them.
type Rules struct {
	Special             map[string]func() *Schema
	Required            map[string][]string
	MergeKeys           map[string]string
	ClosedEnums         map[string][]any
	FieldEnums          map[string][]any
	UnknownFieldFormats map[string]UnknownField
	Kinds               map[string]kindInfo
	GroupOfDir          map[string]string
	FallbackDocs        map[string]string
}

// DefaultRules returns the rules for kl's API types.
func DefaultRules() *Rules {
	return &Rules{
		// Special are types whose JSON form is not their Go shape (custom
		// MarshalJSON). A type with a MarshalJSON method that is not listed here
		// makes the generator fail, so that no such type is described wrongly.
		Special: map[string]func() *Schema{
			"pkg/api/meta.Time": func() *Schema {
				return &Schema{Type: typeList{"string", "null"}, Format: "date-time"}
			},
			"pkg/api/meta.MicroTime": func() *Schema {
				return &Schema{Type: typeList{"string", "null"}, Format: "date-time"}
			},
			"pkg/api/meta.Duration": func() *Schema {
				return &Schema{Type: typeList{"string"}, Pattern: `^([-+]?([0-9]*(\.[0-9]*)?[a-zµμ]+)+|0)$`}
			},
			// RawJSON holds any JSON value.
			"pkg/api/meta.RawJSON": func() *Schema { return &Schema{} },
			"pkg/api/resource.Quantity": func() *Schema {
				// The pattern is Kubernetes' OpenAPI one; format "quantity"
				// lets kl's validator parse the value exactly.
				return &Schema{Type: typeList{"string", "number"}, Format: "quantity", Pattern: QuantityPattern}
			},
			"pkg/api/intstr.IntOrString": func() *Schema {
				return &Schema{Type: typeList{"integer", "string"}}
			},
		},

		// Required lists, per struct type, the fields Kubernetes requires.
		// Fields without omitempty are not required by default: a Go client always
		// sends them, but a manifest may leave them out and get the default.
		Required: map[string][]string{
			"pkg/api/meta.OwnerReference":           {"apiVersion", "kind", "name", "uid"},
			"pkg/api/meta.LabelSelectorRequirement": {"key", "operator"},
			"pkg/api/core/v1.Container":             {"name"},
			"pkg/api/core/v1.ContainerPort":         {"containerPort"},
			"pkg/api/core/v1.ServicePort":           {"port"},
			"pkg/api/core/v1.EnvVar":                {"name"},
			"pkg/api/core/v1.Volume":                {"name"},
			"pkg/api/core/v1.VolumeMount":           {"name", "mountPath"},
			"pkg/api/core/v1.KeyToPath":             {"key", "path"},
			"pkg/api/core/v1.ConfigMapKeySelector":  {"key"},
			"pkg/api/core/v1.SecretKeySelector":     {"key"},
			"pkg/api/core/v1.ObjectFieldSelector":   {"fieldPath"},
			"pkg/api/core/v1.ResourceFieldSelector": {"resource"},
			"pkg/api/core/v1.HTTPGetAction":         {"port"},
			"pkg/api/core/v1.TCPSocketAction":       {"port"},
			"pkg/api/core/v1.HostPathVolumeSource":  {"path"},
			"pkg/api/core/v1.PodSpec":               {"containers"},
			"pkg/api/core/v1.Taint":                 {"key", "effect"},
			"pkg/api/core/v1.EndpointAddress":       {"ip"},
			"pkg/api/core/v1.EndpointPort":          {"port"},
			"pkg/api/core/v1.Binding":               {"target"},
			"pkg/api/core/v1.HTTPHeader":            {"name", "value"},
			"pkg/api/apps/v1.DeploymentSpec":        {"selector", "template"},
			"pkg/api/apps/v1.ReplicaSetSpec":        {"selector"},
		},

		// MergeKeys gives, per list element type, the field server-side apply
		// merges list items by ("x-kl-merge-key").
		MergeKeys: map[string]string{
			"pkg/api/meta.OwnerReference":          "uid",
			"pkg/api/core/v1.Container":            "name",
			"pkg/api/core/v1.ContainerPort":        "containerPort",
			"pkg/api/core/v1.ServicePort":          "port",
			"pkg/api/core/v1.EnvVar":               "name",
			"pkg/api/core/v1.Volume":               "name",
			"pkg/api/core/v1.VolumeMount":          "mountPath",
			"pkg/api/core/v1.LocalObjectReference": "name",
			"pkg/api/core/v1.PodCondition":         "type",
			"pkg/api/core/v1.NodeCondition":        "type",
			"pkg/api/core/v1.NamespaceCondition":   "type",
			"pkg/api/core/v1.NodeAddress":          "type",
			"pkg/api/apps/v1.DeploymentCondition":  "type",
			"pkg/api/apps/v1.ReplicaSetCondition":  "type",
		},

		// ClosedEnums are the named string types whose set of values is closed in
		// Kubernetes, with that set. The generator warns when the package declares
		// a constant of the type that is not in the set.
		ClosedEnums: map[string][]any{
			"pkg/api/core/v1.RestartPolicy":                {"Always", "OnFailure", "Never"},
			"pkg/api/core/v1.PullPolicy":                   {"Always", "Never", "IfNotPresent"},
			"pkg/api/core/v1.Protocol":                     {"TCP", "UDP", "SCTP"},
			"pkg/api/core/v1.ServiceType":                  {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"},
			"pkg/api/core/v1.TaintEffect":                  {"NoSchedule", "PreferNoSchedule", "NoExecute"},
			"pkg/api/core/v1.TolerationOperator":           {"Exists", "Equal"},
			"pkg/api/core/v1.DNSPolicy":                    {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"},
			"pkg/api/core/v1.ServiceAffinity":              {"ClientIP", "None"},
			"pkg/api/apps/v1.DeploymentStrategyType":       {"Recreate", "RollingUpdate"},
			"pkg/api/core/v1.ServiceExternalTrafficPolicy": {"Cluster", "Local"},
			"pkg/api/core/v1.ServiceInternalTrafficPolicy": {"Cluster", "Local"},
			"pkg/api/core/v1.TerminationMessagePolicy":     {"File", "FallbackToLogsOnError"},
			"pkg/api/core/v1.URIScheme":                    {"HTTP", "HTTPS"},
			"pkg/api/core/v1.PreemptionPolicy":             {"PreemptLowerPriority", "Never"},
			"pkg/api/core/v1.IPFamily":                     {"IPv4", "IPv6"},
			"pkg/api/core/v1.IPFamilyPolicy":               {"SingleStack", "PreferDualStack", "RequireDualStack"},
			"pkg/api/core/v1.HostPathType":                 {"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"},
			"pkg/api/core/v1.StorageMedium":                {"", "Memory"},
		},

		// FieldEnums are closed enums on fields typed as plain string, keyed by
		// "<struct type>.<json name>". Used only when the field's Go type is not a
		// named type listed in ClosedEnums.
		FieldEnums: map[string][]any{
			"pkg/api/meta.LabelSelectorRequirement.operator": {"In", "NotIn", "Exists", "DoesNotExist"},
		},

		// UnknownFieldFormats replaces the "unknown field" message for a
		// struct: unknown keys of a Volume are volume sources kl does not
		// support.
		UnknownFieldFormats: map[string]UnknownField{
			"pkg/api/core/v1.Volume": {
				Format:    "volume source %q is not supported by kl (supported: {supported})",
				Supported: []string{"emptyDir", "configMap", "secret", "hostPath"},
			},
		},

		// Kinds gives the REST names of every kind, keyed by "<group>/<Kind>" with
		// "" for the core group. A kind found in the Go types but missing here makes
		// the generator fail.
		Kinds: map[string]kindInfo{
			"/Namespace":                {Resource: "namespaces", ShortNames: []string{"ns"}},
			"/Node":                     {Resource: "nodes", ShortNames: []string{"no"}},
			"/Pod":                      {Resource: "pods", Namespaced: true, ShortNames: []string{"po"}},
			"/Service":                  {Resource: "services", Namespaced: true, ShortNames: []string{"svc"}},
			"/Endpoints":                {Resource: "endpoints", Namespaced: true, ShortNames: []string{"ep"}},
			"/ConfigMap":                {Resource: "configmaps", Namespaced: true, ShortNames: []string{"cm"}},
			"/Secret":                   {Resource: "secrets", Namespaced: true},
			"/ServiceAccount":           {Resource: "serviceaccounts", Namespaced: true, ShortNames: []string{"sa"}},
			"/Event":                    {Resource: "events", Namespaced: true, ShortNames: []string{"ev"}},
			"/Binding":                  {Resource: "bindings", Namespaced: true},
			"apps/ReplicaSet":           {Resource: "replicasets", Namespaced: true, ShortNames: []string{"rs"}},
			"apps/Deployment":           {Resource: "deployments", Namespaced: true, ShortNames: []string{"deploy"}},
			"apps/Scale":                {Group: "autoscaling", Namespaced: true, Subresource: "scale"},
			"coordination.k8s.io/Lease": {Resource: "leases", Namespaced: true},
		},

		// GroupOfDir maps pkg/api/<dir> to the API group when the package declares
		// no GroupName constant.
		GroupOfDir: map[string]string{
			"core":         "",
			"apps":         "apps",
			"coordination": "coordination.k8s.io",
		},

		// FallbackDocs describe fields of pkg/api/meta that carry no doc comment, so
		// that `kl explain` has something to say about them.
		FallbackDocs: map[string]string{
			"pkg/api/meta.TypeMeta.kind":                         "Kind is a string value representing the REST resource this object represents.",
			"pkg/api/meta.TypeMeta.apiVersion":                   "APIVersion defines the versioned schema of this representation of an object.",
			"pkg/api/meta.ObjectMeta.name":                       "Name must be unique within a namespace. Required when creating resources, unless generateName is used. Cannot be updated.",
			"pkg/api/meta.ObjectMeta.generateName":               "GenerateName is an optional prefix used by the server to generate a unique name when name is not provided.",
			"pkg/api/meta.ObjectMeta.namespace":                  "Namespace defines the space within which each name must be unique. Cannot be updated.",
			"pkg/api/meta.ObjectMeta.uid":                        "UID is the unique in time and space value for this object, set by the server. Read-only.",
			"pkg/api/meta.ObjectMeta.resourceVersion":            "An opaque value that represents the internal version of this object, used for optimistic concurrency. Read-only.",
			"pkg/api/meta.ObjectMeta.generation":                 "A sequence number representing a specific generation of the desired state. Read-only.",
			"pkg/api/meta.ObjectMeta.creationTimestamp":          "CreationTimestamp is the time this object was created, set by the server. Read-only.",
			"pkg/api/meta.ObjectMeta.deletionTimestamp":          "DeletionTimestamp is the time after which this object will be deleted, set by the server when a graceful deletion is requested. Read-only.",
			"pkg/api/meta.ObjectMeta.deletionGracePeriodSeconds": "Number of seconds allowed for this object to gracefully terminate before it will be removed from the system. Read-only.",
			"pkg/api/meta.ObjectMeta.labels":                     "Map of string keys and values that can be used to organize and categorize (scope and select) objects.",
			"pkg/api/meta.ObjectMeta.annotations":                "Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata.",
			"pkg/api/meta.ObjectMeta.ownerReferences":            "List of objects depended by this object. If all objects in the list have been deleted, this object will be garbage collected.",
			"pkg/api/meta.ObjectMeta.finalizers":                 "Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list.",
			"pkg/api/meta.ObjectMeta.managedFields":              "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow (server-side apply).",
			"pkg/api/meta.LabelSelector.matchLabels":             "matchLabels is a map of {key,value} pairs; each is equivalent to an element of matchExpressions whose key field is \"key\", operator is \"In\" and values array contains only \"value\".",
			"pkg/api/meta.LabelSelector.matchExpressions":        "matchExpressions is a list of label selector requirements. The requirements are ANDed.",
			"pkg/api/meta.LabelSelectorRequirement.key":          "key is the label key that the selector applies to.",
			"pkg/api/meta.LabelSelectorRequirement.operator":     "operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist.",
			"pkg/api/meta.LabelSelectorRequirement.values":       "values is an array of string values. For In and NotIn it must be non-empty; for Exists and DoesNotExist it must be empty.",
			"pkg/api/meta.OwnerReference.apiVersion":             "API version of the referent.",
			"pkg/api/meta.OwnerReference.kind":                   "Kind of the referent.",
			"pkg/api/meta.OwnerReference.name":                   "Name of the referent.",
			"pkg/api/meta.OwnerReference.uid":                    "UID of the referent.",
			"pkg/api/meta.OwnerReference.controller":             "If true, this reference points to the managing controller.",
			"pkg/api/meta.OwnerReference.blockOwnerDeletion":     "If true, the owner cannot be deleted from storage until this reference is removed (foreground deletion).",
		},
	}
}
