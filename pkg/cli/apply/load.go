package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/applyset"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/cli/validate"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/manifest"
	"github.com/kl-dev/kl/pkg/validation"
)

// LoadOptions are the inputs Load needs; kl apply and kl diff share them.
type LoadOptions struct {
	// Filenames and Recursive are -f and -R; Stdin is read for "-".
	Filenames []string
	Recursive bool
	Stdin     io.Reader
	// ErrOut receives the problems of invalid manifests.
	ErrOut io.Writer
	// Namespace returns the namespace (-n, else the context's) and
	// whether it was given explicitly.
	Namespace func() (string, bool, error)
	// Client returns the API client.
	Client func() (*client.Client, error)
	// Validator returns the schema validator.
	Validator func() (*validation.Validator, error)
	// ApplySet is --applyset NAME ("": derived from the paths).
	ApplySet string
	// Selector is -l.
	Selector string
}

// Input is the validated manifests, ready to apply or compare.
type Input struct {
	// Objects are every object of the manifests, in input order.
	Objects []*applyset.Object
	// Selected are the Objects -l selects (all of them without -l).
	Selected []*applyset.Object
	// Selector is the parsed -l.
	Selector meta.Selector
	// Set is the apply set the objects are applied through; nil for
	// manifests read from standard input without --applyset.
	Set *applyset.Set
	// Record is Set's membership record (empty when Set is nil).
	Record *applyset.Record
	// Client, API and Mapper talk to the apiserver.
	Client *client.Client
	API    *client.Dynamic
	Mapper *resource.Resolver
}

// Members returns the members of every object of the manifests.
func (in *Input) Members() map[applyset.Member]bool {
	out := make(map[applyset.Member]bool, len(in.Objects))
	for _, o := range in.Objects {
		out[o.Member()] = true
	}
	return out
}

// InvalidError says that manifests are invalid, or cannot be applied as
// they are (a kind the server does not serve, a namespace other than -n);
// their problems have been printed, one a line, as kl validate prints
// them.
type InvalidError struct {
	Invalid, Valid int
	// Unappliable is true when the manifests are valid but some objects
	// cannot be applied as they are.
	Unappliable bool
}

func (e *InvalidError) Error() string {
	if e.Unappliable {
		return fmt.Sprintf("%d of %d objects cannot be applied", e.Invalid, e.Invalid+e.Valid)
	}
	return fmt.Sprintf("%d of %d manifests invalid", e.Invalid, e.Invalid+e.Valid)
}

// Load reads and validates the manifests (offline, as kl validate does:
// when any is invalid, it prints every problem to ErrOut and returns an
// *InvalidError before contacting the server), then resolves each object's
// kind and namespace with the server's discovery, names the apply set and
// reads its record.
func Load(ctx context.Context, opts LoadOptions) (*Input, error) {
	sel, err := meta.ParseSelector(opts.Selector)
	if err != nil {
		return nil, err
	}
	v, err := opts.Validator()
	if err != nil {
		return nil, fmt.Errorf("load schemas: %w", err)
	}
	objs, readErr := manifest.Read(opts.Filenames, manifest.Options{Recursive: opts.Recursive, Stdin: opts.Stdin})
	rep, err := validate.Check(ctx, v, objs, readErr)
	if err != nil {
		return nil, err
	}
	if rep.Invalid > 0 || len(rep.Problems) > 0 {
		for _, p := range rep.Problems {
			fmt.Fprintln(opts.ErrOut, p.String())
		}
		return nil, &InvalidError{Invalid: max(rep.Invalid, 1), Valid: rep.Valid}
	}

	ns, explicit, err := opts.Namespace()
	if err != nil {
		return nil, err
	}
	var set *applyset.Set
	switch {
	case opts.ApplySet != "":
		s, err := applyset.Named(opts.ApplySet, ns)
		if err != nil {
			return nil, err
		}
		set = &s
	case !slices.Contains(opts.Filenames, "-"):
		s, err := applyset.FromPaths(opts.Filenames, ns)
		if err != nil {
			return nil, err
		}
		set = &s
	}

	c, err := opts.Client()
	if err != nil {
		return nil, err
	}
	in := &Input{Selector: sel, Set: set, Client: c, API: c.Dynamic(), Mapper: resource.NewResolver(c), Record: applyset.NewRecord()}
	in.Objects, err = applyset.Prepare(ctx, in.Mapper, objs, applyset.PrepareOptions{Namespace: ns, ExplicitNamespace: explicit, Set: set})
	var problems manifest.ErrorList
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintln(opts.ErrOut, p.Error())
		}
		return nil, &InvalidError{Invalid: len(problems), Valid: len(objs) - len(problems), Unappliable: true}
	}
	if err != nil {
		return nil, err
	}
	in.Selected = applyset.Select(in.Objects, sel)
	if set != nil {
		in.Record, err = applyset.ReadRecord(ctx, in.API, *set)
		if err != nil {
			return nil, err
		}
	}
	return in, nil
}
