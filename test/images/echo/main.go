// Command echo is kl's test application: a static program that runs in an
// image built FROM scratch (see package images), so tests need no
// registry. It is an HTTP echo server by default and, with a first
// argument, one of a few small tools the runtime and e2e tests use.
//
//	echo [serve]          HTTP on :$PORT (default 8080):
//	                        /                  "version=V hostname=H path=P"
//	                        /healthz, /readyz  200 "ok", or 500/503 once failing
//	                        /fail/liveness, /fail/readiness    start failing
//	                        /recover/liveness, /recover/readiness  stop failing
//	                        /exit?code=N       exit with N after answering
//	echo sleep [DURATION] run until SIGTERM (or for DURATION), exit 0
//	echo exit CODE        exit with CODE
//	echo echo ARGS...     print ARGS space-separated on stdout, exit 0
//	echo stderr ARGS...   the same on stderr
//	echo hostname         print the hostname
//	echo pwd              print the working directory
//	echo ip               print the non-loopback IPv4 addresses, one a line
//	echo get URL          print the body of an HTTP GET (exit 1 on failure)
//	echo cat [FILE...]    copy the files (default: stdin) to stdout
//	echo write FILE TEXT  write TEXT and a newline to FILE
//	echo id               print "uid=U gid=G groups=G1,G2"
//	echo env              print the environment
//	echo oom              allocate memory until the kernel kills it
//	echo pause            the pod sandbox program (kl pause)
//
// Environment: PORT (serve), FAIL_LIVENESS=1 and FAIL_READINESS=1 (serve:
// fail from the start), TERM_DELAY=DURATION (serve, sleep: on SIGTERM wait
// that long, then exit 0), IGNORE_SIGTERM=1 (serve, sleep: only SIGKILL
// ends it), EXIT_CODE=N (serve, sleep: the exit code after SIGTERM).
//
// The version is set at build time: -ldflags "-X main.version=2".
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kl-dev/kl/pkg/kubelet/runtime/docker/pause"
)

// version is the application's version, set by the linker.
var version = "1"

func main() {
	trapSignals()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(stdout, stderr)
	case "sleep":
		var d time.Duration
		if len(args) > 0 && args[0] != "infinity" {
			var err error
			if d, err = parseDuration(args[0]); err != nil {
				fmt.Fprintf(stderr, "sleep: %v\n", err)
				return 2
			}
		}
		return sleep(d, stdout, stderr)
	case "exit":
		if len(args) != 1 {
			fmt.Fprintln(stderr, "usage: exit CODE")
			return 2
		}
		code, err := strconv.Atoi(args[0])
		if err != nil {
			fmt.Fprintf(stderr, "exit: %v\n", err)
			return 2
		}
		return code
	case "echo":
		fmt.Fprintln(stdout, strings.Join(args, " "))
		return 0
	case "stderr":
		fmt.Fprintln(stderr, strings.Join(args, " "))
		return 0
	case "hostname":
		h, err := os.Hostname()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, h)
		return 0
	case "pwd":
		wd, err := os.Getwd()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, wd)
		return 0
	case "ip":
		for _, ip := range ipv4s() {
			fmt.Fprintln(stdout, ip)
		}
		return 0
	case "get":
		if len(args) != 1 {
			fmt.Fprintln(stderr, "usage: get URL")
			return 2
		}
		return get(args[0], stdout, stderr)
	case "cat":
		return cat(args, stdin, stdout, stderr)
	case "write":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "usage: write FILE TEXT")
			return 2
		}
		if err := os.WriteFile(args[0], []byte(args[1]+"\n"), 0o644); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	case "id":
		groups, _ := os.Getgroups()
		gs := make([]string, len(groups))
		for i, g := range groups {
			gs[i] = strconv.Itoa(g)
		}
		fmt.Fprintf(stdout, "uid=%d gid=%d groups=%s\n", os.Getuid(), os.Getgid(), strings.Join(gs, ","))
		return 0
	case "env":
		for _, kv := range os.Environ() {
			fmt.Fprintln(stdout, kv)
		}
		return 0
	case "oom":
		return oom(stdout)
	case "pause":
		return pause.Main()
	default:
		fmt.Fprintf(stderr, "echo: unknown command %q\n", cmd)
		return 2
	}
}

func cat(files []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		if _, err := io.Copy(stdout, stdin); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		_, _ = stdout.Write(data)
	}
	return 0
}

// parseDuration accepts a Go duration or a number of seconds.
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

// term receives SIGTERM and SIGINT from the program's start (trapSignals
// is main's first act: a signal that comes before a handler is installed
// kills a Go program with exit code 2, which a test stopping a container
// that has just started must not see).
var term = make(chan os.Signal, 1)

// trapSignals sends SIGTERM and SIGINT to term, or ignores them with
// IGNORE_SIGTERM=1.
func trapSignals() {
	if os.Getenv("IGNORE_SIGTERM") == "1" {
		signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
		return
	}
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
}

// terminated returns a context cancelled on SIGTERM or SIGINT (never with
// IGNORE_SIGTERM=1), and the code to exit with then.
func terminated() (context.Context, context.CancelFunc, int) {
	code := 0
	if s := os.Getenv("EXIT_CODE"); s != "" {
		code, _ = strconv.Atoi(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-term:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel, code
}

// termDelay waits TERM_DELAY after a SIGTERM.
func termDelay(stderr io.Writer) {
	s := os.Getenv("TERM_DELAY")
	if s == "" {
		return
	}
	d, err := parseDuration(s)
	if err != nil {
		fmt.Fprintf(stderr, "TERM_DELAY: %v\n", err)
		return
	}
	time.Sleep(d)
}

func sleep(d time.Duration, stdout, stderr io.Writer) int {
	ctx, cancel, code := terminated()
	defer cancel()
	if s := os.Getenv("TERM_DELAY"); s != "" {
		fmt.Fprintf(stdout, "sleeping; on SIGTERM, exit %d after %s\n", code, s)
	}
	if d <= 0 {
		// "Forever". A timer also keeps the runtime from declaring a
		// deadlock when SIGTERM is ignored and nothing else can wake us.
		d = time.Duration(math.MaxInt64)
	}
	timeout := time.After(d)
	select {
	case <-ctx.Done():
		termDelay(stderr)
		return code
	case <-timeout:
		return 0
	}
}

func serve(stdout, stderr io.Writer) int {
	ctx, cancel, code := terminated()
	defer cancel()
	var failLive, failReady atomic.Bool
	failLive.Store(os.Getenv("FAIL_LIVENESS") == "1")
	failReady.Store(os.Getenv("FAIL_READINESS") == "1")
	hostname, _ := os.Hostname()
	exit := make(chan int, 1)

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "version=%s hostname=%s path=%s\n", version, hostname, r.URL.Path)
	})
	health := func(fail *atomic.Bool, failCode int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if fail.Load() {
				http.Error(w, "failing", failCode)
				return
			}
			fmt.Fprintln(w, "ok")
		}
	}
	mux.HandleFunc("/healthz", health(&failLive, http.StatusInternalServerError))
	mux.HandleFunc("/readyz", health(&failReady, http.StatusServiceUnavailable))
	set := func(b *atomic.Bool, v bool) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			b.Store(v)
			fmt.Fprintln(w, "ok")
		}
	}
	mux.HandleFunc("/fail/liveness", set(&failLive, true))
	mux.HandleFunc("/fail/readiness", set(&failReady, true))
	mux.HandleFunc("/recover/liveness", set(&failLive, false))
	mux.HandleFunc("/recover/readiness", set(&failReady, false))
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil {
			http.Error(w, "want ?code=N", http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, "ok")
		select {
		case exit <- n:
		default:
		}
	})

	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "echo version %s listening on :%s\n", version, port)

	select {
	case <-ctx.Done():
		termDelay(stderr)
	case n := <-exit:
		// Let the answer reach the client before the process ends.
		shutdown(srv)
		return n
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	shutdown(srv)
	return code
}

func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

func ipv4s() []string {
	var out []string
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			out = append(out, n.IP.String())
		}
	}
	slices.Sort(out)
	return out
}

func get(url string, stdout, stderr io.Writer) int {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer resp.Body.Close()
	if _, err := io.Copy(stdout, resp.Body); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if resp.StatusCode >= 400 {
		fmt.Fprintf(stderr, "%s: %s\n", url, resp.Status)
		return 1
	}
	return 0
}

// oom touches ever more memory, one MiB at a time, until it is killed.
func oom(stdout io.Writer) int {
	var hold [][]byte
	for i := 1; ; i++ {
		b := make([]byte, 1<<20)
		for j := range b {
			b[j] = byte(j)
		}
		hold = append(hold, b)
		if i%64 == 0 {
			fmt.Fprintf(stdout, "%d MiB\n", i)
		}
		if i > 1<<16 { // 64 GiB: no limit applied; give up
			return 1
		}
	}
}
