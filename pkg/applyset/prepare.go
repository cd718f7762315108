package applyset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/manifest"
)

// Mapper resolves kinds to REST resources; *resource.Resolver implements
// it (one discovery round per command).
type Mapper interface {
	ForKind(ctx context.Context, apiVersion, kind string) (resource.Mapping, error)
	Mappings(ctx context.Context) ([]resource.Mapping, error)
}

var _ Mapper = (*resource.Resolver)(nil)

// Object is one manifest object ready to be applied.
type Object struct {
	// Manifest is the object as read.
	Manifest *manifest.Object
	// Mapping is its REST resource.
	Mapping resource.Mapping
	// Namespace is the namespace it is applied in ("" when cluster-scoped);
	// Name is its name.
	Namespace, Name string
	// Body is the JSON sent: the manifest with its namespace set and the
	// apply set's label added.
	Body []byte
}

// Member returns the object as a member of a set.
func (o *Object) Member() Member {
	return Member{Group: o.Mapping.GVR.Group, Kind: o.Mapping.Kind, Namespace: o.Namespace, Name: o.Name}
}

// Ref returns "TYPE/NAME" as kubectl prints it: "deployment.apps/web".
func (o *Object) Ref() string { return o.Mapping.Ref(o.Name) }

// PrepareOptions control Prepare.
type PrepareOptions struct {
	// Namespace is the namespace of objects that name none (-n, else the
	// context's); when ExplicitNamespace (-n given), an object naming
	// another namespace is an error, as in kubectl.
	Namespace         string
	ExplicitNamespace bool
	// Set, when not nil, is the set the objects are applied through: they
	// get its PartOfLabel.
	Set *Set
}

// Prepare resolves the REST mapping and namespace of each object and
// builds the body to send, keeping input order. Every problem is
// reported: the error is then a manifest.ErrorList, each naming the
// object's file:line.
func Prepare(ctx context.Context, mapper Mapper, objs []*manifest.Object, opts PrepareOptions) ([]*Object, error) {
	// Discovery first, so that a failure to reach the server is one error,
	// not one per object.
	if _, err := mapper.Mappings(ctx); err != nil {
		return nil, err
	}
	var out []*Object
	var errs manifest.ErrorList
	for _, mo := range objs {
		o, err := prepare(ctx, mapper, mo, opts)
		if err != nil {
			var me *manifest.Error
			if errors.As(err, &me) {
				errs = append(errs, me)
				continue
			}
			return nil, err // the server could not be asked
		}
		out = append(out, o)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

func prepare(ctx context.Context, mapper Mapper, mo *manifest.Object, opts PrepareOptions) (*Object, error) {
	fail := func(format string, args ...any) error {
		return &manifest.Error{Source: mo.Source, Object: mo.String(), Msg: fmt.Sprintf(format, args...)}
	}
	if mo.Name == "" {
		return nil, fail("metadata.name is required to apply an object")
	}
	m, err := mapper.ForKind(ctx, mo.APIVersion, mo.Kind)
	if err != nil {
		return nil, fail("%v", err)
	}
	o := &Object{Manifest: mo, Mapping: m, Name: mo.Name}
	if m.Namespaced {
		o.Namespace = opts.Namespace
		if mo.Namespace != "" {
			if opts.ExplicitNamespace && mo.Namespace != opts.Namespace {
				return nil, fail("the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation",
					mo.Namespace, opts.Namespace, mo.Namespace)
			}
			o.Namespace = mo.Namespace
		}
		if o.Namespace == "" {
			return nil, fail("no namespace: set metadata.namespace or use -n")
		}
	}
	body, err := buildBody(mo.Object, o.Namespace, opts.Set)
	if err != nil {
		return nil, fail("%v", err)
	}
	o.Body = body
	return o, nil
}

// buildBody returns obj as JSON with metadata.namespace set to ns (removed
// when ns is "") and, with a set, the set's label; obj is not modified.
func buildBody(obj map[string]any, ns string, set *Set) ([]byte, error) {
	out := maps.Clone(obj)
	md, _ := obj["metadata"].(map[string]any)
	md = maps.Clone(md)
	if md == nil {
		md = map[string]any{}
	}
	if ns == "" {
		delete(md, "namespace")
	} else {
		md["namespace"] = ns
	}
	if set != nil {
		labels, _ := md["labels"].(map[string]any)
		labels = maps.Clone(labels)
		if labels == nil {
			labels = map[string]any{}
		}
		labels[PartOfLabel] = set.ID
		md["labels"] = labels
	}
	out["metadata"] = md
	return json.Marshal(out)
}

// Select returns the objects whose labels (as the manifests set them)
// match sel (-l), in order.
func Select(objs []*Object, sel meta.Selector) []*Object {
	if sel.Empty() {
		return objs
	}
	var out []*Object
	for _, o := range objs {
		if sel.Matches(manifestLabels(o.Manifest)) {
			out = append(out, o)
		}
	}
	return out
}

// manifestLabels returns the object's metadata.labels as strings.
func manifestLabels(mo *manifest.Object) map[string]string {
	md, _ := mo.Object["metadata"].(map[string]any)
	raw, _ := md["labels"].(map[string]any)
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			out[k] = s
		} else if v != nil {
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}
