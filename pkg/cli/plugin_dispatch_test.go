package cli

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
	"github.com/kl-dev/kl/pkg/client"
)

// echoPlugin prints its name, arguments and connection variables, one per
// line, and exits with code (shell builtins only: PATH is the test's).
func echoPlugin(name string, code int) string {
	return `#!/bin/sh
echo "plugin: ` + name + `"
echo "args: $*"
echo "KL_SERVER=$KL_SERVER"
echo "KL_CONTEXT=$KL_CONTEXT"
echo "KL_NAMESPACE=$KL_NAMESPACE"
echo "KL_CONFIG=$KL_CONFIG"
exit ` + string(rune('0'+code)) + "\n"
}

// pluginPath puts plugins (name -> script) in a new directory that becomes
// PATH, isolates the environment, and returns the home directory.
func pluginPath(t *testing.T, plugins map[string]string) (home, bin string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("plugins are shell scripts")
	}
	isolate(t)
	home = os.Getenv("HOME")
	bin = t.TempDir()
	for name, body := range plugins {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin)
	return home, bin
}

func TestPlugin_RunsWithArgsAndPassesItsExitCodeOn(t *testing.T) {
	pluginPath(t, map[string]string{"kl-hello": echoPlugin("hello", 3)})
	r := kl(t, "--server", "http://a:1,http://b:2", "-n", "web", "hello", "x", "--flag", "-n", "y")
	if r.code != 3 || r.stderr != "" {
		t.Errorf("exit %d stderr %q, want 3 and nothing: the plugin's exit code, no message", r.code, r.stderr)
	}
	for _, want := range []string{"plugin: hello\n", "args: x --flag -n y\n", "KL_SERVER=http://a:1,http://b:2\n", "KL_NAMESPACE=web\n", "KL_CONTEXT=\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestPlugin_GetsTheResolvedContext(t *testing.T) {
	home, _ := pluginPath(t, map[string]string{"kl-hello": echoPlugin("hello", 0)})
	config := filepath.Join(home, ".kl", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(config), 0o700); err != nil {
		t.Fatal(err)
	}
	data := "current-context: dev\nclusters:\n- name: c\n  server: http://c1:1,http://c2:1\ncontexts:\n- name: dev\n  cluster: c\n  namespace: team\n"
	if err := os.WriteFile(config, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	r := kl(t, "hello")
	if r.code != 0 {
		t.Fatalf("got %+v", r)
	}
	for _, want := range []string{"KL_SERVER=http://c1:1,http://c2:1\n", "KL_CONTEXT=dev\n", "KL_NAMESPACE=team\n", "KL_CONFIG=" + config + "\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// The environment overrides the file, as for built-in commands.
	t.Setenv("KL_NAMESPACE", "envns")
	if r := kl(t, "hello"); !strings.Contains(r.stdout, "KL_NAMESPACE=envns\n") {
		t.Errorf("KL_NAMESPACE not passed on:\n%s", r.stdout)
	}
}

func TestPlugin_RunsWithoutAnAPIServer(t *testing.T) {
	pluginPath(t, map[string]string{"kl-hello": echoPlugin("hello", 0)})
	r := kl(t, "hello")
	if r.code != 0 || !strings.Contains(r.stdout, "KL_SERVER=\n") {
		t.Errorf("got %+v, want the plugin to run with no KL_SERVER", r)
	}
}

func TestPlugin_NameMatching(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantPlugin string
		wantArgs   string
	}{
		{name: "longest name wins", args: []string{"foo", "bar", "x"}, wantPlugin: "foo-bar", wantArgs: "x"},
		{name: "shorter name with the rest as args", args: []string{"foo", "baz", "bar"}, wantPlugin: "foo", wantArgs: "baz bar"},
		{name: "dash in a command is an underscore", args: []string{"foo-bar", "x"}, wantPlugin: "foo_bar", wantArgs: "x"},
		{name: "flags end the name", args: []string{"foo", "-o", "bar"}, wantPlugin: "foo", wantArgs: "-o bar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pluginPath(t, map[string]string{
				"kl-foo":     echoPlugin("foo", 0),
				"kl-foo-bar": echoPlugin("foo-bar", 0),
				"kl-foo_bar": echoPlugin("foo_bar", 0),
			})
			r := kl(t, tt.args...)
			if r.code != 0 || !strings.Contains(r.stdout, "plugin: "+tt.wantPlugin+"\nargs: "+tt.wantArgs+"\n") {
				t.Errorf("kl %q = %+v, want plugin %s with args %q", tt.args, r, tt.wantPlugin, tt.wantArgs)
			}
		})
	}
}

func TestPlugin_FoundInTheUserPluginDirectory(t *testing.T) {
	home, _ := pluginPath(t, nil)
	dir := filepath.Join(home, ".kl", "plugins")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kl-mine"), []byte(echoPlugin("mine", 0)), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := kl(t, "mine"); r.code != 0 || !strings.Contains(r.stdout, "plugin: mine\n") {
		t.Errorf("got %+v", r)
	}
}

func TestPlugin_BuiltinCommandsWin(t *testing.T) {
	pluginPath(t, map[string]string{
		"kl-version":    echoPlugin("version", 5),
		"kl-help":       echoPlugin("help", 5),
		"kl-plugin-foo": echoPlugin("plugin-foo", 5),
	})
	for _, args := range [][]string{{"version"}, {"-n", "x", "version"}, {"help"}, {"plugin", "foo"}} {
		r := kl(t, args...)
		if strings.Contains(r.stdout, "plugin: ") || r.code == 5 {
			t.Errorf("kl %q ran a plugin: %+v", args, r)
		}
	}
}

func TestPlugin_NotFoundIsAnUnknownCommand(t *testing.T) {
	pluginPath(t, map[string]string{"kl-noexec": "#!/bin/sh\necho ran\n"})
	if err := os.Chmod(filepath.Join(os.Getenv("PATH"), "kl-noexec"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"nope"}, {"noexec"}, {"--bogus", "nope"}} {
		r := kl(t, args...)
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "error: unknown ") {
			t.Errorf("kl %q = %+v, want an unknown command or flag error", args, r)
		}
	}
}

func TestPlugin_BadGlobalFlagValueIsAUsageError(t *testing.T) {
	pluginPath(t, map[string]string{"kl-hello": echoPlugin("hello", 0)})
	r := kl(t, "-v", "loud", "hello")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, `invalid argument "loud"`) || !strings.Contains(r.stderr, "Run 'kl --help' for usage.") {
		t.Errorf("got %+v", r)
	}
}

func TestSplitGlobalFlags(t *testing.T) {
	isolate(t)
	root := NewRootCmd(cmdutil.NewFactory(&iostreams.IOStreams{}))
	tests := []struct {
		args    []string
		globals int
		ok      bool
	}{
		{args: []string{"tree", "-n", "x"}, globals: 0, ok: true},
		{args: []string{"-n", "x", "--server=http://a:1", "--context", "c", "-v4", "tree"}, globals: 6, ok: true},
		{args: []string{"-nx", "tree"}, globals: 1, ok: true},
		{args: []string{"--bogus", "tree"}, ok: false},
		{args: []string{"-n"}, ok: false},
		{args: []string{"--", "tree"}, ok: false},
	}
	for _, tt := range tests {
		globals, rest, ok := splitGlobalFlags(root.PersistentFlags(), tt.args)
		if ok != tt.ok || (ok && (len(globals) != tt.globals || len(rest) != len(tt.args)-tt.globals)) {
			t.Errorf("splitGlobalFlags(%q) = %q %q %v", tt.args, globals, rest, ok)
		}
	}
}

func TestUnreachableAPIServer_ErrorSaysHowToPointKlElsewhere(t *testing.T) {
	isolate(t)
	unreachable := &client.UnreachableError{Servers: []client.ServerError{{Server: "http://127.0.0.1:6443", Err: errors.New("connection refused")}}}
	entries := func(*cmdutil.Factory) []entry {
		return []entry{{groupBasic, &cobra.Command{Use: "get", RunE: func(*cobra.Command, []string) error {
			return &cmdutil.ExitError{Code: 1, Err: errors.Join(errors.New("list pods"), unreachable)}
		}}}}
	}
	r, _ := klWith(t.Context(), t, entries, "get")
	want := "error: list pods\ncannot reach the kl apiserver at http://127.0.0.1:6443: connection refused" +
		" (is the apiserver running? use --server URL, KL_SERVER or kl config use-context)\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("got %+v, want stderr %q", r, want)
	}
}
