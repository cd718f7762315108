package resource

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Selection is one resource type argument and the object names given for
// it; no names means every object of the type.
type Selection struct {
	Type  string
	Names []string
}

// Target is a resolved Selection.
type Target struct {
	Mapping Mapping
	Names   []string
}

// ErrNoType is returned by ParseArgs when no argument names a resource
// type.
var ErrNoType = errors.New("you must specify the type of resource")

// ParseArgs splits the resource arguments of get, describe, delete, label
// and annotate. Three forms are accepted, as in kubectl:
//
//	TYPE [NAME...]          pods web-1 web-2
//	TYPE1,TYPE2 [NAME...]   deployments,services (each type with the names)
//	TYPE/NAME...            pod/web-1 service/web
//
// In the TYPE/NAME form every argument must be TYPE/NAME; names of the same
// type are gathered into one Selection. Selections keep the order in which
// their types first appear.
func ParseArgs(args []string) ([]Selection, error) {
	if len(args) == 0 {
		return nil, ErrNoType
	}
	slashed := 0
	for _, a := range args {
		if strings.Contains(a, "/") {
			slashed++
		}
	}
	if slashed > 0 {
		if slashed != len(args) {
			if !strings.Contains(args[0], "/") {
				return nil, fmt.Errorf("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'TYPE/NAME' instead of 'TYPE TYPE/NAME')")
			}
			return nil, fmt.Errorf("arguments in resource/name form must have a single resource and name")
		}
		var out []Selection
		index := map[string]int{}
		for _, a := range args {
			typ, name, _ := strings.Cut(a, "/")
			if typ == "" || name == "" || strings.Contains(name, "/") {
				return nil, fmt.Errorf("arguments in resource/name form must have a single resource and name: %q", a)
			}
			key := strings.ToLower(typ)
			i, ok := index[key]
			if !ok {
				i = len(out)
				index[key] = i
				out = append(out, Selection{Type: typ})
			}
			out[i].Names = append(out[i].Names, name)
		}
		return out, nil
	}
	var out []Selection
	for _, typ := range strings.Split(args[0], ",") {
		if typ == "" {
			return nil, fmt.Errorf("empty resource type in %q", args[0])
		}
		out = append(out, Selection{Type: typ, Names: append([]string(nil), args[1:]...)})
	}
	for _, n := range args[1:] {
		if n == "" {
			return nil, fmt.Errorf("empty resource name")
		}
	}
	return out, nil
}

// ResolveArgs parses args with ParseArgs and resolves each type. Types that
// resolve to the same resource ("po,pods") are merged.
func (r *Resolver) ResolveArgs(ctx context.Context, args []string) ([]Target, error) {
	sels, err := ParseArgs(args)
	if err != nil {
		return nil, err
	}
	return r.ResolveSelections(ctx, sels)
}

// ResolveSelections resolves the type of each selection; see ResolveArgs.
// A type that names no resource but a category ("all") stands for every
// resource of the category.
func (r *Resolver) ResolveSelections(ctx context.Context, sels []Selection) ([]Target, error) {
	var out []Target
	index := map[Mapping]int{}
	add := func(m Mapping, names []string) {
		if i, ok := index[m]; ok {
			out[i].Names = appendNew(out[i].Names, names...)
			return
		}
		index[m] = len(out)
		out = append(out, Target{Mapping: m, Names: appendNew(nil, names...)})
	}
	for _, s := range sels {
		m, err := r.Resolve(ctx, s.Type)
		var unknown *UnknownTypeError
		if errors.As(err, &unknown) {
			cat, cerr := r.Category(ctx, s.Type)
			if cerr != nil {
				return nil, cerr
			}
			if len(cat) > 0 {
				for _, m := range cat {
					add(m, s.Names)
				}
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		add(m, s.Names)
	}
	return out, nil
}

// appendNew appends the names not already in list.
func appendNew(list []string, names ...string) []string {
	for _, n := range names {
		dup := false
		for _, x := range list {
			dup = dup || x == n
		}
		if !dup {
			list = append(list, n)
		}
	}
	return list
}
