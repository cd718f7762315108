package validation

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/kl-dev/kl/pkg/suggest"
	"io/fs"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
	"github.com/kl-dev/kl/schemas"
)

// quantityPattern is the pattern the generator gives resource.Quantity.
const quantityPattern = `^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$`

// Validator checks objects against the JSON Schemas of their kinds. It
// compiles every schema once, in NewValidator; afterwards it is read-only
// and safe for concurrent use.
type Validator struct {
	kinds map[gvk]*kindSchema
	// apiVersions lists, per kind name, the apiVersions that serve it (for
	// the hint on a wrong apiVersion).
	apiVersions map[string][]string
	// supported is the sorted, comma-separated list of kind names.
	supported string
	// dec fills typed objects from decoded manifests.
	dec *mapDecoder
}

type gvk struct{ apiVersion, kind string }

type kindSchema struct {
	info   schemas.Kind
	schema *jsonschema.Schema
	url    string
	raw    any // the decoded schema document, to read keywords at error time
	fast   *fastNode
}

// NewValidator compiles the schemas embedded in package schemas.
func NewValidator() (*Validator, error) { return NewValidatorFS(schemas.FS) }

// NewValidatorFS compiles the schemas of fsys, laid out as package schemas'
// FS (index.json and the files it names).
func NewValidatorFS(fsys fs.FS) (*Validator, error) {
	kinds, err := schemas.ReadIndex(fsys)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.AssertContent()
	c.RegisterFormat(&jsonschema.Format{Name: "quantity", Validate: validateQuantityFormat})
	v := &Validator{kinds: map[gvk]*kindSchema{}, apiVersions: map[string][]string{}}
	var names []string
	for _, k := range kinds {
		f, err := fsys.Open(k.Schema)
		if err != nil {
			return nil, fmt.Errorf("open schema %s: %w", k.Schema, err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("decode schema %s: %w", k.Schema, err)
		}
		url := "file:///kl/schemas/" + k.Schema
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("add schema %s: %w", k.Schema, err)
		}
		sch, err := c.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("compile schema %s: %w", k.Schema, err)
		}
		fast := compileFast(sch, map[*jsonschema.Schema]*fastNode{})
		v.kinds[gvk{k.APIVersion(), k.Kind}] = &kindSchema{info: k, schema: sch, url: url, raw: doc, fast: fast}
		if _, seen := v.apiVersions[k.Kind]; !seen {
			names = append(names, k.Kind)
		}
		v.apiVersions[k.Kind] = append(v.apiVersions[k.Kind], k.APIVersion())
	}
	sort.Strings(names)
	v.supported = strings.Join(names, ", ")
	var types []reflect.Type
	for _, k := range kinds {
		if obj := NewObject(k.APIVersion(), k.Kind); obj != nil {
			types = append(types, reflect.TypeOf(obj).Elem())
		}
	}
	v.dec = newMapDecoder(types...)
	return v, nil
}

// Kinds returns the index entries of the kinds the validator knows, sorted
// by apiVersion and kind.
func (v *Validator) Kinds() []schemas.Kind {
	out := make([]schemas.Kind, 0, len(v.kinds))
	for _, k := range v.kinds {
		out = append(out, k.info)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].APIVersion() != out[j].APIVersion() {
			return out[i].APIVersion() < out[j].APIVersion()
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// ValidateSchema checks a decoded manifest (JSON types: map[string]any,
// []any, string, float64/json.Number/ints, bool, nil) against the schema of
// its apiVersion and kind. Errors are sorted by field.
func (v *Validator) ValidateSchema(obj map[string]any) ErrorList {
	ks, errs := v.lookup(obj)
	if errs != nil {
		return errs
	}
	if ks.fast.valid(obj) {
		return nil
	}
	err := ks.schema.Validate(obj)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return ErrorList{Invalid(nil, nil, err.Error())}
	}
	var out ErrorList
	v.collect(ks, obj, ve, &out)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Field != out[j].Field {
			return out[i].Field < out[j].Field
		}
		return out[i].Detail < out[j].Detail
	})
	return out
}

func (v *Validator) lookup(obj map[string]any) (*kindSchema, ErrorList) {
	var errs ErrorList
	str := func(name string) string {
		raw, ok := obj[name]
		if !ok || raw == nil || raw == "" {
			e := Required(NewFieldPath(name), fmt.Sprintf("missing required field %q", name))
			e.Path = nil
			errs = append(errs, e)
			return ""
		}
		s, ok := raw.(string)
		if !ok {
			errs = append(errs, Invalid(NewFieldPath(name), raw, "expected string, got "+jsonType(raw)))
		}
		return s
	}
	apiVersion, k := str("apiVersion"), str("kind")
	if errs != nil {
		return nil, errs
	}
	ks, ok := v.kinds[gvk{apiVersion, k}]
	if !ok {
		msg := fmt.Sprintf("unknown kind %q for apiVersion %q; supported kinds: %s", k, apiVersion, v.supported)
		if avs := v.apiVersions[k]; len(avs) > 0 {
			msg = fmt.Sprintf("unknown kind %q for apiVersion %q (did you mean apiVersion %q?)", k, apiVersion, avs[0])
		}
		return nil, ErrorList{Unsupported(NewFieldPath("kind"), msg)}
	}
	return ks, nil
}

// collect maps the leaves of a jsonschema error tree to FieldErrors.
func (v *Validator) collect(ks *kindSchema, obj any, ve *jsonschema.ValidationError, out *ErrorList) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			v.collect(ks, obj, c, out)
		}
		return
	}
	loc := ve.InstanceLocation
	value, _ := valueAt(obj, loc)
	at := func(typ string, val any, detail string) *FieldError {
		return &FieldError{Field: renderPath(obj, loc), Type: typ, Value: val, Detail: detail, Path: append([]string(nil), loc...)}
	}
	child := func(typ, name, detail string, inDoc bool) *FieldError {
		p := append(append([]string(nil), loc...), name)
		e := &FieldError{Field: renderPath(obj, p), Type: typ, Detail: detail, Path: p}
		if !inDoc {
			e.Path = p[:len(p)-1]
		}
		return e
	}
	shown := value
	switch value.(type) {
	case map[string]any, []any:
		shown = nil // too big to be useful in a one-line message
	}
	switch k := ve.ErrorKind.(type) {
	case *kind.Type:
		*out = append(*out, at(TypeInvalid, shown, fmt.Sprintf("expected %s, got %s", wantTypes(k.Want), k.Got)))
	case *kind.Enum:
		*out = append(*out, at(TypeNotSupported, shown, "must be one of "+joinValues(k.Want)))
	case *kind.Const:
		*out = append(*out, at(TypeInvalid, shown, "must be "+FormatValue(k.Want)))
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, child(TypeRequired, m, fmt.Sprintf("missing required field %q", m), false))
		}
	case *kind.AdditionalProperties:
		node := ks.schemaAt(strings.TrimSuffix(ve.SchemaURL, "/additionalProperties"))
		for _, p := range k.Properties {
			*out = append(*out, child(TypeUnsupported, p, unknownFieldMessage(node, p), true))
		}
	case *kind.Minimum:
		*out = append(*out, at(TypeInvalid, shown, "must be greater than or equal to "+ratString(k.Want)))
	case *kind.Maximum:
		*out = append(*out, at(TypeInvalid, shown, "must be less than or equal to "+ratString(k.Want)))
	case *kind.Pattern:
		if k.Want == quantityPattern {
			return // the "quantity" format reports it, more precisely
		}
		*out = append(*out, at(TypeInvalid, shown, fmt.Sprintf("must match the regular expression '%s'", k.Want)))
	case *kind.Format:
		detail := fmt.Sprintf("must be a valid %s", k.Want)
		switch k.Want {
		case "date-time":
			detail = `must be an RFC 3339 date-time (e.g. "2006-01-02T15:04:05Z")`
		case "quantity":
			if err := errors.Unwrap(k.Err); err != nil {
				detail = err.Error()
			}
		}
		*out = append(*out, at(TypeInvalid, shown, detail))
	case *kind.ContentEncoding:
		*out = append(*out, at(TypeInvalid, nil, "must be "+k.Want+"-encoded"))
	case *kind.InvalidJsonValue:
		*out = append(*out, at(TypeInvalid, nil, fmt.Sprintf("not a JSON value (Go type %T)", k.Value)))
	default:
		*out = append(*out, at(TypeInvalid, shown, strings.Join(ve.ErrorKind.KeywordPath(), "/")+" failed"))
	}
}

// validateQuantityFormat is the "quantity" format: the value must parse
// as a resource.Quantity, as decoding will.
func validateQuantityFormat(v any) error {
	var s string
	switch x := v.(type) {
	case string:
		s = strings.TrimSpace(x)
	case json.Number:
		s = x.String()
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		s = strconv.FormatFloat(float64(x), 'f', -1, 32)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		s = fmt.Sprint(x)
	default:
		return nil // not a string or number: the type keyword reports it
	}
	_, err := resource.ParseQuantity(s)
	return err
}

// schemaAt returns the schema object at an absolute schema location
// ("file:///kl/schemas/core/v1/pod.json#/$defs/Volume"), or nil.
func (ks *kindSchema) schemaAt(loc string) map[string]any {
	_, frag, _ := strings.Cut(loc, "#")
	cur := ks.raw
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	m, _ := cur.(map[string]any)
	return m
}

// unknownFieldMessage explains an unknown key of the object whose schema is
// node: the schema's own format when it has one (Volume: an unsupported
// volume source), else a suggestion of the closest known field.
func unknownFieldMessage(node map[string]any, name string) string {
	if f, ok := node["x-kl-unknown-field-format"].(string); ok {
		return fmt.Sprintf(f, name)
	}
	msg := fmt.Sprintf("unknown field %q", name)
	props, _ := node["properties"].(map[string]any)
	known := make([]string, 0, len(props))
	for p := range props {
		known = append(known, p)
	}
	if s := suggest.Closest(name, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// valueAt returns the value at a JSON location.
func valueAt(doc any, loc []string) (any, bool) {
	cur := doc
	for _, tok := range loc {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// renderPath turns JSON segments into a Kubernetes field path, using the
// document to tell list indexes from object keys:
// spec.template.spec.containers[0].image, metadata.labels[app.kubernetes.io/name].
func renderPath(doc any, loc []string) string {
	var b strings.Builder
	cur := doc
	for _, tok := range loc {
		switch c := cur.(type) {
		case []any:
			b.WriteString("[" + tok + "]")
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(c) {
				cur = c[i]
			} else {
				cur = nil
			}
			continue
		case map[string]any:
			cur = c[tok]
		default:
			cur = nil
		}
		if identRe.MatchString(tok) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
		} else {
			b.WriteString("[" + tok + "]")
		}
	}
	return b.String()
}

func wantTypes(want []string) string {
	var w []string
	for _, t := range want {
		if t != "null" {
			w = append(w, t)
		}
	}
	if len(w) == 0 {
		w = want
	}
	return strings.Join(w, " or ")
}

func joinValues(vals []any) string {
	var parts []string
	for _, v := range vals {
		if v == nil {
			continue
		}
		parts = append(parts, FormatValue(v))
	}
	return strings.Join(parts, ", ")
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	return r.FloatString(3)
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case float32, float64:
		return "number"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "integer"
	}
	return fmt.Sprintf("%T", v)
}

// apiVersionKind reads apiVersion and kind from an object's TypeMeta.
func apiVersionKind(obj meta.Object) (string, string) {
	tm := obj.GetTypeMeta()
	return tm.APIVersion, tm.Kind
}
