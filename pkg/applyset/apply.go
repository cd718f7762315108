package applyset

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/client"
	"github.com/kl-dev/kl/pkg/manifest"
)

// DefaultConcurrency bounds the requests Apply and Prune have in flight.
const DefaultConcurrency = 16

// DefaultFieldManager is the field manager kl applies as.
const DefaultFieldManager = "kl"

// DryRun says whether and how writes are only simulated.
type DryRun int

// Dry-run modes (--dry-run=none|client|server).
const (
	// DryRunNone writes.
	DryRunNone DryRun = iota
	// DryRunClient sends no writes; Apply only reads whether each object
	// exists.
	DryRunClient
	// DryRunServer sends every write with dryRun=All: the server runs it
	// through, stores nothing and answers with the would-be object.
	DryRunServer
)

// Action is what applying an object did (or would do).
type Action string

// Actions of Apply.
const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
)

// ApplyOptions control Apply.
type ApplyOptions struct {
	// FieldManager is the server-side apply manager (default "kl").
	FieldManager string
	// Force takes conflicting fields over from other managers
	// (--force-conflicts: the last applier wins).
	Force bool
	// DryRun simulates the writes.
	DryRun DryRun
	// Concurrency bounds the requests in flight (default 16).
	Concurrency int
	// OnResult, if set, is called with each object's index and result as
	// soon as it is known; calls are serialized.
	OnResult func(i int, r *Result)
}

// Result is the outcome of applying one object.
type Result struct {
	// Action is what the apply did; not set when Err is.
	Action Action
	// Object is the object as the server returned it (for a server dry
	// run, the would-be object); for Predicted results, the body that
	// would be sent.
	Object []byte
	// Predicted is true when the server was not asked: in a client dry
	// run, and in a server dry run for objects in a namespace that the
	// same apply creates (the server cannot dry-run them before the
	// namespace exists).
	Predicted bool
	// Err is why the object could not be applied.
	Err error
}

// Apply applies objs with server-side apply in dependency order
// (manifest.ApplyOrder): the objects of one class concurrently, classes one
// after the other. It returns one result per object, by index; a failed
// object does not stop the others.
func Apply(ctx context.Context, api API, objs []*Object, opts ApplyOptions) []*Result {
	if opts.FieldManager == "" {
		opts.FieldManager = DefaultFieldManager
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	results := make([]*Result, len(objs))
	var mu sync.Mutex
	report := func(i int, r *Result) {
		results[i] = r
		if opts.OnResult != nil {
			mu.Lock()
			defer mu.Unlock()
			opts.OnResult(i, r)
		}
	}
	// Namespaces this (dry) run creates, and those the manifests hold.
	newNamespaces := map[string]bool{}
	inManifests := map[string]bool{}
	for _, o := range objs {
		if isNamespace(o) {
			inManifests[o.Name] = true
		}
	}
	for _, phase := range phases(objs) {
		if ctx.Err() != nil {
			for _, i := range phase {
				report(i, &Result{Err: ctx.Err()})
			}
			continue
		}
		ForEach(ctx, len(phase), opts.Concurrency, func(k int) {
			i := phase[k]
			o := objs[i]
			if opts.DryRun != DryRunNone && o.Namespace != "" && newNamespaces[o.Namespace] {
				report(i, &Result{Action: Created, Object: o.Body, Predicted: true})
				return
			}
			r := applyOne(ctx, api, o, opts)
			if r.Err != nil && opts.DryRun == DryRunServer && missingNamespace(r.Err, o.Namespace) && inManifests[o.Namespace] {
				r = &Result{Action: Created, Object: o.Body, Predicted: true}
			}
			report(i, r)
		})
		for _, i := range phase {
			if results[i] == nil { // cancelled before it was sent
				report(i, &Result{Err: ctx.Err()})
			}
		}
		if opts.DryRun != DryRunNone {
			for _, i := range phase {
				if o := objs[i]; isNamespace(o) && results[i].Action == Created {
					newNamespaces[o.Name] = true
				}
			}
		}
	}
	return results
}

func applyOne(ctx context.Context, api API, o *Object, opts ApplyOptions) *Result {
	gvr := o.Mapping.GVR
	if opts.DryRun == DryRunClient {
		_, err := api.Get(ctx, gvr, o.Namespace, o.Name)
		switch {
		case meta.IsNotFound(err):
			return &Result{Action: Created, Object: o.Body, Predicted: true}
		case err != nil:
			return &Result{Err: err}
		}
		return &Result{Action: Configured, Object: o.Body, Predicted: true}
	}
	po := client.PatchOptions{FieldManager: opts.FieldManager, DryRun: opts.DryRun == DryRunServer}
	if opts.Force {
		force := true
		po.Force = &force
	}
	var res *client.PatchResult
	err := withRetry(ctx, func() (err error) {
		res, err = api.PatchWithResult(ctx, gvr, o.Namespace, o.Name, client.ApplyPatchType, o.Body, po)
		return err
	})
	if err != nil {
		return &Result{Err: err}
	}
	action := Action(res.ApplyResult)
	switch action {
	case Created, Configured, Unchanged:
	default:
		// Not kl's apiserver: 201 says created; assume a change otherwise.
		action = Configured
		if res.StatusCode == 201 {
			action = Created
		}
	}
	return &Result{Action: action, Object: res.Object}
}

// maxAttempts bounds the tries of one apply that the server failed for
// reasons of its own (busy, a write race it gave up on).
const maxAttempts = 5

// withRetry calls f until it succeeds, fails for good (see retriable),
// or maxAttempts tries have been made.
func withRetry(ctx context.Context, f func() error) error {
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || attempt == maxAttempts || !retriable(err) || !sleep(ctx, retryDelay(attempt)) {
			return err
		}
	}
}

// retriable reports whether a failed apply (or delete) may succeed when
// sent again. Server-side apply is idempotent (the same intent gives the
// same result), and so is a delete, so it is safe to resend after server
// errors, throttling and write races the server gave up on ("too many
// concurrent writers, try again"); not after a field-manager conflict,
// which only the user can resolve, nor after any other refusal.
func retriable(err error) bool {
	var apiErr *meta.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	st := apiErr.Status
	switch {
	case st.Code >= 500 || st.Code == http.StatusTooManyRequests:
		return true
	case st.Code == http.StatusConflict:
		return !IsFieldConflict(err) && strings.Contains(st.Message, "try again")
	}
	return false
}

// IsFieldConflict reports whether err is a server-side apply conflict:
// fields the configuration sets to other values are owned by other
// managers (409 with FieldManagerConflict causes).
func IsFieldConflict(err error) bool {
	var apiErr *meta.APIError
	if !errors.As(err, &apiErr) || apiErr.Status.Code != http.StatusConflict || apiErr.Status.Details == nil {
		return false
	}
	for _, c := range apiErr.Status.Details.Causes {
		if c.Type == "FieldManagerConflict" {
			return true
		}
	}
	return false
}

// retryDelay is the pause before attempt+1: 50ms doubling, with jitter so
// that racing writers spread out.
func retryDelay(attempt int) time.Duration {
	d := 50 * time.Millisecond << (attempt - 1)
	return d + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func isNamespace(o *Object) bool {
	return o.Mapping.Kind == "Namespace" && o.Mapping.GVR.Group == ""
}

// missingNamespace reports whether err is the server saying namespace ns
// does not exist.
func missingNamespace(err error, ns string) bool {
	var apiErr *meta.APIError
	if ns == "" || !errors.As(err, &apiErr) || !meta.IsNotFound(err) {
		return false
	}
	d := apiErr.Status.Details
	return d != nil && d.Kind == "namespaces" && d.Name == ns
}

// phases splits the indices of objs into groups applied one after the
// other, in manifest.ApplyOrder: consecutive objects of the same class
// form one group.
func phases(objs []*Object) [][]int {
	ms := make([]*manifest.Object, len(objs))
	index := make(map[*manifest.Object]int, len(objs))
	for i, o := range objs {
		ms[i] = o.Manifest
		if ms[i] == nil {
			ms[i] = &manifest.Object{APIVersion: o.Mapping.APIVersion(), Kind: o.Mapping.Kind}
		}
		index[ms[i]] = i
	}
	return groupByClass(manifest.ApplyOrder(ms), func(m *manifest.Object) int { return index[m] })
}

// groupByClass cuts ordered (sorted by manifest.ApplyOrder) into runs of
// one class each.
func groupByClass(ordered []*manifest.Object, index func(*manifest.Object) int) [][]int {
	var out [][]int
	same := classCache{}
	for k, m := range ordered {
		if k == 0 || !same.sameClass(ordered[k-1].Kind, m.Kind) {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], index(m))
	}
	return out
}

// classCache answers whether manifest.ApplyOrder puts two kinds in the same
// class, by asking ApplyOrder itself (it is stable within a class, so two
// kinds are of one class when it keeps both of their orders), so that the
// classes are defined in one place.
type classCache map[[2]string]bool

func (c classCache) sameClass(a, b string) bool {
	if a == b {
		return true
	}
	key := [2]string{a, b}
	if v, ok := c[key]; ok {
		return v
	}
	keeps := func(x, y string) bool {
		out := manifest.ApplyOrder([]*manifest.Object{{Kind: x}, {Kind: y}})
		return out[0].Kind == x
	}
	v := keeps(a, b) && keeps(b, a)
	c[key] = v
	c[[2]string{b, a}] = v
	return v
}

// ForEach calls f(0..n-1) on up to workers goroutines and waits; once ctx
// is cancelled it starts no more calls.
func ForEach(ctx context.Context, n, workers int, f func(i int)) {
	workers = max(1, min(workers, n))
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
}
