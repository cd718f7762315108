package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kl-dev/kl/pkg/cli/cmdutil"
	"github.com/kl-dev/kl/pkg/cli/internal/clitest"
	"github.com/kl-dev/kl/pkg/cli/iostreams"
)

// result is what a user sees of one kl run.
type result struct {
	code           int
	stdout, stderr string
}

// isolate clears KL_* variables and HOME so the environment cannot change
// results.
func isolate(t *testing.T) { clitest.Isolate(t) }

// kl runs kl with args the way Main does, with test streams.
func kl(t *testing.T, args ...string) result {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	code := Run(t.Context(), cmdutil.NewFactory(ios), args)
	return result{code, out.String(), errOut.String()}
}

// klWith runs a root command whose only commands are entries.
func klWith(ctx context.Context, t *testing.T, entries func(f *cmdutil.Factory) []entry, args ...string) (result, *cmdutil.Factory) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := cmdutil.NewFactory(ios)
	code := execute(ctx, f, newRootCmd(f, entries(f)), args)
	return result{code, out.String(), errOut.String()}, f
}

func TestVersion_PrintsOneLine(t *testing.T) {
	isolate(t)
	r := kl(t, "version")
	want := regexp.MustCompile(`^kl version v\S+ \(commit \S+, go\S+, \w+/\w+\)\n$`)
	if r.code != 0 || !want.MatchString(r.stdout) || r.stderr != "" {
		t.Errorf("kl version = %+v, want exit 0 and stdout matching %s", r, want)
	}
}

func TestVersion_StructuredOutput(t *testing.T) {
	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			isolate(t)
			r := kl(t, "version", "-o", format)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("kl version -o %s = %+v, want exit 0", format, r)
			}
			var got map[string]string
			var err error
			if format == "json" {
				err = json.Unmarshal([]byte(r.stdout), &got)
			} else {
				err = yaml.Unmarshal([]byte(r.stdout), &got)
			}
			if err != nil {
				t.Fatalf("output is not %s: %v\n%s", format, err, r.stdout)
			}
			for _, k := range []string{"version", "gitCommit", "goVersion", "platform"} {
				if got[k] == "" {
					t.Errorf("field %q missing or empty in %s", k, r.stdout)
				}
			}
		})
	}
}

func TestVersion_UnknownOutputFormatIsAUsageError(t *testing.T) {
	isolate(t)
	r := kl(t, "version", "-o", "xml")
	want := "error: unknown output format \"xml\" for -o: want json or yaml\nRun 'kl version --help' for usage.\n"
	if r.code != 1 || r.stderr != want || r.stdout != "" {
		t.Errorf("got %+v, want exit 1 and stderr %q", r, want)
	}
}

// titles returns the help group titles found in help text, in order.
func titles(help string) []string {
	var got []string
	for line := range strings.SplitSeq(help, "\n") {
		if strings.HasSuffix(line, "Commands:") || line == "Cluster Components:" {
			got = append(got, line)
		}
	}
	return got
}

func TestHelp_GroupsCommandsLikeKubectl(t *testing.T) {
	isolate(t)
	r := kl(t, "--help")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("kl --help = %+v, want exit 0", r)
	}
	// The groups that have commands show, in kubectl's order.
	got := titles(r.stdout)
	var want []string
	for _, g := range commandGroups() {
		if slices.Contains(got, g.Title) {
			want = append(want, g.Title)
		}
	}
	if !slices.Equal(got, want) || !slices.Contains(got, "Basic Commands:") || !slices.Contains(got, "Cluster Components:") {
		t.Errorf("groups = %q, want %q\n%s", got, want, r.stdout)
	}
	for _, section := range []string{
		"Cluster Components:\n  agent ",
		"  apiserver ",
		"Settings Commands:\n  completion ",
		"Other Commands:\n  help ",
		"  version ",
		"  -n, --namespace ",
		"      --server ",
	} {
		if !strings.Contains(r.stdout, section) {
			t.Errorf("help lacks %q:\n%s", section, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "Additional Commands:") {
		t.Errorf("a command has no group:\n%s", r.stdout)
	}
}

func TestNoArguments_PrintsHelp(t *testing.T) {
	isolate(t)
	bare, help := kl(t), kl(t, "--help")
	if bare.code != 0 || bare.stdout != help.stdout || bare.stderr != "" {
		t.Errorf("kl = %+v, want exit 0 and the --help text", bare)
	}
}

func TestHelp_AllGroupsInKubectlOrder(t *testing.T) {
	isolate(t)
	// One placeholder command per group, registered in reverse order.
	entries := func(*cmdutil.Factory) []entry {
		var es []entry
		for _, g := range []string{groupOther, groupSettings, groupCluster, groupTroubleshooting, groupDeploy, groupBasic} {
			es = append(es, entry{g, &cobra.Command{Use: "cmd-" + g, Short: g, RunE: func(*cobra.Command, []string) error { return nil }}})
		}
		return es
	}
	r, _ := klWith(t.Context(), t, entries, "--help")
	want := []string{
		"Basic Commands:",
		"Deploy Commands:",
		"Troubleshooting and Debugging Commands:",
		"Cluster Components:",
		"Settings Commands:",
		"Other Commands:",
	}
	if got := titles(r.stdout); !slices.Equal(got, want) {
		t.Errorf("groups = %q, want %q\n%s", got, want, r.stdout)
	}
}

func TestUnknownCommand_ExitsOneWithHint(t *testing.T) {
	isolate(t)
	r := kl(t, "nope")
	if r.code != 1 || r.stdout != "" {
		t.Errorf("got %+v, want exit 1 and no stdout", r)
	}
	if !strings.HasPrefix(r.stderr, "error: unknown command \"nope\" for \"kl\"\n") ||
		!strings.HasSuffix(r.stderr, "Run 'kl --help' for usage.\n") {
		t.Errorf("stderr = %q", r.stderr)
	}
}

func TestUnknownFlag_ExitsOneWithHint(t *testing.T) {
	isolate(t)
	r := kl(t, "version", "--bogus")
	want := "error: unknown flag: --bogus\nRun 'kl version --help' for usage.\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("got %+v, want exit 1 and stderr %q", r, want)
	}
}

func TestAPIServer_InsecureOnNonLoopbackIsRefused(t *testing.T) {
	isolate(t)
	r := kl(t, "apiserver", "--insecure", "--listen", "0.0.0.0:1")
	want := "error: --insecure serves plain HTTP without authentication and is only allowed on a loopback address; got 0.0.0.0:1\n"
	if r.code != 1 || r.stderr != want || r.stdout != "" {
		t.Errorf("got %+v, want exit 1 and stderr %q", r, want)
	}
}

func TestCompletion_GeneratesScripts(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash": "__start_kl",
		"zsh":  "#compdef kl",
		"fish": "complete -c kl",
	} {
		t.Run(shell, func(t *testing.T) {
			isolate(t)
			r := kl(t, "completion", shell)
			if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, marker) {
				t.Errorf("kl completion %s: exit %d, stderr %q, stdout lacks %q", shell, r.code, r.stderr, marker)
			}
		})
	}
	t.Run("unknown shell", func(t *testing.T) {
		isolate(t)
		r := kl(t, "completion", "tcsh")
		if r.code != 1 || !strings.Contains(r.stderr, `error: invalid argument "tcsh" for "kl completion"`) {
			t.Errorf("got %+v", r)
		}
	})
}

func TestExitCodes_MappedFromErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name       string
		err        error
		cancelled  bool
		wantCode   int
		wantStderr string
	}{
		{name: "success", err: nil, wantCode: 0},
		{name: "plain error", err: boom, wantCode: 1, wantStderr: "error: boom\n"},
		{name: "wrapped error printed once", err: fmt.Errorf("get pods: %w", boom), wantCode: 1, wantStderr: "error: get pods: boom\n"},
		{name: "exit code without message", err: &cmdutil.ExitError{Code: 1}, wantCode: 1},
		{name: "exit code with message", err: &cmdutil.ExitError{Code: 3, Err: boom}, wantCode: 3, wantStderr: "error: boom\n"},
		{name: "wrapped exit error", err: fmt.Errorf("diff: %w", &cmdutil.ExitError{Code: 2, Err: boom}), wantCode: 2, wantStderr: "error: diff: boom\n"},
		{name: "exit code zero means failure", err: &cmdutil.ExitError{Code: 0, Err: boom}, wantCode: 1, wantStderr: "error: boom\n"},
		{name: "usage error", err: cmdutil.FlagErrorf("need -f"), wantCode: 1, wantStderr: "error: need -f\nRun 'kl fail --help' for usage.\n"},
		{name: "interrupted", err: context.Canceled, cancelled: true, wantCode: 130},
		{name: "canceled without interrupt", err: context.Canceled, wantCode: 1, wantStderr: "error: context canceled\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tt.cancelled {
				cancel()
			}
			entries := func(*cmdutil.Factory) []entry {
				return []entry{{groupOther, &cobra.Command{Use: "fail", RunE: func(*cobra.Command, []string) error { return tt.err }}}}
			}
			r, _ := klWith(ctx, t, entries, "fail")
			if r.code != tt.wantCode || r.stderr != tt.wantStderr || r.stdout != "" {
				t.Errorf("got %+v, want exit %d and stderr %q", r, tt.wantCode, tt.wantStderr)
			}
		})
	}
}

func TestGlobalFlags_FlagBeatsEnvBeatsDefault(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want cmdutil.GlobalFlags
	}{
		{
			name: "defaults",
			want: cmdutil.GlobalFlags{Config: "~/.kl/config.yaml"},
		},
		{
			name: "environment",
			env:  map[string]string{"KL_SERVER": "https://env:6443", "KL_NAMESPACE": "envns", "KL_CONFIG": "/env/config.yaml"},
			want: cmdutil.GlobalFlags{Server: "https://env:6443", Namespace: "envns", Config: "/env/config.yaml"},
		},
		{
			name: "flags over environment",
			env:  map[string]string{"KL_SERVER": "https://env:6443", "KL_NAMESPACE": "envns"},
			args: []string{"--server", "https://flag:6443", "-n", "flagns", "--context", "dev", "-v", "4", "--config", "/flag.yaml"},
			want: cmdutil.GlobalFlags{Server: "https://flag:6443", Namespace: "flagns", Context: "dev", Verbosity: 4, Config: "/flag.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var got cmdutil.GlobalFlags
			entries := func(f *cmdutil.Factory) []entry {
				return []entry{{groupBasic, &cobra.Command{Use: "get", RunE: func(*cobra.Command, []string) error {
					got = f.Global
					return nil
				}}}}
			}
			r, _ := klWith(t.Context(), t, entries, append([]string{"get"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("got %+v", r)
			}
			if got != tt.want {
				t.Errorf("global flags = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestHelp_EveryCommandPrintsHelpToOutStream(t *testing.T) {
	isolate(t)
	for _, e := range commands(cmdutil.NewFactory(&iostreams.IOStreams{})) {
		name := e.cmd.Name()
		r := kl(t, name, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "kl "+name) {
			t.Errorf("kl %s --help: %+v", name, r)
		}
	}
}
