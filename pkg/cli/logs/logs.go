// Package logs implements `kl logs`: it prints the logs of a container of
// a pod (or of a pod picked from a deployment, replica set or service, or
// of every pod a label selector matches) through the apiserver's pods/log,
// which the pod's kubelet serves. It also holds what kl logs and kl exec
// share: picking the pod (AttachablePod) and the container
// (DefaultContainer).
package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/cli/resource"
	"github.com/kl-dev/kl/pkg/client"
)

// Options are the inputs of `kl logs`.
type Options struct {
	IO        *iostreams.IOStreams
	Client    func() (*client.Client, error)
	Namespace func() (string, bool, error)

	// Target is POD or TYPE/NAME ("" with Selector).
	Target string
	// Container names the container ("": the default one).
	Container string
	// AllContainers prints the logs of every container of the pods.
	AllContainers bool
	// Selector picks the pods by label instead of Target.
	Selector string
	// Follow streams new lines until the containers exit or kl is
	// interrupted.
	Follow bool
	// Tail is how many of the last lines to print (-1: all).
	Tail int64
	// Previous prints the logs of the previous, terminated attempt.
	Previous bool
	// Timestamps prefixes each line with its RFC 3339 time.
	Timestamps bool
	// Since prints only lines newer than this (0: all).
	Since time.Duration
	// SinceTime prints only lines after this RFC 3339 time ("": all).
	SinceTime string
	// LimitBytes ends each log after this many bytes (0: no limit).
	LimitBytes int64
	// Prefix starts each line with [pod/NAME/CONTAINER].
	Prefix bool
	// MaxLogRequests bounds the logs followed at once.
	MaxLogRequests int
}

// NewCmdLogs returns the `kl logs` command. runF, if not nil, replaces the
// command's action.
func NewCmdLogs(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Client: f.Client, Namespace: f.Namespace}
	cmd := &cobra.Command{
		Use:   "logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]",
		Short: "Print the logs of a container in a pod",
		Long: `Print the logs of a container in a pod. The pod's kubelet serves them
through the apiserver.

TYPE/NAME picks one pod of a deployment, replica set or service, as kubectl
does (running and ready first, ready the longest). When the pod has several
containers and none is named with -c, the first is used (or the one its
kubectl.kubernetes.io/default-container annotation names). With -l, the
logs of every pod the selector matches are printed.`,
		Example: `  kl logs web-7d4b9c-x2x
  kl logs web-7d4b9c-x2x -c sidecar --tail 20 -f
  kl logs deployment/web --previous
  kl logs -l app=web --all-containers --prefix --since 10m`,
		Args: cmdutil.UsageArgs(cobra.MaximumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case opts.Selector != "" && len(args) > 0:
				return cmdutil.FlagErrorf("only one of -l/--selector or a pod name may be given")
			case opts.Selector == "" && len(args) == 0:
				return cmdutil.FlagErrorf("a pod name, TYPE/NAME or -l/--selector is required")
			case len(args) == 2 && opts.Container != "":
				return cmdutil.FlagErrorf("only one of -c or a container argument may be given")
			case opts.AllContainers && (opts.Container != "" || len(args) == 2):
				return cmdutil.FlagErrorf("--all-containers cannot be combined with a container name")
			case opts.Tail < -1:
				return cmdutil.FlagErrorf("--tail must be -1 (all lines) or more, got %d", opts.Tail)
			case opts.Since < 0:
				return cmdutil.FlagErrorf("--since must not be negative")
			case opts.Since > 0 && opts.SinceTime != "":
				return cmdutil.FlagErrorf("only one of --since or --since-time may be given")
			case opts.LimitBytes < 0:
				return cmdutil.FlagErrorf("--limit-bytes must not be negative")
			case opts.MaxLogRequests < 1:
				return cmdutil.FlagErrorf("--max-log-requests must be at least 1")
			}
			if opts.SinceTime != "" {
				if _, err := time.Parse(time.RFC3339, opts.SinceTime); err != nil {
					return cmdutil.FlagErrorf("--since-time %q is not an RFC 3339 time such as 2024-05-01T12:00:00Z", opts.SinceTime)
				}
			}
			if len(args) > 0 {
				opts.Target = args[0]
			}
			if len(args) == 2 {
				opts.Container = args[1]
			}
			if opts.Selector != "" && !cmd.Flags().Changed("tail") {
				opts.Tail = 10 // as kubectl: a selector shows the last 10 lines of each
			}
			if runF != nil {
				return runF(opts)
			}
			return runLogs(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Container, "container", "c", "", "container to print the logs of (default: the pod's only or first container)")
	fl.BoolVar(&opts.AllContainers, "all-containers", false, "print the logs of every container of the pod (init containers first)")
	fl.StringVarP(&opts.Selector, "selector", "l", "", "print the logs of every pod matching this label selector")
	fl.BoolVarP(&opts.Follow, "follow", "f", false, "stream new lines until the containers exit")
	fl.Int64Var(&opts.Tail, "tail", -1, "lines of the end of the log to print (-1: all; 10 with -l)")
	fl.BoolVarP(&opts.Previous, "previous", "p", false, "print the logs of the previous, terminated attempt of the container")
	fl.BoolVar(&opts.Timestamps, "timestamps", false, "start each line with its RFC 3339 time")
	fl.DurationVar(&opts.Since, "since", 0, "print only lines newer than this, e.g. 5s, 2m, 3h (default: all)")
	fl.StringVar(&opts.SinceTime, "since-time", "", "print only lines after this RFC 3339 time")
	fl.Int64Var(&opts.LimitBytes, "limit-bytes", 0, "print at most this many bytes of each log (0: no limit)")
	fl.BoolVar(&opts.Prefix, "prefix", false, "start each line with [pod/NAME/CONTAINER]")
	fl.IntVar(&opts.MaxLogRequests, "max-log-requests", 5, "most logs followed at once with -l or --all-containers")
	return cmd
}

// logStream is one container's log to print.
type logStream struct {
	pod       string
	container string
}

func runLogs(ctx context.Context, opts *Options) error {
	c, err := opts.Client()
	if err != nil {
		return err
	}
	ns, _, err := opts.Namespace()
	if err != nil {
		return err
	}
	var pods []*corev1.Pod
	if opts.Selector != "" {
		list, _, err := client.NewResource[corev1.Pod](c, podsGVR, true).Namespace(ns).List(ctx, client.ListOptions{LabelSelector: opts.Selector})
		if err != nil {
			return resource.ServerError(opts.IO.ErrOut, err)
		}
		if len(list) == 0 {
			fmt.Fprintf(opts.IO.ErrOut, "No resources found in %s namespace.\n", ns)
			return nil
		}
		slices.SortFunc(list, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
		pods = list
	} else {
		p, note, err := AttachablePod(ctx, c, ns, opts.Target)
		if err != nil {
			return resource.ServerError(opts.IO.ErrOut, err)
		}
		if note != "" {
			fmt.Fprintln(opts.IO.ErrOut, note)
		}
		pods = []*corev1.Pod{p}
	}

	var streams []logStream
	for _, p := range pods {
		switch {
		case opts.AllContainers:
			for _, list := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
				for _, ctr := range list {
					streams = append(streams, logStream{pod: p.Name, container: ctr.Name})
				}
			}
		case opts.Container != "":
			streams = append(streams, logStream{pod: p.Name, container: opts.Container})
		default:
			name, notice := DefaultContainer(p)
			if notice != "" && len(pods) == 1 {
				fmt.Fprintln(opts.IO.ErrOut, notice)
			}
			streams = append(streams, logStream{pod: p.Name, container: name})
		}
	}
	if opts.Follow && len(streams) > opts.MaxLogRequests {
		return fmt.Errorf("you are attempting to follow %d log streams, but maximum allowed concurrency is %d, use --max-log-requests to increase the limit", len(streams), opts.MaxLogRequests)
	}
	prefix := opts.Prefix
	query := opts.query()
	if opts.Follow && len(streams) > 1 {
		return followAll(ctx, c, ns, streams, query, prefix, opts.IO)
	}
	for _, s := range streams {
		out := io.Writer(opts.IO.Out)
		var lw *lineWriter
		if prefix {
			lw = newLineWriter(opts.IO.Out, nil, prefixOf(s))
			out = lw
		}
		err := copyLog(ctx, c, ns, s, query, out)
		if lw != nil {
			lw.flush()
		}
		if err != nil {
			return resource.ServerError(opts.IO.ErrOut, err)
		}
	}
	return nil
}

func prefixOf(s logStream) string { return "[pod/" + s.pod + "/" + s.container + "] " }

// query is the pods/log query of the options (the container apart).
func (o *Options) query() url.Values {
	q := url.Values{}
	if o.Follow {
		q.Set("follow", "true")
	}
	if o.Tail >= 0 {
		q.Set("tailLines", strconv.FormatInt(o.Tail, 10))
	}
	if o.Previous {
		q.Set("previous", "true")
	}
	if o.Timestamps {
		q.Set("timestamps", "true")
	}
	if o.Since > 0 {
		q.Set("sinceSeconds", strconv.FormatInt(int64(math.Ceil(o.Since.Seconds())), 10))
	}
	if o.SinceTime != "" {
		q.Set("sinceTime", o.SinceTime)
	}
	if o.LimitBytes > 0 {
		q.Set("limitBytes", strconv.FormatInt(o.LimitBytes, 10))
	}
	return q
}

// copyLog streams one container's log to out.
func copyLog(ctx context.Context, c *client.Client, ns string, s logStream, query url.Values, out io.Writer) error {
	q := url.Values{"container": {s.container}}
	for k, v := range query {
		q[k] = v
	}
	rc, err := c.Stream(ctx, "GET", PodPath(ns, s.pod, "log"), q)
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(out, rc); err != nil && ctx.Err() == nil {
		return fmt.Errorf("reading the logs of pod/%s/%s: %w", s.pod, s.container, err)
	}
	return ctx.Err()
}

// followAll follows several logs at once, line by line so lines of
// different containers do not mix.
func followAll(ctx context.Context, c *client.Client, ns string, streams []logStream, query url.Values, prefix bool, ios *iostreams.IOStreams) error {
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(streams))
	for i, s := range streams {
		p := ""
		if prefix {
			p = prefixOf(s)
		}
		lw := newLineWriter(ios.Out, &mu, p)
		wg.Go(func() {
			errs[i] = copyLog(ctx, c, ns, s, query, lw)
			lw.flush()
		})
	}
	wg.Wait()
	failed := false
	for _, err := range errs {
		if err == nil || errors.Is(err, context.Canceled) {
			continue
		}
		failed = true
		fmt.Fprintln(ios.ErrOut, resource.FormatError(err))
	}
	if failed {
		return &cmdutil.ExitError{Code: 1}
	}
	return ctx.Err()
}

// lineWriter writes whole lines to out, each after prefix, holding mu (if
// any) per line.
type lineWriter struct {
	out     io.Writer
	mu      *sync.Mutex
	prefix  string
	partial []byte
}

func newLineWriter(out io.Writer, mu *sync.Mutex, prefix string) *lineWriter {
	return &lineWriter{out: out, mu: mu, prefix: prefix}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			break
		}
		line := append(w.partial, p[:i+1]...)
		w.partial = nil
		if err := w.emit(line); err != nil {
			return 0, err
		}
		p = p[i+1:]
	}
	return n, nil
}

// flush writes what is left of an unfinished last line.
func (w *lineWriter) flush() {
	if len(w.partial) > 0 {
		_ = w.emit(append(w.partial, '\n'))
		w.partial = nil
	}
}

func (w *lineWriter) emit(line []byte) error {
	if w.mu != nil {
		w.mu.Lock()
		defer w.mu.Unlock()
	}
	if _, err := io.WriteString(w.out, w.prefix); err != nil {
		return err
	}
	_, err := w.out.Write(line)
	return err
}
