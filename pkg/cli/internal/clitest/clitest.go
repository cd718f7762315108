// Package clitest holds what the command packages' tests share: an
// environment the developer's or CI's settings cannot reach, parsing a
// command's flags without running it, and config files.
package clitest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

// Isolate gives the test an empty home directory and no KL_* variables,
// so the environment cannot change results. It returns the home directory.
func Isolate(t testing.TB) string {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "KL_") {
			t.Setenv(k, "")
		}
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	return home
}

// Parse runs the command newCmd makes with args, with its run function
// replaced, and returns the options it would have run with (or the error
// of parsing, binding or validating them).
func Parse[O any](t testing.TB, newCmd func(*cmdutil.Factory, func(*O) error) *cobra.Command, args ...string) (*O, error) {
	t.Helper()
	ios, _, out, _ := iostreams.Test()
	var got *O
	cmd := newCmd(cmdutil.NewFactory(ios), func(o *O) error {
		got = o
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(out)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.ExecuteContext(t.Context()); err != nil {
		return nil, err
	}
	if got == nil {
		t.Fatal("run function not called")
	}
	return got, nil
}

// WriteFile writes content to a file named name in a new temporary
// directory and returns its path.
func WriteFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
