// Package validate implements `kl validate`: offline checks of manifests
// against kl's schemas and semantic rules, without a server.
//
// Output: every problem is one line on standard output,
//
//	deploy/web.yaml:14:7: Deployment shop/web: spec.replicas: Invalid value: "3": expected integer, got string
//
// sorted by file and position, then a summary line "12 valid, 2 invalid".
// Problems go to standard output (as kubeconform does) so that one
// redirection captures the report; the exit code is 1 when any manifest is
// invalid or unreadable, 0 otherwise. With -o json the report is one JSON
// document for CI tools.
package validate

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/manifest"
	"github.com/kl-dev/kl/pkg/validation"
)

// Options are the inputs of `kl validate`.
type Options struct {
	IO *iostreams.IOStreams
	// Filenames are the files and directories to read ("-": stdin).
	Filenames []string
	// Recursive reads subdirectories of directories.
	Recursive bool
	// Output is "text" or "json".
	Output string
	// Validator returns the schema validator (compiled once per run).
	Validator func() (*validation.Validator, error)
}

// NewCmdValidate returns the `kl validate` command. runF, if not nil,
// replaces the command's action (tests use it to check flag parsing alone).
func NewCmdValidate(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Validator: validation.NewValidator}
	cmd := &cobra.Command{
		Use:   "validate -f FILENAME [-R] [-o text|json]",
		Short: "Check manifests against kl's schemas, offline",
		Long: `Check manifests against kl's schemas and validation rules, without a server.

Reads YAML and JSON files, directories (-R: recursively) and standard input
("-f -"). Every problem is printed on one line with the file, line and column
of the offending field, followed by a summary ("12 valid, 2 invalid"), all on
standard output. The exit code is 1 when any manifest is invalid or cannot be
read, 0 otherwise. -o json prints one JSON document instead:
{"valid": N, "invalid": M, "problems": [{"file", "line", "column", "object",
"field", "message"}]}.`,
		Example: `  kl validate -f deploy/web.yaml
  kl validate -R -f deploy/
  cat web.yaml | kl validate -f -
  kl validate -R -f deploy/ -o json`,
		Args: cmdutil.UsageArgs(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Filenames = append(opts.Filenames, args...)
			if len(opts.Filenames) == 0 {
				return cmdutil.FlagErrorf("must specify one or more files or directories with -f")
			}
			switch opts.Output {
			case "text", "json":
			default:
				return cmdutil.FlagErrorf("unknown output format %q for -o: want text or json", opts.Output)
			}
			if runF != nil {
				return runF(opts)
			}
			return runValidate(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVarP(&opts.Filenames, "filename", "f", nil, "file or directory with manifests, or - for standard input (repeatable)")
	fl.BoolVarP(&opts.Recursive, "recursive", "R", false, "read directories given with -f recursively")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

// Problem is one thing wrong with the manifests.
type Problem struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	// Object is "Deployment shop/web", or "" when not known.
	Object string `json:"object"`
	// Field is the JSON path of the offending field ("spec.replicas"), or
	// "" for problems of a whole document or file.
	Field   string `json:"field"`
	Message string `json:"message"`
}

// String formats the problem as one line:
// "FILE:LINE:COL: OBJECT: FIELD: MESSAGE" (empty parts left out).
func (p *Problem) String() string {
	src := manifest.Source{File: p.File, Line: p.Line, Column: p.Column}
	parts := make([]string, 0, 4)
	for _, s := range []string{src.String(), p.Object, p.Field, p.Message} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

// Report is the result of validating manifests; it is also the -o json
// document.
type Report struct {
	Valid    int        `json:"valid"`
	Invalid  int        `json:"invalid"`
	Problems []*Problem `json:"problems"`
}

func runValidate(ctx context.Context, opts *Options) error {
	v, err := opts.Validator()
	if err != nil {
		return fmt.Errorf("load schemas: %w", err)
	}
	rep, err := Validate(ctx, v, opts.Filenames, manifest.Options{Recursive: opts.Recursive, Stdin: opts.IO.In})
	if err != nil {
		return err
	}
	if err := write(opts.IO.Out, rep, opts.Output); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if rep.Invalid > 0 || len(rep.Problems) > 0 {
		return &cmdutil.ExitError{Code: 1}
	}
	return nil
}

func write(w io.Writer, rep *Report, format string) error {
	if format == "json" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	var b strings.Builder
	for _, p := range rep.Problems {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%d valid, %d invalid\n", rep.Valid, rep.Invalid)
	_, err := io.WriteString(w, b.String())
	return err
}

// Validate reads the manifests at paths and checks every object with v. It
// returns an error only when ctx is cancelled; problems with the manifests
// are in the report.
func Validate(ctx context.Context, v *validation.Validator, paths []string, opts manifest.Options) (*Report, error) {
	objs, readErr := manifest.Read(paths, opts)
	return Check(ctx, v, objs, readErr)
}

// Check is Validate for manifests already read: objs and readErr are what
// manifest.Read returned. kl apply and kl diff use it to validate exactly
// as kl validate does before they send anything.
func Check(ctx context.Context, v *validation.Validator, objs []*manifest.Object, readErr error) (*Report, error) {
	rep := &Report{Problems: []*Problem{}}
	// Problems of reading: a document counts once however many it has.
	if list, ok := readErr.(manifest.ErrorList); ok {
		type docKey struct{ file, object string }
		seen := map[docKey]bool{}
		for _, e := range list {
			rep.Problems = append(rep.Problems, &Problem{File: e.Source.File, Line: e.Source.Line,
				Column: e.Source.Column, Object: e.Object, Message: e.Msg})
			k := docKey{e.Source.File, e.Object}
			if e.Object == "" || !seen[k] {
				rep.Invalid++
			}
			seen[k] = true
		}
	} else if readErr != nil {
		rep.Problems = append(rep.Problems, &Problem{Message: readErr.Error()})
		rep.Invalid++
	}

	namespaced := map[string]bool{}
	for _, k := range v.Kinds() {
		namespaced[k.APIVersion()+"/"+k.Kind] = k.Namespaced
	}
	results := make([][]*Problem, len(objs))
	err := forEach(ctx, len(objs), func(i int) {
		results[i] = check(v, objs[i], namespaced)
	})
	if err != nil {
		return nil, err
	}
	for _, ps := range results {
		if len(ps) == 0 {
			rep.Valid++
			continue
		}
		rep.Invalid++
		rep.Problems = append(rep.Problems, ps...)
	}
	slices.SortStableFunc(rep.Problems, func(a, b *Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return rep, nil
}

// check validates one object.
func check(v *validation.Validator, o *manifest.Object, namespaced map[string]bool) []*Problem {
	obj := o.Object
	if ns, known := namespaced[o.APIVersion+"/"+o.Kind]; known && !ns && o.Namespace != "" {
		// kubectl ignores metadata.namespace on cluster-scoped kinds; so
		// does validate.
		obj = withoutNamespace(obj)
	}
	_, errs := v.Validate(obj)
	if len(errs) == 0 {
		return nil
	}
	out := make([]*Problem, len(errs))
	for i, e := range errs {
		src := o.Position(e.Path)
		out[i] = &Problem{File: src.File, Line: src.Line, Column: src.Column,
			Object: o.String(), Field: e.Field, Message: e.ErrorBody()}
	}
	return out
}

// withoutNamespace returns a shallow copy of obj without
// metadata.namespace.
func withoutNamespace(obj map[string]any) map[string]any {
	md, ok := obj["metadata"].(map[string]any)
	if !ok {
		return obj
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[k] = v
	}
	mdc := make(map[string]any, len(md))
	for k, v := range md {
		if k != "namespace" {
			mdc[k] = v
		}
	}
	out["metadata"] = mdc
	return out
}

// forEach calls f(0..n-1) on up to GOMAXPROCS goroutines; it stops early
// and returns ctx's error when ctx is cancelled.
func forEach(ctx context.Context, n int, f func(i int)) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}
