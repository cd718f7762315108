// Package cli_test runs kl's commands as users do, from scripts with golden
// output (testdata/*.txtar, github.com/rogpeppe/go-internal/testscript),
// against an in-process apiserver started for each script.
//
// Run `go test ./test/cli -update` to rewrite the expected output in the
// scripts after an intended change.
package cli_test

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

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
