// Package cli_test runs kl's commands as users do, from scripts with golden
// output (testdata/*.txtar, github.com/rogpeppe/go-internal/testscript),
// against an in-process apiserver started for each script.
//
// Run `go test ./test/cli -update` to rewrite the expected output in the
// scripts after an intended change.
package cli_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"sigs.k8s.io/yaml"

	"github.com/kl-dev/kl/pkg/apiserver"
	"github.com/kl-dev/kl/pkg/cli"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/*.txtar")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"kl": func() { os.Exit(cli.Main()) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata",
		UpdateScripts: *update,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"klapi": cmdKLAPI,
		},
		Setup: func(env *testscript.Env) error {
			srv, err := apiserver.New(apiserver.Config{
				ListenAddress: "127.0.0.1:0", Insecure: true, Storage: "memory",
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			if err != nil {
				return err
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Run(ctx) }()
			env.Defer(func() {
				cancel()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
				}
			})
			select {
			case <-srv.Ready():
			case err := <-done:
				return err
			case <-time.After(10 * time.Second):
				return context.DeadlineExceeded
			}
			env.Setenv("KL_SERVER", srv.URL())
			env.Setenv("HOME", env.WorkDir+"/home")
			return nil
		},
	})
}

// cmdKLAPI is the script command `klapi METHOD PATH [FILE]`: it sends FILE
// (YAML or JSON; several YAML documents separated by "---" are sent one
// request each) to the script's apiserver and writes the response bodies to
// stdout. PATCH bodies are JSON merge patches. It lets scripts create
// objects, and set their status, before the commands under test run:
//
//	klapi POST /api/v1/namespaces/default/pods pod.yaml
//	klapi PATCH /api/v1/namespaces/default/pods/web/status running.yaml
//
// A response other than 2xx fails the script, or passes with `! klapi`.
func cmdKLAPI(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: klapi METHOD PATH [FILE]")
	}
	method, path := strings.ToUpper(args[0]), args[1]
	docs := [][]byte{nil}
	if len(args) == 3 {
		docs = docs[:0]
		for _, doc := range strings.Split("\n"+ts.ReadFile(args[2]), "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			j, err := yaml.YAMLToJSON([]byte(doc))
			ts.Check(err)
			docs = append(docs, j)
		}
	}
	contentType := "application/json"
	if method == http.MethodPatch {
		contentType = "application/merge-patch+json"
	}
	failed := false
	for _, body := range docs {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, ts.Getenv("KL_SERVER")+path, rd)
		ts.Check(err)
		if body != nil {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		ts.Check(err)
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		ts.Check(err)
		fmt.Fprintf(ts.Stdout(), "%s\n", out)
		if resp.StatusCode/100 != 2 {
			failed = true
			if !neg {
				ts.Fatalf("klapi %s %s: %s: %s", method, path, resp.Status, out)
			}
		}
	}
	if neg && !failed {
		ts.Fatalf("klapi %s %s succeeded unexpectedly", method, path)
	}
}
