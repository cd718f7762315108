package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Generator turns the Go API types of a module into JSON Schemas. It reads
// source only (go/parser), so it runs even when the module does not build.
type Generator struct {
	// Root is the module's directory (where go.mod is).
	Root string
	// Rules are the facts the Go types do not carry.
	Rules *Rules
	// Warnings collects problems found in the types that do not stop the
	// generation (for example a required field with omitempty).
	Warnings []string

	module string
	fset   *token.FileSet
	pkgs   map[string]*goPackage
	used   map[string]bool // "<table>:<key>" of every rule applied
}

// goPackage is one parsed package of the module.
type goPackage struct {
	rel        string // module-relative directory, e.g. "pkg/api/core/v1"
	name       string
	types      map[string]*typeDecl
	consts     map[string][]string // named type -> constant values
	marshalers map[string]bool     // types with a MarshalJSON method
	groupName  *string             // value of a GroupName constant
}

// typeDecl is one type declaration with what is needed to resolve the
// identifiers in it.
type typeDecl struct {
	pkg     *goPackage
	name    string
	spec    *ast.TypeSpec
	doc     string
	imports map[string]string // local name -> module-relative dir, or "ext:" + import path
}

func (t *typeDecl) id() string { return t.pkg.rel + "." + t.name }

// Output is the generated file set: path relative to the output directory
// -> content.
type Output map[string][]byte

// IndexEntry describes one kind in schemas/index.json.
type IndexEntry struct {
	Group       string   `json:"group"`
	Version     string   `json:"version"`
	Kind        string   `json:"kind"`
	Resource    string   `json:"resource,omitempty"`
	Subresource string   `json:"subresource,omitempty"`
	Namespaced  bool     `json:"namespaced"`
	ShortNames  []string `json:"shortNames,omitempty"`
	Schema      string   `json:"schema"`
}

// Index is the content of schemas/index.json.
type Index struct {
	Kinds []IndexEntry `json:"kinds"`
}

var versionDir = regexp.MustCompile(`^v[0-9]+((alpha|beta)[0-9]+)?$`)

// Generate parses pkg/api/<group>/<version> under Root and returns one
// schema per kind plus index.json.
func (g *Generator) Generate() (Output, error) {
	g.fset = token.NewFileSet()
	g.pkgs = map[string]*goPackage{}
	g.used = map[string]bool{}
	mod, err := readModulePath(filepath.Join(g.Root, "go.mod"))
	if err != nil {
		return nil, err
	}
	g.module = mod

	apiDir := filepath.Join(g.Root, "pkg", "api")
	groups, err := os.ReadDir(apiDir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", apiDir, err)
	}
	out := Output{}
	var index Index
	for _, gd := range groups {
		if !gd.IsDir() {
			continue
		}
		versions, err := os.ReadDir(filepath.Join(apiDir, gd.Name()))
		if err != nil {
			return nil, fmt.Errorf("read group dir: %w", err)
		}
		for _, vd := range versions {
			if !vd.IsDir() || !versionDir.MatchString(vd.Name()) {
				continue
			}
			rel := path.Join("pkg/api", gd.Name(), vd.Name())
			p, err := g.load(rel)
			if err != nil {
				return nil, err
			}
			group, ok := g.Rules.GroupOfDir[gd.Name()]
			if p.groupName != nil {
				group, ok = *p.groupName, true
			}
			if !ok {
				return nil, fmt.Errorf("%s: no GroupName constant and no GroupOfDir rule for %q", rel, gd.Name())
			}
			for _, td := range sortedTypes(p) {
				if !g.isKind(td) {
					continue
				}
				entry, doc, err := g.kindSchema(td, group, vd.Name())
				if err != nil {
					return nil, fmt.Errorf("kind %s: %w", td.id(), err)
				}
				b, err := encode(doc)
				if err != nil {
					return nil, fmt.Errorf("encode %s: %w", entry.Schema, err)
				}
				out[entry.Schema] = b
				index.Kinds = append(index.Kinds, entry)
			}
		}
	}
	if len(index.Kinds) == 0 {
		return nil, fmt.Errorf("no kinds found under %s", apiDir)
	}
	sort.Slice(index.Kinds, func(i, j int) bool {
		a, b := index.Kinds[i], index.Kinds[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Kind < b.Kind
	})
	b, err := encode(index)
	if err != nil {
		return nil, fmt.Errorf("encode index: %w", err)
	}
	out["index.json"] = b
	sort.Strings(g.Warnings)
	return out, nil
}

func readModulePath(gomod string) (string, error) {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("read module path: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`), nil
		}
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}

func sortedTypes(p *goPackage) []*typeDecl {
	names := make([]string, 0, len(p.types))
	for n := range p.types {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*typeDecl, len(names))
	for i, n := range names {
		out[i] = p.types[n]
	}
	return out
}

// load parses the package in the module-relative directory rel (once).
func (g *Generator) load(rel string) (*goPackage, error) {
	if p, ok := g.pkgs[rel]; ok {
		return p, nil
	}
	dir := filepath.Join(g.Root, filepath.FromSlash(rel))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load package %s: %w", rel, err)
	}
	p := &goPackage{rel: rel, types: map[string]*typeDecl{}, consts: map[string][]string{}, marshalers: map[string]bool{}}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(g.fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", rel, err)
		}
		if p.name == "" {
			p.name = f.Name.Name
		}
		g.collect(p, f)
	}
	if p.name == "" {
		return nil, fmt.Errorf("load package %s: no Go files", rel)
	}
	g.pkgs[rel] = p
	return p, nil
}

func (g *Generator) collect(p *goPackage, f *ast.File) {
	imports := map[string]string{}
	for _, im := range f.Imports {
		ipath, _ := strconv.Unquote(im.Path.Value)
		local := path.Base(ipath)
		if im.Name != nil {
			local = im.Name.Name
		}
		if rel, ok := strings.CutPrefix(ipath, g.module+"/"); ok {
			imports[local] = rel
		} else {
			imports[local] = "ext:" + ipath
		}
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil && d.Name.Name == "MarshalJSON" && len(d.Recv.List) == 1 {
				if n := recvName(d.Recv.List[0].Type); n != "" {
					p.marshalers[n] = true
				}
			}
		case *ast.GenDecl:
			switch d.Tok {
			case token.TYPE:
				for _, s := range d.Specs {
					ts := s.(*ast.TypeSpec)
					doc := ts.Doc
					if doc == nil && len(d.Specs) == 1 {
						doc = d.Doc
					}
					p.types[ts.Name.Name] = &typeDecl{pkg: p, name: ts.Name.Name, spec: ts, doc: cleanDoc(doc), imports: imports}
				}
			case token.CONST:
				var lastType string
				for _, s := range d.Specs {
					vs := s.(*ast.ValueSpec)
					if vs.Type != nil {
						lastType = ""
						if id, ok := vs.Type.(*ast.Ident); ok {
							lastType = id.Name
						}
					}
					for i, n := range vs.Names {
						if i >= len(vs.Values) {
							continue
						}
						lit, ok := vs.Values[i].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							continue
						}
						v, err := strconv.Unquote(lit.Value)
						if err != nil {
							continue
						}
						if n.Name == "GroupName" {
							gn := v
							p.groupName = &gn
						}
						if lastType != "" {
							p.consts[lastType] = append(p.consts[lastType], v)
						}
					}
				}
			}
		}
	}
}

func recvName(e ast.Expr) string {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// resolve finds the declaration a type name refers to; pkgRel is the
// package's module-relative dir.
func (g *Generator) resolve(pkgRel, name string) (*typeDecl, error) {
	p, err := g.load(pkgRel)
	if err != nil {
		return nil, err
	}
	td, ok := p.types[name]
	if !ok {
		return nil, fmt.Errorf("type %s.%s not found", pkgRel, name)
	}
	return td, nil
}

// typeID returns the fully qualified id ("pkg/api/meta.TypeMeta") of a
// named type expression in the context of decl, or "" when expr is not a
// named type.
func typeID(decl *typeDecl, expr ast.Expr) string {
	switch e := expr.(type) {
	case *ast.StarExpr:
		return typeID(decl, e.X)
	case *ast.Ident:
		if _, ok := decl.pkg.types[e.Name]; ok {
			return decl.pkg.rel + "." + e.Name
		}
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			if rel, ok := decl.imports[x.Name]; ok {
				return rel + "." + e.Sel.Name
			}
		}
	}
	return ""
}

// isKind reports whether td is a top-level kind: a struct that inlines
// meta.TypeMeta and has an ObjectMeta (lists carry ListMeta and are not kinds).
func (g *Generator) isKind(td *typeDecl) bool {
	st, ok := td.spec.Type.(*ast.StructType)
	if !ok || !ast.IsExported(td.name) {
		return false
	}
	var typeMeta, objectMeta bool
	for _, f := range st.Fields.List {
		switch typeID(td, f.Type) {
		case "pkg/api/meta.TypeMeta":
			typeMeta = len(f.Names) == 0
		case "pkg/api/meta.ObjectMeta":
			objectMeta = true
		}
	}
	return typeMeta && objectMeta
}

// document collects the $defs of one schema file.
type document struct {
	defs map[string]*Schema // type id -> schema
}

func (g *Generator) kindSchema(td *typeDecl, group, version string) (IndexEntry, *Schema, error) {
	key := group + "/" + td.name
	info, ok := g.Rules.Kinds[key]
	g.use("Kinds", key)
	if !ok {
		return IndexEntry{}, nil, fmt.Errorf("no Kinds rule for %q (add resource name, scope and short names)", key)
	}
	if info.Group != "" {
		group = info.Group
	}
	dir := group
	if dir == "" {
		dir = "core"
	}
	entry := IndexEntry{
		Group: group, Version: version, Kind: td.name,
		Resource: info.Resource, Subresource: info.Subresource, Namespaced: info.Namespaced,
		ShortNames: info.ShortNames,
		Schema:     path.Join(dir, version, strings.ToLower(td.name)+".json"),
	}
	doc := &document{defs: map[string]*Schema{}}
	root, err := g.structSchema(doc, td)
	if err != nil {
		return IndexEntry{}, nil, err
	}
	root.SchemaURI = "https://json-schema.org/draft/2020-12/schema"
	root.Title = td.name
	root.Type = typeList{"object"}
	root.GVK = &GVKExt{Group: group, Version: version, Kind: td.name}
	apiVersion := version
	if group != "" {
		apiVersion = group + "/" + version
	}
	for name, val := range map[string]string{"apiVersion": apiVersion, "kind": td.name} {
		p, ok := root.Properties.ByName[name]
		if !ok {
			return IndexEntry{}, nil, fmt.Errorf("no %s property", name)
		}
		p = p.clone()
		p.Const = val
		root.Properties.ByName[name] = p
	}
	root.Required = append([]string{"apiVersion", "kind"}, root.Required...)

	// Name the definitions: the Go type name, qualified with the package
	// name when two packages declare the same name.
	ids := make([]string, 0, len(doc.defs))
	count := map[string]int{}
	for id := range doc.defs {
		ids = append(ids, id)
		count[shortName(id)]++
	}
	sort.Strings(ids)
	names := map[string]string{}
	root.Defs = map[string]*Schema{}
	for _, id := range ids {
		n := shortName(id)
		if count[n] > 1 {
			rel, _, _ := strings.Cut(id, ".")
			n = g.pkgs[rel].name + "." + n
		}
		names[id] = n
		root.Defs[n] = doc.defs[id]
	}
	if len(root.Defs) == 0 {
		root.Defs = nil
	}
	root.walk(func(s *Schema) {
		if s.refID != "" {
			s.Ref = "#/$defs/" + names[s.refID]
		}
	})
	return entry, root, nil
}

func shortName(id string) string { return id[strings.LastIndexByte(id, '.')+1:] }

// structSchema builds the object schema of a struct type.
func (g *Generator) structSchema(doc *document, td *typeDecl) (*Schema, error) {
	st, ok := td.spec.Type.(*ast.StructType)
	if !ok {
		return nil, fmt.Errorf("%s is not a struct", td.id())
	}
	s := &Schema{
		Description: td.doc,
		Type:        typeList{"object", "null"},
		Properties:  &Properties{},
		AddlProps:   &AdditionalProps{Bool: boolp(false)},
	}
	omit := map[string]bool{}
	if err := g.addFields(doc, td, st, s, omit, 0); err != nil {
		return nil, err
	}
	if _, ok := g.Rules.Required[td.id()]; ok {
		g.use("Required", td.id())
	}
	for _, r := range g.Rules.Required[td.id()] {
		if _, ok := s.Properties.ByName[r]; !ok {
			return nil, fmt.Errorf("required field %s.%s does not exist", td.id(), r)
		}
		if omit[r] {
			g.warnf("%s.%s is required in Kubernetes but has omitempty", td.id(), r)
		}
		s.Required = append(s.Required, r)
	}
	if uf, ok := g.Rules.UnknownFieldFormats[td.id()]; ok {
		g.use("UnknownFieldFormats", td.id())
		var known []string
		for _, n := range s.Properties.Names {
			if n != "name" {
				known = append(known, n)
			}
		}
		want := append([]string(nil), uf.Supported...)
		sort.Strings(want)
		sort.Strings(known)
		if strings.Join(want, ",") != strings.Join(known, ",") {
			return nil, fmt.Errorf("%s: UnknownFieldFormats lists %v, the struct has %v", td.id(), uf.Supported, known)
		}
		s.UnknownHint = strings.ReplaceAll(uf.Format, "{supported}", strings.Join(uf.Supported, ", "))
	}
	return s, nil
}

// addFields adds the properties of st to s. Inlined (embedded) structs are
// added after the direct fields and never override them, as encoding/json
// does.
func (g *Generator) addFields(doc *document, td *typeDecl, st *ast.StructType, s *Schema, omit map[string]bool, depth int) error {
	if depth > 8 {
		return fmt.Errorf("%s: inline structs nested too deep", td.id())
	}
	// Direct fields win over inlined ones of the same name, wherever they
	// are declared, as in encoding/json; properties keep declaration order.
	direct := map[string]bool{}
	for _, f := range st.Fields.List {
		jname, _, inline, err := fieldTag(td, f)
		if err != nil {
			return err
		}
		if jname == "-" || inline {
			continue
		}
		if len(f.Names) == 0 {
			direct[jname] = true
		}
		for _, n := range f.Names {
			if jname != "" {
				direct[jname] = true
			} else {
				direct[n.Name] = true
			}
		}
	}
	for _, f := range st.Fields.List {
		jname, omitempty, inline, err := fieldTag(td, f)
		if err != nil {
			return err
		}
		switch {
		case jname == "-":
		case inline:
			if err := g.addInline(doc, td, f.Type, s, omit, direct, depth); err != nil {
				return err
			}
		case len(f.Names) == 0:
			if err := g.addField(doc, td, s, jname, f, omitempty, omit); err != nil {
				return err
			}
		default:
			for _, n := range f.Names {
				if !ast.IsExported(n.Name) {
					continue
				}
				name := jname
				if name == "" {
					name = n.Name
				}
				if err := g.addField(doc, td, s, name, f, omitempty, omit); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// fieldTag reads a field's json tag: its name ("-" for a skipped field),
// whether it has omitempty, and whether it is an inlined embedded struct.
func fieldTag(td *typeDecl, f *ast.Field) (name string, omitempty, inline bool, err error) {
	tag := ""
	if f.Tag != nil {
		t, err := strconv.Unquote(f.Tag.Value)
		if err != nil {
			return "", false, false, fmt.Errorf("%s: bad tag %s", td.id(), f.Tag.Value)
		}
		tag = reflect.StructTag(t).Get("json")
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "-" && opts == "" {
		return "-", false, false, nil
	}
	o := "," + opts + ","
	if strings.Contains(o, ",string,") {
		return "", false, false, fmt.Errorf("%s: the json ,string option is not supported", td.id())
	}
	omitempty = strings.Contains(o, ",omitempty,") || strings.Contains(o, ",omitzero,")
	inline = len(f.Names) == 0 && name == ""
	return name, omitempty, inline, nil
}

// addInline adds the fields of an embedded struct to s, except those that
// a direct field or an earlier field shadows.
func (g *Generator) addInline(doc *document, td *typeDecl, expr ast.Expr, s *Schema, omit, direct map[string]bool, depth int) error {
	id := typeID(td, expr)
	if id == "" {
		return fmt.Errorf("%s: cannot resolve embedded field", td.id())
	}
	rel, name, _ := strings.Cut(id, ".")
	itd, err := g.resolve(rel, name)
	if err != nil {
		return fmt.Errorf("%s: %w", td.id(), err)
	}
	ist, ok := itd.spec.Type.(*ast.StructType)
	if !ok {
		return fmt.Errorf("%s: embedded %s is not a struct", td.id(), id)
	}
	sub := &Schema{Properties: &Properties{}}
	subOmit := map[string]bool{}
	if err := g.addFields(doc, itd, ist, sub, subOmit, depth+1); err != nil {
		return err
	}
	for _, n := range sub.Properties.Names {
		if _, taken := s.Properties.ByName[n]; taken || direct[n] {
			continue
		}
		s.Properties.set(n, sub.Properties.ByName[n])
		omit[n] = subOmit[n]
	}
	for _, r := range append(sub.Required, g.Rules.Required[itd.id()]...) {
		if !direct[r] && !containsStr(s.Required, r) {
			s.Required = append(s.Required, r)
		}
	}
	return nil
}

func (g *Generator) addField(doc *document, td *typeDecl, s *Schema, name string, f *ast.Field, omitempty bool, omit map[string]bool) error {
	fs, err := g.schemaFor(doc, td, f.Type)
	if err != nil {
		return fmt.Errorf("%s.%s: %w", td.id(), name, err)
	}
	key := td.id() + "." + name
	desc := cleanDoc(f.Doc)
	if desc == "" {
		desc = cleanDoc(f.Comment)
	}
	if fb, ok := g.Rules.FallbackDocs[key]; ok {
		g.use("FallbackDocs", key)
		if desc == "" {
			desc = fb
		}
	}
	fs.Description = desc
	if enum, ok := g.Rules.FieldEnums[key]; ok {
		g.use("FieldEnums", key)
		if !containsStr(fs.Type, "string") {
			return fmt.Errorf("%s: enum rule on a non-string field", key)
		}
		fs.Enum = append([]any(nil), enum...)
		if fs.nullable {
			fs.Enum = append(fs.Enum, nil)
		}
	}
	if fs.Items != nil && fs.Items.refID != "" {
		if mk, ok := g.Rules.MergeKeys[fs.Items.refID]; ok {
			g.use("MergeKeys", fs.Items.refID)
			fs.MergeKey = mk
		}
	}
	s.Properties.set(name, fs)
	omit[name] = omitempty
	return nil
}

// schemaFor returns the schema of a Go type expression appearing in decl.
func (g *Generator) schemaFor(doc *document, decl *typeDecl, expr ast.Expr) (*Schema, error) {
	switch e := expr.(type) {
	case *ast.StarExpr:
		s, err := g.schemaFor(doc, decl, e.X)
		if err != nil {
			return nil, err
		}
		s.makeNullable()
		return s, nil
	case *ast.ArrayType:
		if e.Len != nil {
			return nil, fmt.Errorf("fixed-size arrays are not supported")
		}
		if id, ok := e.Elt.(*ast.Ident); ok && (id.Name == "byte" || id.Name == "uint8") {
			s := &Schema{Type: typeList{"string"}, Encoding: "base64"}
			s.makeNullable()
			return s, nil
		}
		items, err := g.schemaFor(doc, decl, e.Elt)
		if err != nil {
			return nil, err
		}
		s := &Schema{Type: typeList{"array"}, Items: items}
		s.makeNullable()
		return s, nil
	case *ast.MapType:
		ks, err := g.schemaFor(doc, decl, e.Key)
		if err != nil {
			return nil, err
		}
		if len(ks.Type) == 0 || ks.Type[0] != "string" {
			return nil, fmt.Errorf("map keys must be strings")
		}
		vs, err := g.schemaFor(doc, decl, e.Value)
		if err != nil {
			return nil, err
		}
		s := &Schema{Type: typeList{"object"}, AddlProps: &AdditionalProps{Schema: vs}}
		s.makeNullable()
		return s, nil
	case *ast.InterfaceType:
		return &Schema{}, nil
	case *ast.Ident:
		if _, ok := decl.pkg.types[e.Name]; ok {
			return g.named(doc, decl.pkg.rel, e.Name)
		}
		return builtin(e.Name)
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		if !ok {
			return nil, fmt.Errorf("unsupported type expression")
		}
		rel, ok := decl.imports[x.Name]
		if !ok {
			return nil, fmt.Errorf("unknown package %s", x.Name)
		}
		if ext, ok := strings.CutPrefix(rel, "ext:"); ok {
			return external(ext, e.Sel.Name)
		}
		return g.named(doc, rel, e.Sel.Name)
	}
	return nil, fmt.Errorf("unsupported type expression %T", expr)
}

// named returns the schema of a named type of the module.
func (g *Generator) named(doc *document, rel, name string) (*Schema, error) {
	id := rel + "." + name
	if mk, ok := g.Rules.Special[id]; ok {
		g.use("Special", id)
		s := mk()
		s.nullable = containsStr(s.Type, "null")
		return s, nil
	}
	td, err := g.resolve(rel, name)
	if err != nil {
		return nil, err
	}
	if td.pkg.marshalers[name] {
		return nil, fmt.Errorf("%s has a custom MarshalJSON; describe its JSON form in Rules.Special", id)
	}
	if _, ok := td.spec.Type.(*ast.StructType); ok {
		if _, ok := doc.defs[id]; !ok {
			doc.defs[id] = &Schema{} // placeholder: breaks recursion
			s, err := g.structSchema(doc, td)
			if err != nil {
				return nil, err
			}
			doc.defs[id] = s
		}
		return &Schema{refID: id}, nil
	}
	s, err := g.schemaFor(doc, td, td.spec.Type)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	if enum, ok := g.Rules.ClosedEnums[id]; ok {
		g.use("ClosedEnums", id)
		s.Enum = append([]any(nil), enum...)
		for _, c := range td.pkg.consts[name] {
			if !containsAny(enum, c) {
				g.warnf("%s: constant %q is not in the closed enum %v", id, c, enum)
			}
		}
	}
	return s, nil
}

func builtin(name string) (*Schema, error) {
	intRange := func(lo, hi int64) *Schema {
		return &Schema{Type: typeList{"integer"}, Minimum: int64p(lo), Maximum: int64p(hi)}
	}
	switch name {
	case "string":
		return &Schema{Type: typeList{"string"}}, nil
	case "bool":
		return &Schema{Type: typeList{"boolean"}}, nil
	case "int", "int64":
		return &Schema{Type: typeList{"integer"}}, nil
	case "int32":
		return intRange(-1<<31, 1<<31-1), nil
	case "int16":
		return intRange(-1<<15, 1<<15-1), nil
	case "int8":
		return intRange(-1<<7, 1<<7-1), nil
	case "uint", "uint64":
		return &Schema{Type: typeList{"integer"}, Minimum: int64p(0)}, nil
	case "uint32":
		return intRange(0, 1<<32-1), nil
	case "uint16":
		return intRange(0, 1<<16-1), nil
	case "uint8", "byte":
		return intRange(0, 1<<8-1), nil
	case "float32", "float64":
		return &Schema{Type: typeList{"number"}}, nil
	case "any":
		return &Schema{}, nil
	}
	return nil, fmt.Errorf("unsupported type %s", name)
}

func external(importPath, name string) (*Schema, error) {
	switch importPath + "." + name {
	case "time.Time":
		return &Schema{Type: typeList{"string"}, Format: "date-time"}, nil
	case "time.Duration":
		return &Schema{Type: typeList{"integer"}}, nil
	case "encoding/json.RawMessage":
		return &Schema{}, nil
	}
	return nil, fmt.Errorf("unsupported external type %s.%s", importPath, name)
}

func (g *Generator) use(table, key string) { g.used[table+":"+key] = true }

// UnusedRules lists the rules (as "Table: key") that matched no type or
// field in the last Generate: a renamed type or field would otherwise lose
// its enum, required fields or merge key silently. Special is exempt: it
// describes types for whenever a field uses them.
func (g *Generator) UnusedRules() []string {
	var out []string
	add := func(table string, keys []string) {
		for _, k := range keys {
			if !g.used[table+":"+k] {
				out = append(out, table+": "+k)
			}
		}
	}
	add("Required", keysOf(g.Rules.Required))
	add("MergeKeys", keysOf(g.Rules.MergeKeys))
	add("ClosedEnums", keysOf(g.Rules.ClosedEnums))
	add("FieldEnums", keysOf(g.Rules.FieldEnums))
	add("UnknownFieldFormats", keysOf(g.Rules.UnknownFieldFormats))
	add("Kinds", keysOf(g.Rules.Kinds))
	add("FallbackDocs", keysOf(g.Rules.FallbackDocs))
	sort.Strings(out)
	return out
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (g *Generator) warnf(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	for _, x := range g.Warnings {
		if x == w {
			return
		}
	}
	g.Warnings = append(g.Warnings, w)
}

// cleanDoc turns a comment into description text: marker lines ("+k8s:...")
// are dropped, the lines of a paragraph are joined, paragraphs are kept.
func cleanDoc(cg *ast.CommentGroup) string {
	if cg == nil {
		return ""
	}
	var paras []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			paras = append(paras, strings.Join(cur, " "))
			cur = nil
		}
	}
	for _, line := range strings.Split(cg.Text(), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "+"):
		default:
			cur = append(cur, line)
		}
	}
	flush()
	return strings.Join(paras, "\n\n")
}

// encode writes v as indented JSON without HTML escaping, ending in a
// newline.
func encode(v any) ([]byte, error) {
	b, err := marshal(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
