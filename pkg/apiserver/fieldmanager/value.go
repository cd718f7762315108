package fieldmanager

import (
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strconv"
)

// This file holds helpers for JSON-like values: map[string]any, []any,
// string, bool, nil and numbers (json.Number, float64, or Go integers).

// Equal reports whether two JSON-like values are the same, comparing numbers
// by value so that json.Number("1"), json.Number("1.0") and float64(1) are
// equal. Callers use it to decide whether an apply changed the object.
func Equal(a, b any) bool {
	if an, ok := canonicalNumber(a); ok {
		bn, ok := canonicalNumber(b)
		return ok && an == bn
	}
	switch av := a.(type) {
	case nil:
		return b == nil
	case string:
		bv, ok := b.(string)
		return ok && av == bv
	case bool:
		bv, ok := b.(bool)
		return ok && av == bv
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok || !Equal(x, y) {
				return false
			}
		}
		return true
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !Equal(av[i], bv[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// canonicalNumber returns a canonical decimal spelling of a number value
// (integers without fraction or exponent), and false for non-numbers.
func canonicalNumber(v any) (string, bool) {
	switch n := v.(type) {
	case json.Number:
		s := string(n)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return strconv.FormatInt(i, 10), true
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return "?" + s, true // not a valid number: compare by spelling
		}
		return formatFloat(f), true
	case float64:
		return formatFloat(n), true
	case float32:
		return formatFloat(float64(n)), true
	case int:
		return strconv.FormatInt(int64(n), 10), true
	case int8:
		return strconv.FormatInt(int64(n), 10), true
	case int16:
		return strconv.FormatInt(int64(n), 10), true
	case int32:
		return strconv.FormatInt(int64(n), 10), true
	case int64:
		return strconv.FormatInt(n, 10), true
	case uint:
		return strconv.FormatUint(uint64(n), 10), true
	case uint8:
		return strconv.FormatUint(uint64(n), 10), true
	case uint16:
		return strconv.FormatUint(uint64(n), 10), true
	case uint32:
		return strconv.FormatUint(uint64(n), 10), true
	case uint64:
		return strconv.FormatUint(n, 10), true
	}
	return "", false
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e18 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// deepCopy copies maps and lists so that the result shares nothing mutable
// with v.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// appendCanonicalJSON appends v as JSON with sorted object keys and
// canonical numbers, so that equal values always have the same spelling.
func appendCanonicalJSON(buf []byte, v any) []byte {
	if n, ok := canonicalNumber(v); ok {
		if n != "" && n[0] == '?' { // invalid json.Number: keep it a string
			return appendJSONString(buf, n[1:])
		}
		return append(buf, n...)
	}
	switch t := v.(type) {
	case nil:
		return append(buf, "null"...)
	case bool:
		return strconv.AppendBool(buf, t)
	case string:
		return appendJSONString(buf, t)
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf = append(buf, '{')
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, k)
			buf = append(buf, ':')
			buf = appendCanonicalJSON(buf, t[k])
		}
		return append(buf, '}')
	case []any:
		buf = append(buf, '[')
		for i, x := range t {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendCanonicalJSON(buf, x)
		}
		return append(buf, ']')
	}
	b, err := json.Marshal(v)
	if err != nil {
		return append(buf, "null"...)
	}
	return append(buf, b...)
}

func appendJSONString(buf []byte, s string) []byte {
	b, _ := json.Marshal(s) // marshalling a string cannot fail
	return append(buf, b...)
}

// compareValues orders scalar JSON values: null < false < true < numbers <
// strings < lists < maps; used to sort FieldsV1 keys deterministically.
func compareValues(a, b any) int {
	ra, rb := valueRank(a), valueRank(b)
	if ra != rb {
		return ra - rb
	}
	switch ra {
	case 1:
		ab, bb := a.(bool), b.(bool)
		switch {
		case ab == bb:
			return 0
		case !ab:
			return -1
		}
		return 1
	case 2:
		fa, fb := numberValue(a), numberValue(b)
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	case 3:
		return compareStrings(a.(string), b.(string))
	}
	return compareStrings(string(appendCanonicalJSON(nil, a)), string(appendCanonicalJSON(nil, b)))
}

func valueRank(v any) int {
	if _, ok := canonicalNumber(v); ok {
		return 2
	}
	switch v.(type) {
	case nil:
		return 0
	case bool:
		return 1
	case string:
		return 3
	case []any:
		return 4
	}
	return 5
}

func numberValue(v any) float64 {
	s, _ := canonicalNumber(v)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.Inf(1)
	}
	return f
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// isScalar reports whether v is usable as a list key value.
func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any, nil:
		return false
	}
	return true
}
