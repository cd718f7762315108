package main

import (
	"bytes"
	"fmt"
)

// Schema is the subset of JSON Schema (draft 2020-12) the generator emits.
// Field order here is the key order in the written files, so that the files
// read top-down: what it is, its type, its constraints, its properties.
type Schema struct {
	SchemaURI   string             `json:"$schema,omitempty"`
	Title       string             `json:"title,omitempty"`
	Ref         string             `json:"$ref,omitempty"`
	Description string             `json:"description,omitempty"`
	Type        typeList           `json:"type,omitempty"`
	Format      string             `json:"format,omitempty"`
	Const       any                `json:"const,omitempty"`
	Enum        []any              `json:"enum,omitempty"`
	Pattern     string             `json:"pattern,omitempty"`
	Encoding    string             `json:"contentEncoding,omitempty"`
	Minimum     *int64             `json:"minimum,omitempty"`
	Maximum     *int64             `json:"maximum,omitempty"`
	Items       *Schema            `json:"items,omitempty"`
	MergeKey    string             `json:"x-kl-merge-key,omitempty"`
	Required    []string           `json:"required,omitempty"`
	Properties  *Properties        `json:"properties,omitempty"`
	AddlProps   *AdditionalProps   `json:"additionalProperties,omitempty"`
	UnknownHint string             `json:"x-kl-unknown-field-format,omitempty"`
	GVK         *GVKExt            `json:"x-kl-group-version-kind,omitempty"`
	Defs        map[string]*Schema `json:"$defs,omitempty"`

	// nullable records that the Go type admits JSON null (pointers, slices,
	// maps); applied to Type/Enum by makeNullable.
	nullable bool
	// refID is the fully qualified Go type a $ref points at, resolved to a
	// $defs name when the document is finished.
	refID string
}

// GVKExt names the kind a root schema describes.
type GVKExt struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

// typeList marshals as a single string when it has one element, as a list
// otherwise.
type typeList []string

func (t typeList) MarshalJSON() ([]byte, error) {
	if len(t) == 1 {
		return marshal(t[0])
	}
	return marshal([]string(t))
}

// AdditionalProps is either a boolean or a schema.
type AdditionalProps struct {
	Bool   *bool
	Schema *Schema
}

func (a AdditionalProps) MarshalJSON() ([]byte, error) {
	if a.Schema != nil {
		return marshal(a.Schema)
	}
	if a.Bool != nil {
		return marshal(*a.Bool)
	}
	return []byte("true"), nil
}

// Properties keeps properties in Go field order.
type Properties struct {
	Names  []string
	ByName map[string]*Schema
}

func (p *Properties) set(name string, s *Schema) {
	if p.ByName == nil {
		p.ByName = map[string]*Schema{}
	}
	if _, ok := p.ByName[name]; !ok {
		p.Names = append(p.Names, name)
	}
	p.ByName[name] = s
}

func (p *Properties) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, n := range p.Names {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := marshal(n)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		v, err := marshal(p.ByName[n])
		if err != nil {
			return nil, fmt.Errorf("property %s: %w", n, err)
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func (s *Schema) makeNullable() {
	s.nullable = true
	if len(s.Type) > 0 && !containsStr(s.Type, "null") {
		s.Type = append(s.Type, "null")
	}
	if len(s.Enum) > 0 && !containsAny(s.Enum, nil) {
		s.Enum = append(s.Enum, nil)
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsAny(list []any, v any) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// clone returns a deep enough copy of s for the generator's needs: the
// mutable parts (type, enum, description) are copied.
func (s *Schema) clone() *Schema {
	c := *s
	c.Type = append(typeList(nil), s.Type...)
	c.Enum = append([]any(nil), s.Enum...)
	return &c
}

// walk calls fn on s and every schema below it.
func (s *Schema) walk(fn func(*Schema)) {
	if s == nil {
		return
	}
	fn(s)
	s.Items.walk(fn)
	if s.AddlProps != nil {
		s.AddlProps.Schema.walk(fn)
	}
	if s.Properties != nil {
		for _, n := range s.Properties.Names {
			s.Properties.ByName[n].walk(fn)
		}
	}
	for _, d := range s.Defs {
		d.walk(fn)
	}
}

func boolp(b bool) *bool    { return &b }
func int64p(i int64) *int64 { return &i }
