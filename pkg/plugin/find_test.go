package plugin

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"
)

// writeFile writes an executable (or not) file into dir.
func writeFile(t *testing.T, dir, name string, executable bool) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mode := os.FileMode(0o644)
	if executable {
		mode = 0o755
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func skipOnWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("plugins are shell scripts here")
	}
}

func TestDirs_HomeFirstThenAbsolutePathEntries(t *testing.T) {
	sep := string(os.PathListSeparator)
	got := Dirs("/usr/bin"+sep+sep+"relative/bin"+sep+"/opt/bin/"+sep+"/usr/bin", "/home/u")
	want := []string{filepath.Join("/home/u", ".kl", "plugins"), "/usr/bin", "/opt/bin"}
	if !slices.Equal(got, want) {
		t.Errorf("Dirs = %q, want %q", got, want)
	}
	if got := Dirs("/bin", ""); !slices.Equal(got, []string{"/bin"}) {
		t.Errorf("Dirs without home = %q", got)
	}
}

func TestFind_LongestMatchWinsLikeKubectl(t *testing.T) {
	skipOnWindows(t)
	dir1, dir2 := t.TempDir(), t.TempDir()
	foo := writeFile(t, dir1, "kl-foo", true)
	fooBar := writeFile(t, dir2, "kl-foo-bar", true)
	dashed := writeFile(t, dir1, "kl-foo_bar", true)
	writeFile(t, dir1, "kl-noexec", false)
	first := writeFile(t, dir1, "kl-twice", true)
	writeFile(t, dir2, "kl-twice", true)
	writeFile(t, dir2, "kl-noexec", true)
	f := Finder{Dirs: []string{dir1, dir2}}

	tests := []struct {
		args     []string
		wantPath string
		wantCmd  []string
		wantRest []string
	}{
		{args: []string{"foo"}, wantPath: foo, wantCmd: []string{"foo"}, wantRest: []string{}},
		{args: []string{"foo", "bar", "x"}, wantPath: fooBar, wantCmd: []string{"foo", "bar"}, wantRest: []string{"x"}},
		{args: []string{"foo", "baz", "bar"}, wantPath: foo, wantCmd: []string{"foo"}, wantRest: []string{"baz", "bar"}},
		{args: []string{"foo", "-x", "bar"}, wantPath: foo, wantCmd: []string{"foo"}, wantRest: []string{"-x", "bar"}},
		{args: []string{"foo-bar", "x"}, wantPath: dashed, wantCmd: []string{"foo-bar"}, wantRest: []string{"x"}},
		{args: []string{"foo", "deployment/web"}, wantPath: foo, wantCmd: []string{"foo"}, wantRest: []string{"deployment/web"}},
		{args: []string{"noexec"}, wantPath: filepath.Join(dir2, "kl-noexec"), wantCmd: []string{"noexec"}, wantRest: []string{}},
		{args: []string{"twice"}, wantPath: first, wantCmd: []string{"twice"}, wantRest: []string{}},
		{args: []string{"nope", "foo"}},
		{args: []string{"-n", "foo"}},
		{args: []string{"../" + filepath.Base(dir1) + "/kl-foo"}},
		{args: nil},
	}
	for _, tt := range tests {
		p, rest, ok := f.Find(tt.args)
		if tt.wantPath == "" {
			if ok {
				t.Errorf("Find(%q) = %+v, want no plugin", tt.args, p)
			}
			continue
		}
		if !ok || p.Path != tt.wantPath || !slices.Equal(p.Command, tt.wantCmd) || !slices.Equal(rest, tt.wantRest) {
			t.Errorf("Find(%q) = %+v %q %v; want %s %q %q", tt.args, p, rest, ok, tt.wantPath, tt.wantCmd, tt.wantRest)
		}
	}
}

func TestList_WarnsAboutShadowedAndNonExecutablePlugins(t *testing.T) {
	skipOnWindows(t)
	dir1, dir2 := t.TempDir(), t.TempDir()
	writeFile(t, dir1, "kl-b", true)
	writeFile(t, dir1, "kl-a", false)
	writeFile(t, dir1, "not-a-plugin", true)
	if err := os.Mkdir(filepath.Join(dir1, "kl-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir2, "kl-b", true)
	writeFile(t, dir2, "kl-get-x", true)
	f := Finder{Dirs: []string{dir1, filepath.Join(dir1, "missing"), dir2}}

	got := f.List(func(name string) bool { return name == "get" })
	want := []Entry{
		{Path: filepath.Join(dir1, "kl-a"), Name: "kl-a", Command: []string{"a"}},
		{Path: filepath.Join(dir1, "kl-b"), Name: "kl-b", Command: []string{"b"}, Executable: true},
		{Path: filepath.Join(dir2, "kl-b"), Name: "kl-b", Command: []string{"b"}, Executable: true, ShadowedBy: filepath.Join(dir1, "kl-b")},
		{Path: filepath.Join(dir2, "kl-get-x"), Name: "kl-get-x", Command: []string{"get", "x"}, Executable: true, Builtin: "get"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("List =\n%+v\nwant\n%+v", got, want)
	}
	wantWarnings := [][]string{
		{"warning: " + want[0].Path + " identified as a kl plugin, but it is not executable"},
		nil,
		{"warning: " + want[2].Path + " is overshadowed by a similarly named plugin: " + want[1].Path},
		{"warning: " + want[3].Path + " is overshadowed by the built-in command \"kl get\" and will never run"},
	}
	for i, e := range got {
		if w := e.Warnings(); !slices.Equal(w, wantWarnings[i]) {
			t.Errorf("%s: warnings %q, want %q", e.Path, w, wantWarnings[i])
		}
	}
}

func TestCommandOf(t *testing.T) {
	for name, want := range map[string][]string{
		"kl-tree":        {"tree"},
		"kl-foo-bar":     {"foo", "bar"},
		"kl-foo_bar-baz": {"foo-bar", "baz"},
		"kl-":            nil,
	} {
		if got := CommandOf(name); !slices.Equal(got, want) {
			t.Errorf("CommandOf(%q) = %q, want %q", name, got, want)
		}
	}
}
