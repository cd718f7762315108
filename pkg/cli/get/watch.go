package get

import (
	"context"
	"fmt"
	"io"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/resource"
)

// watchPrinter prints the objects of a watch: the first batch as usual
// (with table headers), every later one as bare rows, like kubectl.
type watchPrinter struct {
	w       io.Writer
	p       *resource.Printer
	printed bool
}

func (wp *watchPrinter) print(objs []resource.Object) error {
	if len(objs) == 0 {
		return nil
	}
	p := wp.p
	if p.IsHumanReadable() {
		if wp.printed {
			p = p.WithoutHeaders()
		}
		wp.printed = true
		return p.Print(wp.w, objs, false)
	}
	for _, o := range objs {
		if wp.printed && p.Format() == resource.FormatYAML {
			if _, err := io.WriteString(wp.w, "---\n"); err != nil {
				return err
			}
		}
		if err := p.Print(wp.w, []resource.Object{o}, true); err != nil {
			return err
		}
		wp.printed = true
	}
	return nil
}

// watch prints the current objects (unless --watch-only), then one line
// per change until ctx is cancelled. When the server has compacted past
// the watch's resourceVersion (410 Gone), it lists again and goes on.
func (r *request) watch(ctx context.Context) error {
	t := r.targets[0]
	ns := r.nsFor(t.Mapping)
	lo := r.listOptions()
	if len(t.Names) == 1 {
		lo.FieldSelector = "metadata.name=" + t.Names[0]
	}
	dyn := r.c.Dynamic()
	wp := &watchPrinter{w: r.opts.IO.Out, p: r.printer}
	list := func() (string, []resource.Object, error) {
		body, err := dyn.List(ctx, t.Mapping.GVR, ns, lo)
		if err != nil {
			return "", nil, err
		}
		objs, rv, err := resource.DecodeList(t.Mapping, body)
		return rv, objs, err
	}
	rv, objs, err := list()
	if err != nil {
		return r.watchErr(ctx, err)
	}
	if !r.opts.WatchOnly {
		if err := wp.print(objs); err != nil {
			return err
		}
	}
	for {
		lo.ResourceVersion = rv
		events, err := dyn.RetryWatch(ctx, t.Mapping.GVR, ns, lo)
		if err != nil {
			return r.watchErr(ctx, err)
		}
		gone := false
		for ev := range events {
			switch ev.Type {
			case meta.Added, meta.Modified, meta.Deleted:
				o, err := resource.NewObject(t.Mapping, ev.Object)
				if err != nil {
					return err
				}
				if err := wp.print([]resource.Object{o}); err != nil {
					return err
				}
			case meta.Error:
				if ev.Status != nil && (ev.Status.Reason == meta.StatusReasonGone || ev.Status.Reason == meta.StatusReasonExpired || ev.Status.Code == 410) {
					gone = true
					continue
				}
				msg := "watch failed"
				if ev.Status != nil {
					msg = ev.Status.Message
				}
				return fmt.Errorf("watch %s: %s", t.Mapping.GVR, msg)
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if !gone {
			return fmt.Errorf("watch %s ended unexpectedly", t.Mapping.GVR)
		}
		// Re-list: print what is there now and watch from there.
		rv, objs, err = list()
		if err != nil {
			return r.watchErr(ctx, err)
		}
		if err := wp.print(objs); err != nil {
			return err
		}
	}
}

func (r *request) watchErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return resource.ServerError(r.opts.IO.ErrOut, err)
}
