// Package apply implements `kl apply`: server-side apply of manifests in
// dependency order, with apply sets for pruning, dry runs and waiting for
// readiness. The engine is pkg/applyset; Load is shared with kl diff.
package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/applyset"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/validation"
	"github.com/kl-dev/kl/pkg/wait"
)

// Options are the inputs of `kl apply`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)
	Validator func() (*validation.Validator, error)

	Filenames      []string
	Recursive      bool
	DryRun         string
	Prune          bool
	Selector       string
	Force          bool
	ApplySet       string
	Wait           bool
	Timeout        time.Duration
	FieldManager   string
	ForceConflicts bool
	Output         string
	// Concurrency bounds the requests in flight (default 16).
	Concurrency int
	// WaitInterval is the period of --wait's progress lines when the
	// output is not a terminal (default 5s).
	WaitInterval time.Duration
}

// NewCmdApply returns the `kl apply` command. runF, if not nil, replaces
// the command's action (tests use it to check flag parsing alone).
func NewCmdApply(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace, Validator: validation.NewValidator}
	cmd := &cobra.Command{
		Use:   "apply -f PATH... [-R] [--prune] [--dry-run=none|client|server] [--wait]",
		Short: "Apply manifests to the cluster (server-side apply), optionally pruning what was removed",
		Long: `Apply manifests to the cluster with server-side apply.

Every manifest is validated first, offline and exactly as kl validate does;
if any is invalid, nothing is sent. Objects are applied in dependency order
(Namespaces; ConfigMaps, Secrets, ServiceAccounts; Services; workloads; the
rest), those of one kind concurrently, and reported one line each, in file
order: "deployment.apps/web created", "configmap/cfg unchanged".

Objects without a namespace go to -n NAMESPACE, else the context's
namespace; an object naming a namespace other than an explicit -n is an
error.

kl applies as field manager "kl" (--field-manager). A field that the
manifest sets to a value another manager owns (kl scale, kubectl, a
controller) is a conflict and fails, naming the manager and field;
--force-conflicts takes such fields over (the last applier wins). Fields
set by others that the manifest does not mention are kept.

Apply sets and pruning: every object carries the label
applyset.kl.dev/part-of=ID, and the set's members are recorded in the
ConfigMap kl-applyset-ID of the namespace. The ID is --applyset NAME or,
by default, derived from the absolute paths given with -f and the
namespace; manifests read from standard input belong to no set unless
--applyset is given. With --prune, members of the set that are no longer
in the manifests are deleted ("service/old pruned"); an object is pruned
only if it is both recorded as a member and carries the label, so objects
applied otherwise are never touched. A prune that would delete every
member of the set (an empty selection, a mistyped path with --applyset)
is refused unless --force is given. -l SELECTOR limits applying and
pruning to matching objects.

--dry-run=server sends every request with dryRun=All (the server validates
and merges, stores nothing); --dry-run=client sends no writes at all.

--wait waits, after applying, until Deployments have rolled out, Pods are
Ready and Services have a ready endpoint, showing progress; on --timeout it
fails, listing what is not ready and why.`,
		Example: `  kl apply -f web.yaml
  kl apply -R -f deploy/
  kl apply -R -f deploy/ --prune
  kl apply -R -f deploy/ --dry-run=server
  kl apply -f app/ --wait --timeout 2m
  cat web.yaml | kl apply -f - --applyset web`,
		Args: cmdutil.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.validate(); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			if runF != nil {
				return runF(opts)
			}
			return runApply(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVarP(&opts.Filenames, "filename", "f", nil, "file or directory with manifests, or - for standard input (repeatable)")
	fl.BoolVarP(&opts.Recursive, "recursive", "R", false, "read directories given with -f recursively")
	fl.StringVar(&opts.DryRun, "dry-run", "none", "none, client (send no writes) or server (the server runs every write without storing it)")
	fl.BoolVar(&opts.Prune, "prune", false, "delete the objects of the apply set that are no longer in the manifests")
	fl.StringVarP(&opts.Selector, "selector", "l", "", "apply (and prune) only objects matching this label selector")
	fl.BoolVar(&opts.Force, "force", false, "with --prune, prune even when that deletes every member of the apply set")
	fl.StringVar(&opts.ApplySet, "applyset", "", "name of the apply set (default: derived from the -f paths and the namespace)")
	fl.BoolVar(&opts.Wait, "wait", false, "wait until Deployments are rolled out, Pods ready and Services have endpoints")
	fl.DurationVar(&opts.Timeout, "timeout", 5*time.Minute, "with --wait, give up after this long")
	fl.StringVar(&opts.FieldManager, "field-manager", applyset.DefaultFieldManager, "name of the manager owning the applied fields")
	fl.BoolVar(&opts.ForceConflicts, "force-conflicts", false, "take over fields other managers own (the last applier wins)")
	fl.StringVarP(&opts.Output, "output", "o", "", "output format: name, yaml or json (default: one line per object)")
	return cmd
}

func (opts *Options) validate() error {
	switch {
	case len(opts.Filenames) == 0:
		return fmt.Errorf("must specify one or more files or directories with -f")
	case opts.Force && !opts.Prune:
		return fmt.Errorf("--force is only used with --prune")
	case opts.Wait && opts.DryRun != "none":
		return fmt.Errorf("--wait cannot be used with --dry-run")
	case opts.Timeout <= 0:
		return fmt.Errorf("--timeout must be positive")
	case opts.FieldManager == "":
		return fmt.Errorf("--field-manager must not be empty")
	}
	if _, err := parseDryRun(opts.DryRun); err != nil {
		return err
	}
	switch opts.Output {
	case "", resource.FormatName, resource.FormatYAML, resource.FormatJSON:
	default:
		return fmt.Errorf("unknown output format %q for -o: want name, yaml or json", opts.Output)
	}
	if _, err := meta.ParseSelector(opts.Selector); err != nil {
		return err
	}
	return nil
}

func parseDryRun(s string) (applyset.DryRun, error) {
	switch s {
	case "none", "":
		return applyset.DryRunNone, nil
	case "client":
		return applyset.DryRunClient, nil
	case "server":
		return applyset.DryRunServer, nil
	}
	return 0, fmt.Errorf("invalid --dry-run %q: want none, client or server", s)
}

// dryRunSuffix is appended to the action in the output lines.
func dryRunSuffix(d applyset.DryRun) string {
	switch d {
	case applyset.DryRunClient:
		return " (dry run)"
	case applyset.DryRunServer:
		return " (server dry run)"
	}
	return ""
}

func runApply(ctx context.Context, opts *Options) error {
	dry, err := parseDryRun(opts.DryRun)
	if err != nil {
		return err
	}
	in, err := Load(ctx, LoadOptions{
		Filenames: opts.Filenames, Recursive: opts.Recursive, Stdin: opts.IO.In, ErrOut: opts.IO.ErrOut,
		Namespace: opts.Namespace, Client: opts.Client, Validator: opts.Validator,
		ApplySet: opts.ApplySet, Selector: opts.Selector,
	})
	var invalid *InvalidError
	if errors.As(err, &invalid) {
		return fmt.Errorf("%w: nothing applied", err)
	}
	if err != nil {
		return err
	}

	var plan *applyset.Plan
	if opts.Prune {
		if in.Set == nil {
			return cmdutil.FlagErrorf("--prune needs --applyset NAME for manifests read from standard input")
		}
		plan, err = applyset.PlanPrune(ctx, in.API, in.Mapper, *in.Set, in.Record, in.Members(), in.Selector)
		if err != nil {
			return err
		}
		if !opts.Force {
			if err := plan.CheckSafe(len(in.Selected)); err != nil {
				return fmt.Errorf("%w (nothing applied)", err)
			}
		}
	}

	out := newReporter(opts.IO.Out, opts.IO.ErrOut, opts.Output, dry, in.Selected)
	results := applyset.Apply(ctx, in.API, in.Selected, applyset.ApplyOptions{
		FieldManager: opts.FieldManager, Force: opts.ForceConflicts, DryRun: dry,
		Concurrency: opts.Concurrency, OnResult: out.applied,
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := out.flush(); err != nil {
		return err
	}
	failed := 0
	var applied []applyset.Member
	for i, r := range results {
		if r.Err != nil {
			failed++
			continue
		}
		applied = append(applied, in.Selected[i].Member())
	}

	record := in.Record
	if dry == applyset.DryRunNone && in.Set != nil {
		if next, changed := record.With(applied...); changed {
			if err := applyset.WriteRecord(ctx, in.API, *in.Set, next, opts.FieldManager); err != nil {
				return fmt.Errorf("objects applied, but: %w", err)
			}
			record = next
		}
	}

	if plan != nil {
		for _, m := range plan.Unknown {
			fmt.Fprintf(opts.IO.ErrOut, "warning: not pruning %s: the server has no such kind\n", m)
		}
		if failed > 0 {
			fmt.Fprintf(opts.IO.ErrOut, "not pruning: %d of %d objects failed to apply\n", failed, len(results))
		} else if err := prune(ctx, opts, in, plan, record, dry, out); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &cmdutil.ExitError{Code: 1}
	}
	if out.err != nil {
		return out.err
	}
	if opts.Wait {
		return waitReady(ctx, opts, in, results)
	}
	return nil
}

// prune deletes the plan's objects and drops them (and the members found
// gone) from the record.
func prune(ctx context.Context, opts *Options, in *Input, plan *applyset.Plan, record *applyset.Record, dry applyset.DryRun, out *reporter) error {
	results := applyset.Prune(ctx, in.API, plan.Prune, dry, opts.Concurrency)
	failed := 0
	drop := append([]applyset.Member(nil), plan.Gone...)
	for _, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintln(opts.IO.ErrOut, errorLine("error when pruning "+r.Candidate.Ref(), r.Err))
			continue
		}
		drop = append(drop, r.Candidate.Member)
		out.pruned(r.Candidate)
	}
	if dry == applyset.DryRunNone {
		if next, changed := record.Without(drop...); changed {
			if err := applyset.WriteRecord(ctx, in.API, *in.Set, next, opts.FieldManager); err != nil {
				return fmt.Errorf("objects pruned, but: %w", err)
			}
		}
	}
	if failed > 0 {
		return &cmdutil.ExitError{Code: 1}
	}
	return out.err
}

// waitReady waits for the applied Deployments, Pods and Services.
func waitReady(ctx context.Context, opts *Options, in *Input, results []*applyset.Result) error {
	var targets []wait.Target
	for i, r := range results {
		o := in.Selected[i]
		if r.Err != nil || !wait.Waitable(o.Mapping.GVR.Group, o.Mapping.Kind) {
			continue
		}
		targets = append(targets, wait.Target{Ref: o.Ref(), Group: o.Mapping.GVR.Group, Kind: o.Mapping.Kind,
			Namespace: o.Namespace, Name: o.Name, Object: r.Object})
	}
	return wait.Wait(ctx, in.API, targets, wait.Options{
		Timeout: opts.Timeout, Out: opts.IO.Out, Bars: opts.IO.StdoutIsTTY, Interval: opts.WaitInterval,
	})
}

// reporter prints one line per object in input order as results come in
// (or collects the objects for -o yaml|json).
type reporter struct {
	out, errOut io.Writer
	format      string
	suffix      string
	objs        []*applyset.Object
	results     []*applyset.Result
	next        int
	printed     []resource.Object
	err         error
}

func newReporter(out, errOut io.Writer, format string, dry applyset.DryRun, objs []*applyset.Object) *reporter {
	return &reporter{out: out, errOut: errOut, format: format, suffix: dryRunSuffix(dry), objs: objs,
		results: make([]*applyset.Result, len(objs))}
}

// applied records object i's result and prints every result now due.
func (r *reporter) applied(i int, res *applyset.Result) {
	r.results[i] = res
	for r.next < len(r.results) && r.results[r.next] != nil {
		r.print(r.objs[r.next], r.results[r.next])
		r.next++
	}
}

func (r *reporter) print(o *applyset.Object, res *applyset.Result) {
	if res.Err != nil {
		fmt.Fprintln(r.errOut, ObjectError("applying", o, res.Err))
		return
	}
	switch r.format {
	case "":
		r.write("%s %s%s\n", o.Ref(), res.Action, r.suffix)
	case resource.FormatName:
		r.write("%s\n", o.Ref())
	default:
		obj, err := resource.NewObject(o.Mapping, res.Object)
		if err != nil && r.err == nil {
			r.err = err
		}
		r.printed = append(r.printed, obj)
	}
}

func (r *reporter) pruned(c *applyset.Candidate) {
	switch r.format {
	case "":
		r.write("%s pruned%s\n", c.Ref(), r.suffix)
	case resource.FormatName:
		r.write("%s\n", c.Ref())
	}
}

func (r *reporter) write(format string, args ...any) {
	if _, err := fmt.Fprintf(r.out, format, args...); err != nil && r.err == nil {
		r.err = err
	}
}

// flush prints the objects collected for -o yaml|json.
func (r *reporter) flush() error {
	if r.err != nil {
		return r.err
	}
	if len(r.printed) == 0 {
		return nil
	}
	p, err := resource.NewPrinter(resource.PrintOptions{Output: r.format})
	if err != nil {
		return err
	}
	objs := r.printed
	r.printed = nil
	return p.Print(r.out, objs, len(objs) == 1)
}

// ObjectError is the line reporting that o could not be applied (or,
// with verb "comparing", compared), kubectl style: "Error from server
// (NotFound): error when applying configmap/cfg from app/cm.yaml:1:1:
// namespaces \"nope\" not found". A conflict gets a hint on what to do.
func ObjectError(verb string, o *applyset.Object, err error) string {
	return errorLine(fmt.Sprintf("error when %s %s from %s", verb, o.Ref(), o.Manifest.Source), err)
}

// errorLine is "Error from server (REASON): WHERE: MESSAGE" for an error
// of the apiserver, "error: WHERE: MESSAGE" for others.
func errorLine(where string, err error) string {
	var apiErr *meta.APIError
	var line string
	if errors.As(err, &apiErr) {
		reason := apiErr.Status.Reason
		if reason == "" {
			reason = meta.StatusReason(fmt.Sprint(apiErr.Status.Code))
		}
		line = fmt.Sprintf("Error from server (%s): %s: %s", reason, where, apiErr.Status.Message)
	} else {
		line = fmt.Sprintf("error: %s: %v", where, err)
	}
	if applyset.IsFieldConflict(err) {
		line += "\nhint: set the field to its live value in the manifest, leave it out, or use --force-conflicts to take it over"
	}
	return line
}
