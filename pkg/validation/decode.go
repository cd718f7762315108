package validation

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
)

// mapDecoder fills a typed object from a decoded JSON value (map[string]any
// and friends) directly, as encoding/json would from the encoded bytes, but
// without encoding and parsing the document again. Types with their own
// UnmarshalJSON (quantities, times, int-or-strings, Volume) get their JSON
// through it. It is meant for values the schema has already accepted: keys
// match exactly, unknown keys are ignored.
//
// The plans are built for every type reachable from the kinds in
// newMapDecoder and only read afterwards, so one decoder is safe for
// concurrent use.
type mapDecoder struct {
	plans map[reflect.Type]*typePlan
}

type typePlan struct {
	custom bool                 // *T implements json.Unmarshaler
	volume bool                 // corev1.Volume: fields plus unsupported sources
	fields map[string]fieldPlan // struct: JSON name -> field
}

type fieldPlan struct {
	index []int // reflect.Value.FieldByIndex path (through inlined structs)
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	volumeType      = reflect.TypeFor[corev1.Volume]()
)

func newMapDecoder(types ...reflect.Type) *mapDecoder {
	d := &mapDecoder{plans: map[reflect.Type]*typePlan{}}
	for _, t := range types {
		d.plan(t)
	}
	return d
}

func (d *mapDecoder) plan(t reflect.Type) {
	if _, ok := d.plans[t]; ok {
		return
	}
	p := &typePlan{}
	d.plans[t] = p
	if t == volumeType {
		// Volume.UnmarshalJSON decodes the fields and records the keys of
		// unsupported sources; do the same without the JSON round trip.
		p.volume = true
	} else if reflect.PointerTo(t).Implements(unmarshalerType) {
		p.custom = true
		return
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		d.plan(t.Elem())
	case reflect.Struct:
		p.fields = map[string]fieldPlan{}
		d.addFields(t, nil, p.fields, map[string]int{}, 0)
	}
}

// addFields collects the JSON fields of struct t as encoding/json does: a
// shallower field wins over an inlined one of the same name.
func (d *mapDecoder) addFields(t reflect.Type, index []int, out map[string]fieldPlan, depthOf map[string]int, depth int) {
	type inline struct {
		t     reflect.Type
		index []int
	}
	var inlines []inline
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" {
			continue
		}
		idx := append(append([]int(nil), index...), i)
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				inlines = append(inlines, inline{f.Type, idx})
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if prev, ok := depthOf[name]; ok && prev <= depth {
			continue
		}
		depthOf[name] = depth
		out[name] = fieldPlan{index: idx}
		d.plan(f.Type)
	}
	for _, in := range inlines {
		if in.t.Kind() == reflect.Pointer {
			// Inlined pointers would need allocation on the way down;
			// kl's types have none.
			continue
		}
		d.addFields(in.t, in.index, out, depthOf, depth+1)
	}
}

// decode fills rv (addressable) from v.
func (d *mapDecoder) decode(rv reflect.Value, v any) error {
	t := rv.Type()
	p, ok := d.plans[t]
	if !ok {
		// A type not planned (should not happen): take the slow road.
		return d.viaJSON(rv, v)
	}
	if p.custom {
		return d.viaJSON(rv, v)
	}
	if v == nil {
		switch t.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			rv.SetZero()
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(t.Elem()))
		}
		return d.decode(rv.Elem(), v)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return typeError(v, t)
		}
		var unsupported []string
		for k, val := range m {
			f, ok := p.fields[k]
			if !ok {
				if p.volume && val != nil {
					unsupported = append(unsupported, k)
				}
				continue
			}
			if err := d.decode(rv.FieldByIndex(f.index), val); err != nil {
				return inField(err, k)
			}
		}
		if p.volume {
			rv.Addr().Interface().(*corev1.Volume).SetUnsupportedSources(unsupported...)
		}
		return nil
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok || t.Key().Kind() != reflect.String {
			return typeError(v, t)
		}
		if rv.IsNil() {
			rv.Set(reflect.MakeMapWithSize(t, len(m)))
		}
		for k, val := range m {
			ev := reflect.New(t.Elem()).Elem()
			if err := d.decode(ev, val); err != nil {
				return inField(err, k)
			}
			rv.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		return nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			s, ok := v.(string)
			if !ok {
				return typeError(v, t)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return &decodeError{err: err}
			}
			rv.SetBytes(b)
			return nil
		}
		a, ok := v.([]any)
		if !ok {
			return typeError(v, t)
		}
		s := reflect.MakeSlice(t, len(a), len(a))
		for i, it := range a {
			if err := d.decode(s.Index(i), it); err != nil {
				return inField(err, "["+strconv.Itoa(i)+"]")
			}
		}
		rv.Set(s)
		return nil
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			return typeError(v, t)
		}
		rv.SetString(s)
		return nil
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return typeError(v, t)
		}
		rv.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := intValue(v)
		if !ok || rv.OverflowInt(i) {
			return typeError(v, t)
		}
		rv.SetInt(i)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, ok := intValue(v)
		if !ok || i < 0 || rv.OverflowUint(uint64(i)) {
			return typeError(v, t)
		}
		rv.SetUint(uint64(i))
		return nil
	case reflect.Float32, reflect.Float64:
		f, ok := floatValue(v)
		if !ok {
			return typeError(v, t)
		}
		rv.SetFloat(f)
		return nil
	case reflect.Interface:
		rv.Set(reflect.ValueOf(v))
		return nil
	}
	return d.viaJSON(rv, v)
}

// viaJSON hands v, as JSON, to the type's own UnmarshalJSON.
func (d *mapDecoder) viaJSON(rv reflect.Value, v any) error {
	b, err := appendJSON(nil, v)
	if err != nil {
		return &decodeError{err: err}
	}
	if u, ok := rv.Addr().Interface().(json.Unmarshaler); ok {
		err = u.UnmarshalJSON(b)
	} else {
		err = json.Unmarshal(b, rv.Addr().Interface())
	}
	if err != nil {
		return &decodeError{err: err}
	}
	return nil
}

// appendJSON encodes the scalars custom types usually hold without
// encoding/json, and anything else with it.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		for i := 0; i < len(x); i++ {
			if c := x[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return json.Marshal(x)
			}
		}
		b = append(b, '"')
		b = append(b, x...)
		return append(b, '"'), nil
	case json.Number:
		return append(b, x...), nil
	case float64:
		if a := math.Abs(x); x == 0 || (a >= 1e-6 && a < 1e21) {
			return strconv.AppendFloat(b, x, 'f', -1, 64), nil
		}
	}
	return json.Marshal(v)
}

// decodeError is a decoding failure with the field path it happened at.
type decodeError struct {
	path []string // innermost last once complete; built while unwinding
	err  error
}

func (e *decodeError) Error() string {
	var b strings.Builder
	for i := len(e.path) - 1; i >= 0; i-- {
		seg := e.path[i]
		if b.Len() > 0 && !strings.HasPrefix(seg, "[") {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	if b.Len() == 0 {
		return e.err.Error()
	}
	return b.String() + ": " + e.err.Error()
}

func (e *decodeError) Unwrap() error { return e.err }

// inField records that err happened inside field (or index) seg.
func inField(err error, seg string) error {
	de, ok := err.(*decodeError)
	if !ok {
		de = &decodeError{err: err}
	}
	de.path = append(de.path, seg)
	return de
}

func typeError(v any, t reflect.Type) error {
	return &decodeError{err: fmt.Errorf("cannot decode %s into Go value of type %s", jsonType(v), t)}
}

func intValue(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case json.Number:
		i, err := strconv.ParseInt(string(x), 10, 64)
		return i, err == nil
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint:
		return int64(x), x <= math.MaxInt64
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), x <= math.MaxInt64
	}
	return 0, false
}

func floatValue(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	if i, ok := intValue(v); ok {
		return float64(i), true
	}
	return 0, false
}
