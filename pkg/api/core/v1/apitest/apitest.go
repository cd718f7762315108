// Package apitest holds test helpers for the API type packages: filling an
// object with non-zero values in every field, checking that a deep copy
// shares no memory with its source, and JSON round trips of fixtures.
package apitest

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/api/resource"
)

// Fill sets every exported field reachable from ptr (a pointer to a struct)
// to a non-zero value: strings "x", numbers 7, bools true, one-element
// slices and maps, allocated pointers. Times, quantities, int-or-strings and
// raw JSON get valid values so the result encodes and decodes losslessly.
func Fill(ptr any) {
	fill(reflect.ValueOf(ptr).Elem())
}

func fill(v reflect.Value) {
	switch x := v.Addr().Interface().(type) {
	case *meta.Time:
		*x = meta.NewTime(time.Unix(1700000000, 0))
		return
	case *meta.MicroTime:
		*x = meta.MicroTime{Time: time.Unix(1700000000, 123456000).UTC()}
		return
	case *resource.Quantity:
		*x = resource.MustParse("1500m")
		return
	case *intstr.IntOrString:
		*x = intstr.FromString("http")
		return
	case *meta.RawJSON:
		*x = meta.RawJSON(`{"f:x":{}}`)
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem())
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(k)
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}

var timeType = reflect.TypeFor[time.Time]()

// AssertIndependent fails the test when copy is not deeply equal to orig or
// when the two share any pointer, slice backing array or map (time.Time
// values are skipped: their *Location is immutable and shared by design).
func AssertIndependent(t *testing.T, orig, copy any) {
	t.Helper()
	if !reflect.DeepEqual(orig, copy) {
		t.Fatalf("copy differs from original:\n orig %+v\n copy %+v", orig, copy)
	}
	checkShared(t, "", reflect.ValueOf(orig), reflect.ValueOf(copy))
}

func checkShared(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	if a.Type() == timeType {
		return
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s: pointer shared between original and copy", path)
			return
		}
		checkShared(t, path, a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() == 0 || b.Len() == 0 {
			return
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s: slice backing array shared between original and copy", path)
			return
		}
		for i := 0; i < a.Len() && i < b.Len(); i++ {
			checkShared(t, path+"[]", a.Index(i), b.Index(i))
		}
	case reflect.Map:
		if a.IsNil() || b.IsNil() {
			return
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s: map shared between original and copy", path)
			return
		}
		for _, k := range a.MapKeys() {
			if bv := b.MapIndex(k); bv.IsValid() {
				checkShared(t, path+"[key]", a.MapIndex(k), bv)
			}
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			checkShared(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
		}
	case reflect.Interface:
		if !a.IsNil() && !b.IsNil() {
			checkShared(t, path, a.Elem(), b.Elem())
		}
	}
}

// RoundTrip decodes the JSON file at path into obj, encodes obj again and
// fails the test unless the result is the same JSON document (compared as
// generic maps, so key order and whitespace do not matter).
func RoundTrip(t *testing.T, path string, obj any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	if err := json.Unmarshal(data, obj); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("encode %s: %v", path, err)
	}
	AssertSameJSON(t, data, out)
}

// AssertSameJSON fails the test unless want and got are the same JSON
// document (compared as generic values).
func AssertSameJSON(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("decode want: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("decode got: %v", err)
	}
	if !reflect.DeepEqual(w, g) {
		wi, _ := json.MarshalIndent(w, "", "  ")
		gi, _ := json.MarshalIndent(g, "", "  ")
		t.Errorf("JSON differs\nwant:\n%s\ngot:\n%s", wi, gi)
	}
}

// FilledRoundTrip fills obj (a pointer to a struct) with Fill, encodes it,
// decodes the JSON into fresh (a pointer to a zero value of the same type)
// and fails the test unless the two are deeply equal: every field survives
// JSON.
func FilledRoundTrip(t *testing.T, obj, fresh any) {
	t.Helper()
	Fill(obj)
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	if err := json.Unmarshal(data, fresh); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !reflect.DeepEqual(obj, fresh) {
		t.Errorf("%T does not survive a JSON round trip:\n%s", obj, data)
	}
}
