package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/kl-dev/kl/pkg/manifest"
)

const usage = `Check manifests for common mistakes and best practices.

Usage:
  kl lint -f PATH [-f PATH...] [-R] [--disable RULE,...]

Each finding is printed as FILE:LINE:COL: OBJECT: RULE: MESSAGE. Exits 0
when there are no warnings (info findings are fine), 1 when there are, and
2 when a manifest cannot be read.

Examples:
  kl lint -f deploy/ -R
  kl lint -f web.yaml --disable no-resource-limits,single-replica
  kl lint --list-rules

Flags:
`

// Exit codes.
const (
	exitOK       = 0
	exitWarnings = 1
	exitError    = 2
)

// options are the parsed command line.
type options struct {
	files     []string
	recursive bool
	disable   []string
	listRules bool
}

// run is the whole program; it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	fs := pflag.NewFlagSet("kl lint", pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below, as kl does
	fs.Usage = func() {}
	fs.StringSliceVarP(&o.files, "filename", "f", nil, "manifest file or directory to check, - for stdin (repeatable)")
	fs.BoolVarP(&o.recursive, "recursive", "R", false, "check the directories of -f recursively")
	fs.StringSliceVar(&o.disable, "disable", nil, "rules to skip, comma separated (repeatable)")
	fs.BoolVar(&o.listRules, "list-rules", false, "list the rules and exit")
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		fmt.Fprint(stdout, usage+fs.FlagUsages())
		return exitOK
	}
	if err == nil {
		err = o.validate(fs.Args())
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\nRun 'kl lint --help' for usage.\n", err)
		return exitError
	}
	if o.listRules {
		return listRules(stdout)
	}

	objs, readErr := manifest.Read(o.files, manifest.Options{Recursive: o.recursive, Stdin: stdin})
	findings := lint(objs, enabled(o.disable))
	for _, f := range findings {
		fmt.Fprintln(stdout, f)
	}
	fmt.Fprintln(stderr, summary(findings, len(objs)))
	if readErr != nil {
		for line := range strings.Lines(readErr.Error()) {
			fmt.Fprintf(stderr, "error: %s", line)
		}
		fmt.Fprintln(stderr)
		return exitError
	}
	if slices.ContainsFunc(findings, func(f finding) bool { return f.rule.severity == warning }) {
		return exitWarnings
	}
	return exitOK
}

func (o *options) validate(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q: name manifests with -f", args[0])
	}
	if len(o.files) == 0 && !o.listRules {
		return errors.New("no manifests given: use -f PATH")
	}
	for _, id := range o.disable {
		if ruleByID(id) == nil {
			return fmt.Errorf("--disable: unknown rule %q (kl lint --list-rules lists them)", id)
		}
	}
	return nil
}

// enabled returns the rules not disabled.
func enabled(disable []string) []*rule {
	var out []*rule
	for _, r := range rules {
		if !slices.Contains(disable, r.id) {
			out = append(out, r)
		}
	}
	return out
}

func listRules(out io.Writer) int {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "RULE\tSEVERITY\tCHECKS")
	for _, r := range rules {
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.id, r.severity, r.doc)
	}
	if err := w.Flush(); err != nil {
		return exitError
	}
	return exitOK
}

// finding is one problem in one object.
type finding struct {
	source manifest.Source
	object string
	rule   *rule
	msg    string
	// order keeps findings in the order of their objects.
	order int
}

// String is the finding's line: FILE:LINE:COL: OBJECT: RULE: MESSAGE.
func (f finding) String() string {
	s := fmt.Sprintf("%s: %s: %s: %s", f.source, f.object, f.rule.id, f.msg)
	if f.rule.severity == info {
		s += " (info)"
	}
	return s
}

// lint runs rules on objs and returns the findings in object order, then
// position.
func lint(objs []*manifest.Object, rules []*rule) []finding {
	var out []finding
	for i, o := range objs {
		for _, r := range rules {
			r.check(o, func(path []string, format string, args ...any) {
				out = append(out, finding{
					source: o.Position(path), object: o.String(), rule: r,
					msg: fmt.Sprintf(format, args...), order: i,
				})
			})
		}
	}
	slices.SortStableFunc(out, func(a, b finding) int {
		return cmp.Or(cmp.Compare(a.order, b.order), cmp.Compare(a.source.Line, b.source.Line), cmp.Compare(a.source.Column, b.source.Column))
	})
	return out
}

// summary is the last line: "3 warnings and 1 info in 4 objects".
func summary(findings []finding, objects int) string {
	var warnings, infos int
	for _, f := range findings {
		if f.rule.severity == warning {
			warnings++
		} else {
			infos++
		}
	}
	in := plural(objects, "object", "objects")
	switch {
	case warnings == 0 && infos == 0:
		return "no findings in " + in
	case infos == 0:
		return plural(warnings, "warning", "warnings") + " in " + in
	case warnings == 0:
		return plural(infos, "info", "infos") + " in " + in
	}
	return plural(warnings, "warning", "warnings") + " and " + plural(infos, "info", "infos") + " in " + in
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
