package list

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

func write(t *testing.T, dir, name string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunList(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("executable bits")
	}
	a, b := t.TempDir(), t.TempDir()
	tree := write(t, a, "kl-tree", 0o755)
	lint := write(t, a, "kl-lint", 0o644)
	tree2 := write(t, b, "kl-tree", 0o755)
	version := write(t, b, "kl-version", 0o755)
	isBuiltin := func(name string) bool { return name == "version" }

	tests := []struct {
		name       string
		opts       Options
		wantOut    string
		wantStderr string
		wantErr    string
	}{
		{
			name:    "none",
			opts:    Options{Dirs: []string{t.TempDir()}},
			wantErr: "unable to find any kl plugins in your PATH",
		},
		{
			name:       "clean",
			opts:       Options{Dirs: []string{a}, IsBuiltin: isBuiltin, NameOnly: true},
			wantOut:    "The following compatible plugins are available:\n\nkl-lint\nkl-tree\n",
			wantStderr: "  - warning: " + lint + " identified as a kl plugin, but it is not executable\n",
			wantErr:    "one plugin warning was found",
		},
		{
			name:    "warnings",
			opts:    Options{Dirs: []string{a, b}, IsBuiltin: isBuiltin},
			wantOut: "The following compatible plugins are available:\n\n" + lint + "\n" + tree + "\n" + tree2 + "\n" + version + "\n",
			wantStderr: "  - warning: " + lint + " identified as a kl plugin, but it is not executable\n" +
				"  - warning: " + tree2 + " is overshadowed by a similarly named plugin: " + tree + "\n" +
				"  - warning: " + version + " is overshadowed by the built-in command \"kl version\" and will never run\n",
			wantErr: "3 plugin warnings were found",
		},
		{
			name:    "all good",
			opts:    Options{Dirs: []string{b}},
			wantOut: "The following compatible plugins are available:\n\n" + tree2 + "\n" + version + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			tt.opts.IO = ios
			err := runList(&tt.opts)
			if (tt.wantErr == "" && err != nil) || (tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr)) {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
			if out.String() != tt.wantOut || errOut.String() != tt.wantStderr {
				t.Errorf("stdout\n%s\nstderr\n%s\nwant\n%s\n%s", out, errOut, tt.wantOut, tt.wantStderr)
			}
		})
	}
}
