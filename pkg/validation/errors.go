package validation

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Error types of a FieldError. Their Error() wording follows Kubernetes'
// field.ErrorType.
const (
	// TypeRequired: a required field is missing or empty.
	TypeRequired = "Required"
	// TypeInvalid: the value is malformed or out of range.
	TypeInvalid = "Invalid"
	// TypeNotSupported: the value is not one of a closed set (an enum).
	TypeNotSupported = "NotSupported"
	// TypeUnsupported: a field kl does not know (unknown field, unknown
	// kind, unsupported volume source). Its Detail is the whole message.
	TypeUnsupported = "Unsupported"
	// TypeDuplicate: the value must be unique within its list.
	TypeDuplicate = "Duplicate"
	// TypeNotFound: the value refers to something that does not exist.
	TypeNotFound = "NotFound"
	// TypeForbidden: the field may not be set (here, or at all).
	TypeForbidden = "Forbidden"
	// TypeTooLong: the value is longer than allowed.
	TypeTooLong = "TooLong"
)

// FieldError is one problem of an object, at a field.
type FieldError struct {
	// Field is the JSON path of the field, e.g.
	// "spec.template.spec.containers[0].image".
	Field string
	// Type is one of the Type* constants.
	Type string
	// Value is the offending value (nil when there is none to show).
	Value any
	// Detail explains the problem, e.g. "must be greater than or equal to 0".
	Detail string
	// Path is Field as raw JSON segments (object keys, array indexes as
	// decimal strings), e.g. ["spec", "template", "spec", "containers", "0",
	// "image"], for mapping an error to a position in the source document.
	// It ends at the deepest node that exists in the document: for a
	// missing required field it is the object that lacks it.
	Path []string
}

// Error formats the error as Kubernetes does:
// "spec.replicas: Invalid value: -1: must be greater than or equal to 0".
func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.ErrorBody()
	}
	return e.Field + ": " + e.ErrorBody()
}

// ErrorBody is Error without the field path.
func (e *FieldError) ErrorBody() string {
	var b strings.Builder
	withValue := func(label string) {
		b.WriteString(label)
		if e.Value != nil {
			b.WriteString(": ")
			b.WriteString(FormatValue(e.Value))
		}
	}
	switch e.Type {
	case TypeRequired:
		b.WriteString("Required value")
	case TypeInvalid:
		withValue("Invalid value")
	case TypeNotSupported:
		withValue("Unsupported value")
	case TypeDuplicate:
		withValue("Duplicate value")
	case TypeNotFound:
		withValue("Not found")
	case TypeForbidden:
		b.WriteString("Forbidden")
	case TypeTooLong:
		b.WriteString("Too long")
	case TypeUnsupported:
		return e.Detail
	default:
		b.WriteString(e.Type)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Reason is the Kubernetes StatusCause reason of the error type
// ("FieldValueInvalid", ...).
func (e *FieldError) Reason() string {
	switch e.Type {
	case TypeRequired:
		return "FieldValueRequired"
	case TypeInvalid:
		return "FieldValueInvalid"
	case TypeNotSupported:
		return "FieldValueNotSupported"
	case TypeDuplicate:
		return "FieldValueDuplicate"
	case TypeNotFound:
		return "FieldValueNotFound"
	case TypeForbidden:
		return "FieldValueForbidden"
	case TypeTooLong:
		return "FieldValueTooLong"
	}
	return "FieldValueUnsupported"
}

// FormatValue renders a value the way Kubernetes' field errors do: strings
// quoted, numbers and booleans bare, anything else as (shortened) JSON.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case *string:
		if x == nil {
			return "null"
		}
		return strconv.Quote(*x)
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x)
	case *int32:
		if x == nil {
			return "null"
		}
		return fmt.Sprint(*x)
	case *int64:
		if x == nil {
			return "null"
		}
		return fmt.Sprint(*x)
	case fmt.Stringer:
		return strconv.Quote(x.String())
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	const max = 80
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// ErrorList is the list of problems of one object; nil when it is valid.
type ErrorList []*FieldError

// Error joins the errors with "; ".
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Err returns l as an error, or nil when l is empty (so that an empty list
// never becomes a non-nil error interface).
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Causes converts the list to the causes of an Invalid Status.
func (l ErrorList) Causes() []meta.StatusCause {
	out := make([]meta.StatusCause, len(l))
	for i, e := range l {
		out[i] = meta.StatusCause{Type: e.Reason(), Message: e.ErrorBody(), Field: e.Field}
	}
	return out
}

// FieldPath builds the path of a field, as Kubernetes' field.Path:
// NewFieldPath("spec").Child("containers").Index(0).Child("image").
// A nil *FieldPath is the root.
type FieldPath struct {
	parent *FieldPath
	seg    string
	kind   segKind
}

type segKind uint8

const (
	segField segKind = iota
	segIndex
	segKey
)

// NewFieldPath returns the path of a top-level field and its children.
func NewFieldPath(name string, more ...string) *FieldPath {
	var p *FieldPath
	return p.Child(name, more...)
}

// Child returns the path of a field below p.
func (p *FieldPath) Child(name string, more ...string) *FieldPath {
	c := &FieldPath{parent: p, seg: name, kind: segField}
	for _, m := range more {
		c = &FieldPath{parent: c, seg: m, kind: segField}
	}
	return c
}

// Index returns the path of the i-th item of the list at p.
func (p *FieldPath) Index(i int) *FieldPath {
	return &FieldPath{parent: p, seg: strconv.Itoa(i), kind: segIndex}
}

// Key returns the path of a map entry at p ("metadata.labels[app]").
func (p *FieldPath) Key(k string) *FieldPath {
	return &FieldPath{parent: p, seg: k, kind: segKey}
}

// String renders the path: "spec.containers[0].image".
func (p *FieldPath) String() string {
	if p == nil {
		return ""
	}
	var segs []*FieldPath
	for q := p; q != nil; q = q.parent {
		segs = append(segs, q)
	}
	var b strings.Builder
	for i := len(segs) - 1; i >= 0; i-- {
		s := segs[i]
		switch s.kind {
		case segField:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.seg)
		default:
			b.WriteByte('[')
			b.WriteString(s.seg)
			b.WriteByte(']')
		}
	}
	return b.String()
}

// Segments returns the raw JSON segments of the path.
func (p *FieldPath) Segments() []string {
	n := 0
	for q := p; q != nil; q = q.parent {
		n++
	}
	out := make([]string, n)
	for q := p; q != nil; q = q.parent {
		n--
		out[n] = q.seg
	}
	return out
}

func newError(typ string, p *FieldPath, value any, detail string) *FieldError {
	return &FieldError{Field: p.String(), Type: typ, Value: value, Detail: detail, Path: p.Segments()}
}

// Required reports a missing value.
func Required(p *FieldPath, detail string) *FieldError {
	return newError(TypeRequired, p, nil, detail)
}

// Invalid reports a malformed value.
func Invalid(p *FieldPath, value any, detail string) *FieldError {
	return newError(TypeInvalid, p, value, detail)
}

// NotSupported reports a value outside a closed set.
func NotSupported(p *FieldPath, value any, valid []string) *FieldError {
	quoted := make([]string, len(valid))
	for i, v := range valid {
		quoted[i] = strconv.Quote(v)
	}
	return newError(TypeNotSupported, p, value, "supported values: "+strings.Join(quoted, ", "))
}

// Duplicate reports a value that must be unique.
func Duplicate(p *FieldPath, value any) *FieldError {
	return newError(TypeDuplicate, p, value, "")
}

// NotFound reports a reference to something that does not exist.
func NotFound(p *FieldPath, value any) *FieldError {
	return newError(TypeNotFound, p, value, "")
}

// Forbidden reports a field that may not be set.
func Forbidden(p *FieldPath, detail string) *FieldError {
	return newError(TypeForbidden, p, nil, detail)
}

// TooLong reports a value longer than max bytes.
func TooLong(p *FieldPath, max int) *FieldError {
	return newError(TypeTooLong, p, nil, fmt.Sprintf("must have at most %d bytes", max))
}

// Unsupported reports a field or kind kl does not know; detail is the
// whole message.
func Unsupported(p *FieldPath, detail string) *FieldError {
	return newError(TypeUnsupported, p, nil, detail)
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
