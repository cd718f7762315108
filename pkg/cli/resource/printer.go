package resource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/yaml"
)

// Output formats of -o.
const (
	FormatTable         = ""
	FormatWide          = "wide"
	FormatYAML          = "yaml"
	FormatJSON          = "json"
	FormatName          = "name"
	FormatJSONPath      = "jsonpath"
	FormatCustomColumns = "custom-columns"
)

// OutputHelp is the help text of an -o flag using Printer.
const OutputHelp = "output format: wide, yaml, json, name, jsonpath=TEMPLATE or custom-columns=SPEC (default: a table)"

// PrintOptions configure a Printer.
type PrintOptions struct {
	// Output is the -o value: "", "wide", "yaml", "json", "name",
	// "jsonpath=TEMPLATE" or "custom-columns=NAME:PATH,...".
	Output string
	// NoHeaders leaves out table headers.
	NoHeaders bool
	// ShowLabels adds a LABELS column to tables.
	ShowLabels bool
	// WithNamespace adds a NAMESPACE column to tables of namespaced kinds
	// (kl get -A).
	WithNamespace bool
	// WithKind names objects TYPE/NAME in tables (several kinds at once).
	WithKind bool
	// ShowManagedFields keeps metadata.managedFields in yaml, json and
	// jsonpath output; kubectl leaves them out by default, and so does kl.
	ShowManagedFields bool
	// Now is the clock for AGE columns (default time.Now).
	Now func() time.Time
}

// Printer prints objects in one output format. It is immutable.
type Printer struct {
	opts    PrintOptions
	format  string
	jp      *JSONPath
	columns []customColumn
}

type customColumn struct {
	header string
	path   *JSONPath
}

// NewPrinter returns the printer of opts.Output, or an error naming the
// formats allowed.
func NewPrinter(opts PrintOptions) (*Printer, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Printer{opts: opts}
	format, arg, hasArg := strings.Cut(opts.Output, "=")
	switch format {
	case FormatTable, FormatWide, FormatYAML, FormatJSON, FormatName:
		if hasArg {
			return nil, fmt.Errorf("output format %q takes no argument", format)
		}
	case FormatJSONPath:
		if arg == "" {
			return nil, fmt.Errorf("template format specified but no template given: use -o jsonpath=TEMPLATE")
		}
		jp, err := ParseJSONPath(arg)
		if err != nil {
			return nil, err
		}
		p.jp = jp
	case FormatCustomColumns:
		cols, err := parseCustomColumns(arg)
		if err != nil {
			return nil, err
		}
		p.columns = cols
	default:
		return nil, fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: custom-columns,json,jsonpath,name,wide,yaml", opts.Output)
	}
	p.format = format
	return p, nil
}

// Format returns the output format without its argument ("jsonpath").
func (p *Printer) Format() string { return p.format }

// IsHumanReadable reports whether the printer prints tables (default,
// wide, custom-columns): a command then says "No resources found" on an
// empty result instead of printing an empty list.
func (p *Printer) IsHumanReadable() bool {
	return p.format == FormatTable || p.format == FormatWide || p.format == FormatCustomColumns
}

// WithoutHeaders returns a copy of p that prints no table headers (for the
// rows of a watch after the first table).
func (p *Printer) WithoutHeaders() *Printer {
	c := *p
	c.opts.NoHeaders = true
	return &c
}

// Print writes objs to w. Tables are printed one per kind (consecutive
// objects of the same mapping), separated by a blank line. For yaml, json
// and jsonpath, single means the user named exactly one object: it is
// printed as itself; otherwise the objects are wrapped in a List, as kubectl
// does.
func (p *Printer) Print(w io.Writer, objs []Object, single bool) error {
	switch p.format {
	case FormatName:
		for _, o := range objs {
			m, err := o.Meta()
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintln(w, o.Mapping.Ref(m.Name)); err != nil {
				return err
			}
		}
		return nil
	case FormatYAML, FormatJSON, FormatJSONPath:
		v, err := valueOf(objs, single, p.opts.ShowManagedFields)
		if err != nil {
			return err
		}
		switch p.format {
		case FormatJSON:
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetIndent("", "    ")
			if err := enc.Encode(v); err != nil {
				return fmt.Errorf("encode JSON: %w", err)
			}
			_, err = w.Write(b.Bytes())
			return err
		case FormatYAML:
			j, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("encode YAML: %w", err)
			}
			y, err := yaml.JSONToYAML(j)
			if err != nil {
				return fmt.Errorf("encode YAML: %w", err)
			}
			_, err = w.Write(y)
			return err
		default:
			return p.jp.Execute(w, v)
		}
	case FormatCustomColumns:
		return p.printCustomColumns(w, objs)
	default:
		for start, n := 0, 0; start < len(objs); start += n {
			n = 1
			for start+n < len(objs) && objs[start+n].Mapping == objs[start].Mapping {
				n++
			}
			if start > 0 && !p.opts.NoHeaders {
				if _, err := io.WriteString(w, "\n"); err != nil {
					return err
				}
			}
			if err := p.printTable(w, objs[start:start+n]); err != nil {
				return err
			}
		}
		return nil
	}
}

// valueOf returns the object itself (single) or a List of them.
func valueOf(objs []Object, single, managedFields bool) (any, error) {
	value := func(o Object) (map[string]any, error) {
		v, err := o.Value()
		if err != nil {
			return nil, err
		}
		if md, ok := v["metadata"].(map[string]any); ok && !managedFields {
			delete(md, "managedFields")
		}
		return v, nil
	}
	if single && len(objs) == 1 {
		return value(objs[0])
	}
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		v, err := value(o)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "List",
		"items":      items,
		"metadata":   map[string]any{"resourceVersion": ""},
	}, nil
}

// NewTabWriter returns the tab writer kl's tables use (kubectl's settings).
func NewTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
}

// parseCustomColumns parses "NAME:.metadata.name,IMAGE:.spec.containers[*].image".
func parseCustomColumns(spec string) ([]customColumn, error) {
	if spec == "" {
		return nil, fmt.Errorf("custom-columns format specified but no custom columns given: use -o custom-columns=NAME:.metadata.name,...")
	}
	var cols []customColumn
	for _, part := range splitTopLevel(spec, ',') {
		header, path, ok := strings.Cut(part, ":")
		if !ok || header == "" || path == "" {
			return nil, fmt.Errorf("unexpected custom-columns spec: %s, expected <header>:<json-path-expr>", part)
		}
		jp, err := ParseJSONPath(relaxedPath(path))
		if err != nil {
			return nil, err
		}
		cols = append(cols, customColumn{header: header, path: jp})
	}
	return cols, nil
}

// relaxedPath turns ".a.b", "a.b" or "{.a.b}" into "{.a.b}".
func relaxedPath(p string) string {
	p = strings.TrimSpace(p)
	if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
		return p
	}
	if !strings.HasPrefix(p, ".") && !strings.HasPrefix(p, "[") {
		p = "." + p
	}
	return "{" + p + "}"
}

func (p *Printer) printCustomColumns(w io.Writer, objs []Object) error {
	tw := NewTabWriter(w)
	if !p.opts.NoHeaders {
		headers := make([]string, len(p.columns))
		for i, c := range p.columns {
			headers[i] = c.header
		}
		fmt.Fprintln(tw, strings.Join(headers, "\t"))
	}
	for _, o := range objs {
		v, err := o.Value()
		if err != nil {
			return err
		}
		cells := make([]string, len(p.columns))
		for i, c := range p.columns {
			var vals []string
			for _, set := range c.path.Find(v) {
				for _, x := range set {
					s, err := formatValue(x)
					if err != nil {
						return err
					}
					vals = append(vals, s)
				}
			}
			cells[i] = "<none>"
			if len(vals) > 0 {
				cells[i] = strings.Join(vals, ",")
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}
