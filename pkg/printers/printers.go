// Package printers knows how every kind kl serves is shown as a table: its
// columns, named and ordered as kubectl shows them (Kubernetes'
// TableColumnDefinitions, with priority 1 for the -o wide ones), and the
// cells of one object.
//
// It is the single answer to "what are a pod's columns": the apiserver
// turns it into meta.k8s.io/v1 Tables for clients that ask for one
// (kubectl get), and kl get prints its own tables from it. It works on
// objects as JSON, the form both hold, and depends only on pkg/api.
//
//	t := printers.For("", "Pod")
//	row, err := t.Row(podJSON, time.Now())
//	// t.Columns[i] describes row.Cells[i]
package printers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// Column describes one column of a kind's table. Its JSON form is
// Kubernetes' meta.k8s.io/v1 TableColumnDefinition.
type Column struct {
	// Name is the column's name as Kubernetes spells it ("Name",
	// "Up-to-date", "Nominated Node"); tables print it upper-cased.
	Name string `json:"name"`
	// Type is the OpenAPI type of the cells: "string" or "integer".
	Type string `json:"type"`
	// Format is "name" for the column holding the object's name (kubectl
	// prints TYPE/NAME there when several kinds are listed), else "".
	Format string `json:"format"`
	// Description says what the column shows.
	Description string `json:"description"`
	// Priority 0 columns are always shown, priority 1 ones only with
	// -o wide.
	Priority int32 `json:"priority"`
}

// Header returns the column's table header: its name upper-cased
// ("UP-TO-DATE", "PORT(S)").
func (c Column) Header() string { return strings.ToUpper(c.Name) }

// RowCondition is a condition of a row; its JSON form is Kubernetes'
// TableRowCondition. Pods that finished carry Completed.
type RowCondition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Row is one object as a table row.
type Row struct {
	// Cells has one value per column of the table: a string or an int64.
	Cells []any
	// Conditions describe the row (e.g. a finished pod).
	Conditions []RowCondition
	// Metadata is the object's metadata.
	Metadata meta.ObjectMeta
}

// Table is how one kind is shown as a table. It is immutable.
type Table struct {
	// Columns are the columns in kubectl's order.
	Columns []Column
	// cli lists, by index into Columns, the columns kl get shows, in its
	// order; nil means all of them.
	cli []int
	row func(raw []byte, now time.Time) (Row, error)
}

// Row decodes one object of the table's kind from JSON and returns its
// cells as of now (ages are computed against it).
func (t *Table) Row(raw []byte, now time.Time) (Row, error) {
	return t.row(raw, now)
}

// NameColumn returns the index of the column holding the object's name
// (format "name"), or -1.
func (t *Table) NameColumn() int {
	for i, c := range t.Columns {
		if c.Format == "name" {
			return i
		}
	}
	return -1
}

// CLIColumns returns, as indices into Columns, the columns kl get prints:
// the priority 0 ones, and with wide the priority 1 ones too. kl's own
// tables leave out a few wide columns kubectl shows (a pod's NOMINATED
// NODE and READINESS GATES, an event's SUBOBJECT) and put an event's wide
// columns in their own order.
func (t *Table) CLIColumns(wide bool) []int {
	idx := t.cli
	if idx == nil {
		idx = make([]int, len(t.Columns))
		for i := range idx {
			idx[i] = i
		}
	}
	out := make([]int, 0, len(idx))
	for _, i := range idx {
		if wide || t.Columns[i].Priority == 0 {
			out = append(out, i)
		}
	}
	return out
}

// FormatCell returns a cell as tables print it.
func FormatCell(v any) string {
	switch c := v.(type) {
	case string:
		return c
	case int64:
		return strconv.FormatInt(c, 10)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// metaObject is a pointer to a kind's struct, which embeds ObjectMeta.
type metaObject[T any] interface {
	*T
	GetObjectMeta() *meta.ObjectMeta
}

// typed returns a Table whose rows decode each object into T and call
// cells on it.
func typed[T any, PT metaObject[T]](kind string, columns []Column, cells func(o *T, now time.Time) ([]any, []RowCondition)) *Table {
	return &Table{Columns: columns, row: func(raw []byte, now time.Time) (Row, error) {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return Row{}, fmt.Errorf("decode %s: %w", kind, err)
		}
		c, conds := cells(&v, now)
		if len(c) != len(columns) {
			// A programming error in this package's tables.
			return Row{}, fmt.Errorf("%s table: %d cells for %d columns", kind, len(c), len(columns))
		}
		return Row{Cells: c, Conditions: conds, Metadata: *PT(&v).GetObjectMeta()}, nil
	}}
}

// withCLI returns t with kl get's columns set to the named ones, in that
// order.
func (t *Table) withCLI(names ...string) *Table {
	for _, n := range names {
		found := false
		for i, c := range t.Columns {
			if c.Name == n {
				t.cli = append(t.cli, i)
				found = true
				break
			}
		}
		if !found {
			panic("printers: no column " + n)
		}
	}
	return t
}
