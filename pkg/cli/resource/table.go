package resource

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/printers"
)

// printTable prints objects of one mapping as the kind's table: the
// columns and cells come from pkg/printers, the same ones the apiserver
// sends kubectl, laid out the way kl get prints them (optional NAMESPACE
// and LABELS columns, TYPE/NAME names).
func (p *Printer) printTable(w io.Writer, objs []Object) error {
	m := objs[0].Mapping
	t := printers.For(m.GVR.Group, m.Kind)
	if m.GVR.Group == "" && m.Kind == "Event" {
		var err error
		if objs, err = sortEvents(objs); err != nil {
			return err
		}
	}
	now := p.opts.Now()
	rows := make([]printers.Row, len(objs))
	for i, o := range objs {
		r, err := t.Row(o.Raw, now)
		if err != nil {
			return fmt.Errorf("print %s: %w", o.Mapping.Type(), err)
		}
		rows[i] = r
	}
	columns := t.CLIColumns(p.format == FormatWide)
	nameCol := t.NameColumn()
	var header []string
	withNS := p.opts.WithNamespace && m.Namespaced
	if withNS {
		header = append(header, "NAMESPACE")
	}
	for _, i := range columns {
		header = append(header, t.Columns[i].Header())
	}
	if p.opts.ShowLabels {
		header = append(header, "LABELS")
	}
	tw := NewTabWriter(w)
	if !p.opts.NoHeaders {
		fmt.Fprintln(tw, strings.Join(header, "\t"))
	}
	for _, r := range rows {
		cells := make([]string, 0, len(header))
		if withNS {
			cells = append(cells, r.Metadata.Namespace)
		}
		for _, i := range columns {
			cell := printers.FormatCell(r.Cells[i])
			if i == nameCol && p.opts.WithKind {
				cell = m.Ref(cell)
			}
			cells = append(cells, cell)
		}
		if p.opts.ShowLabels {
			cells = append(cells, FormatLabels(r.Metadata.Labels))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// sortEvents orders events by when they last happened, oldest first, as
// kl get prints them.
func sortEvents(objs []Object) ([]Object, error) {
	times := make([]time.Time, len(objs))
	idx := make([]int, len(objs))
	for i, o := range objs {
		idx[i] = i
		var e corev1.Event
		if err := json.Unmarshal(o.Raw, &e); err != nil {
			return nil, fmt.Errorf("decode event: %w", err)
		}
		times[i] = EventTime(&e)
	}
	sort.SliceStable(idx, func(a, b int) bool { return times[idx[a]].Before(times[idx[b]]) })
	sorted := make([]Object, len(objs))
	for i, j := range idx {
		sorted[i] = objs[j]
	}
	return sorted, nil
}

// EventTime returns when an event last happened (printers.EventTime).
func EventTime(e *corev1.Event) time.Time { return printers.EventTime(e) }

// FormatLabelSelector prints a label selector as kubectl does
// (printers.FormatLabelSelector).
func FormatLabelSelector(ls *meta.LabelSelector) string { return printers.FormatLabelSelector(ls) }

// PodStatusSummary returns the READY, STATUS and RESTARTS cells of a pod,
// with kubectl's rules (printers.PodStatusSummary).
func PodStatusSummary(pod *corev1.Pod, now time.Time) (ready, status, restarts string) {
	return printers.PodStatusSummary(pod, now)
}

// NodeRoles returns the roles of a node, or "<none>" (printers.NodeRoles).
func NodeRoles(n *corev1.Node) string { return printers.NodeRoles(n) }

// FormatLabels prints labels as "k1=v1,k2=v2" in key order, or "<none>"
// (printers.FormatLabels).
func FormatLabels(labels map[string]string) string { return printers.FormatLabels(labels) }
