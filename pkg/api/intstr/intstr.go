// Package intstr implements IntOrString, the Kubernetes type for fields that
// take either a number or a string (a port number or name, a replica count
// or a percentage). It encodes as a bare JSON number or string, exactly like
// k8s.io/apimachinery/pkg/util/intstr.
package intstr

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Type says which member of an IntOrString is set.
type Type int64

// IntOrString types.
const (
	Int    Type = iota // IntVal is set
	String             // StrVal is set
)

// IntOrString holds an int32 or a string. The zero value is the integer 0.
type IntOrString struct {
	Type   Type
	IntVal int32
	StrVal string
}

// FromInt32 returns an IntOrString holding val.
func FromInt32(val int32) IntOrString { return IntOrString{Type: Int, IntVal: val} }

// FromInt returns an IntOrString holding val, which must fit an int32.
func FromInt(val int) IntOrString { return FromInt32(int32(val)) }

// FromString returns an IntOrString holding val.
func FromString(val string) IntOrString { return IntOrString{Type: String, StrVal: val} }

// Parse returns an integer IntOrString when val is a decimal int32, a string
// one otherwise.
func Parse(val string) IntOrString {
	i, err := strconv.ParseInt(val, 10, 32)
	if err != nil {
		return FromString(val)
	}
	return FromInt32(int32(i))
}

// String returns the string member, or the integer formatted in decimal.
func (is IntOrString) String() string {
	if is.Type == String {
		return is.StrVal
	}
	return strconv.Itoa(is.IntValue())
}

// IntValue returns the integer member, or the string member parsed as an
// integer (0 when it is not one).
func (is IntOrString) IntValue() int {
	if is.Type == String {
		i, _ := strconv.Atoi(is.StrVal)
		return i
	}
	return int(is.IntVal)
}

// MarshalJSON encodes a bare number or string.
func (is IntOrString) MarshalJSON() ([]byte, error) {
	switch is.Type {
	case Int:
		return json.Marshal(is.IntVal)
	case String:
		return json.Marshal(is.StrVal)
	default:
		return nil, fmt.Errorf("impossible IntOrString.Type %d", is.Type)
	}
}

// UnmarshalJSON decodes a JSON number (which must fit an int32) or string.
func (is *IntOrString) UnmarshalJSON(value []byte) error {
	if len(value) > 0 && value[0] == '"' {
		is.Type, is.IntVal = String, 0
		return json.Unmarshal(value, &is.StrVal)
	}
	is.Type, is.StrVal = Int, ""
	if err := json.Unmarshal(value, &is.IntVal); err != nil {
		return fmt.Errorf("int-or-string %s: %w", value, err)
	}
	return nil
}

// ValueOrDefault returns *intOrPercent, or defaultValue when it is nil.
func ValueOrDefault(intOrPercent *IntOrString, defaultValue IntOrString) *IntOrString {
	if intOrPercent == nil {
		return &defaultValue
	}
	return intOrPercent
}

// GetScaledValueFromIntOrPercent resolves an absolute number or a percentage
// ("25%") of total; a percentage is rounded up when roundUp is set, down
// otherwise. A string that is not a percentage is an error.
func GetScaledValueFromIntOrPercent(intOrPercent *IntOrString, total int, roundUp bool) (int, error) {
	if intOrPercent == nil {
		return 0, errors.New("nil value for IntOrString")
	}
	value, isPercent, err := intOrPercentValue(intOrPercent)
	if err != nil {
		return 0, fmt.Errorf("invalid value for IntOrString: %w", err)
	}
	if !isPercent {
		return value, nil
	}
	product := value * total
	if roundUp {
		return ceilDiv(product, 100), nil
	}
	return floorDiv(product, 100), nil
}

func intOrPercentValue(is *IntOrString) (int, bool, error) {
	switch is.Type {
	case Int:
		return is.IntValue(), false, nil
	case String:
		s, ok := strings.CutSuffix(is.StrVal, "%")
		if !ok {
			return 0, false, errors.New("invalid type: string is not a percentage")
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			return 0, false, fmt.Errorf("invalid value %q: %w", is.StrVal, err)
		}
		return v, true, nil
	}
	return 0, false, errors.New("invalid type: neither int nor percentage")
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) == (b < 0) {
		q++
	}
	return q
}
