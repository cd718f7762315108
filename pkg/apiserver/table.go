package apiserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/apiserver/cacher"
	"github.com/kl-dev/kl/pkg/printers"
)

// Server-side printing, Kubernetes style: a get, list or watch whose
// Accept header prefers
//
//	application/json;as=Table;v=v1;g=meta.k8s.io
//
// (kubectl get sends it, then v1beta1, then plain application/json) is
// answered with a meta.k8s.io Table: the kind's columns (pkg/printers,
// the ones kl get prints too) and one row of cells per object, ages
// computed by the server. The includeObject parameter decides what each
// row carries as its object: the object's metadata as a
// PartialObjectMetadata (Metadata, the default), the whole object
// (Object) or nothing (None). A watch streams events whose object is a
// Table of one row; only the first carries the column definitions.
// Requests that do not ask for a Table are answered as before.

// tableGroup is the API group of Table and PartialObjectMetadata.
const tableGroup = "meta.k8s.io"

// Values of the includeObject query parameter (Kubernetes'
// IncludeObjectPolicy).
const (
	includeNone     = "None"
	includeMetadata = "Metadata"
	includeObject   = "Object"
)

// tableConverter turns the objects of one request into Tables.
type tableConverter struct {
	// apiVersion of the Tables: meta.k8s.io/v1 or meta.k8s.io/v1beta1.
	apiVersion string
	include    string
	printer    *printers.Table
	// now is the clock ages are computed against.
	now func() time.Time
	// noHeaders leaves out the column definitions (watch events after
	// the first).
	noHeaders bool
}

// tableConverterFor returns the converter of a request that asks for a
// Table, or nil (and no error) when it asks for objects.
func (s *Server) tableConverterFor(req *http.Request, r *resource) (*tableConverter, error) {
	version, ok := tableVersionAccepted(req.Header.Values("Accept"))
	if !ok {
		return nil, nil
	}
	include := req.URL.Query().Get("includeObject")
	switch include {
	case "":
		include = includeMetadata
	case includeNone, includeMetadata, includeObject:
	default:
		return nil, meta.NewBadRequest(fmt.Sprintf("Unable to convert to Table as requested: includeObject: Unsupported value: %q: supported values: %q, %q, %q",
			include, includeMetadata, includeNone, includeObject))
	}
	return &tableConverter{
		apiVersion: tableGroup + "/" + version,
		include:    include,
		printer:    printers.For(r.gvr.Group, r.kind),
		now:        s.now,
	}, nil
}

// tableVersionAccepted reads Accept headers and reports whether the most
// preferred media type kl can serve is a Table, and of which version (v1
// or v1beta1). Media types kl cannot serve (protobuf, Tables of other
// versions, other conversions such as PartialObjectMetadataList) are
// passed over, as Kubernetes does.
func tableVersionAccepted(headers []string) (string, bool) {
	type clause struct {
		mediaType string
		params    map[string]string
		q         float64
	}
	var clauses []clause
	for _, h := range headers {
		for _, part := range strings.Split(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if q, err = strconv.ParseFloat(v, 64); err != nil {
					continue
				}
			}
			if q > 0 {
				clauses = append(clauses, clause{mediaType: mt, params: params, q: q})
			}
		}
	}
	sort.SliceStable(clauses, func(i, j int) bool { return clauses[i].q > clauses[j].q })
	for _, c := range clauses {
		switch c.mediaType {
		case "application/json", "application/*", "*/*":
		default:
			continue
		}
		switch as := c.params["as"]; as {
		case "":
			return "", false
		case "Table":
			if v := c.params["v"]; c.params["g"] == tableGroup && (v == "v1" || v == "v1beta1") {
				return v, true
			}
		}
	}
	return "", false
}

// table is a meta.k8s.io Table on the wire.
type table struct {
	Kind              string            `json:"kind"`
	APIVersion        string            `json:"apiVersion"`
	Metadata          meta.ListMeta     `json:"metadata"`
	ColumnDefinitions []printers.Column `json:"columnDefinitions"`
	Rows              []tableRow        `json:"rows"`
}

// tableRow is a meta.k8s.io TableRow on the wire.
type tableRow struct {
	Cells      []any                   `json:"cells"`
	Conditions []printers.RowCondition `json:"conditions,omitempty"`
	Object     json.RawMessage         `json:"object,omitempty"`
}

// partialObjectMetadata is a meta.k8s.io PartialObjectMetadata.
type partialObjectMetadata struct {
	Kind       string          `json:"kind"`
	APIVersion string          `json:"apiVersion"`
	Metadata   meta.ObjectMeta `json:"metadata"`
}

// row converts one object, as JSON, to a table row as of now.
func (tc *tableConverter) row(data []byte, now time.Time) (tableRow, *meta.ObjectMeta, error) {
	r, err := tc.printer.Row(data, now)
	if err != nil {
		return tableRow{}, nil, err
	}
	out := tableRow{Cells: r.Cells, Conditions: r.Conditions}
	switch tc.include {
	case includeObject:
		out.Object = data
	case includeMetadata:
		if out.Object, err = json.Marshal(partialObjectMetadata{Kind: "PartialObjectMetadata", APIVersion: tc.apiVersion, Metadata: r.Metadata}); err != nil {
			return tableRow{}, nil, err
		}
	}
	return out, &r.Metadata, nil
}

// newTable returns an empty Table with the column definitions (unless
// noHeaders).
func (tc *tableConverter) newTable(lm meta.ListMeta, rows []tableRow) *table {
	t := &table{Kind: "Table", APIVersion: tc.apiVersion, Metadata: lm, Rows: rows}
	if !tc.noHeaders {
		t.ColumnDefinitions = tc.printer.Columns
	}
	return t
}

// objectTable converts one object to a Table of one row.
func (tc *tableConverter) objectTable(data []byte) ([]byte, error) {
	row, m, err := tc.row(data, tc.now())
	if err != nil {
		return nil, meta.NewInternalError(fmt.Errorf("convert to Table: %w", err))
	}
	out, err := json.Marshal(tc.newTable(meta.ListMeta{ResourceVersion: m.ResourceVersion}, []tableRow{row}))
	if err != nil {
		return nil, meta.NewInternalError(fmt.Errorf("encode Table: %w", err))
	}
	return out, nil
}

// writeObject answers a get with a Table of one row.
func (tc *tableConverter) writeObject(w http.ResponseWriter, obj meta.Object) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return meta.NewInternalError(err)
	}
	out, err := tc.objectTable(data)
	if err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, out)
	return nil
}

// writeList answers a list with a Table of its items.
func (tc *tableConverter) writeList(w http.ResponseWriter, lm meta.ListMeta, items []*cacher.Object) error {
	rows := make([]tableRow, 0, len(items))
	now := tc.now()
	for _, o := range items {
		row, _, err := tc.row(o.Data, now)
		if err != nil {
			return meta.NewInternalError(fmt.Errorf("convert %s to Table: %w", o.Key, err))
		}
		rows = append(rows, row)
	}
	out, err := json.Marshal(tc.newTable(lm, rows))
	if err != nil {
		return meta.NewInternalError(fmt.Errorf("encode Table: %w", err))
	}
	writeRaw(w, http.StatusOK, out)
	return nil
}

// watchEmitter returns what a watch writes its events with: each object
// becomes a Table of one row, the first with the column definitions. An
// object that cannot be converted is sent as it is (and logged), as
// Kubernetes does.
func (tc *tableConverter) watchEmitter(s *Server, bw *bufio.Writer) func(typ string, data []byte) {
	return func(typ string, data []byte) {
		out, err := tc.objectTable(data)
		if err != nil {
			s.log.Error("watch: convert to Table", "err", err)
			out = data
		}
		tc.noHeaders = true
		writeEvent(bw, typ, out)
	}
}
