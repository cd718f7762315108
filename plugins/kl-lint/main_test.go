package main

import (
	"bytes"
	"strings"
	"testing"
)

// klLint runs the plugin with args and stdin and returns what a user sees.
func klLint(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestLint_FindsTheUsualMistakesWithPositions(t *testing.T) {
	code, out, errOut := klLint(t, "", "-f", "testdata/bad", "-R")
	want := `testdata/bad/web.yaml:4:1: Deployment shop/web: recommended-labels: missing the recommended label app.kubernetes.io/name (or app)
testdata/bad/web.yaml:8:3: Deployment shop/web: single-replica: replicas is 1: one pod means downtime on every node failure (info)
testdata/bad/web.yaml:19:9: Deployment shop/web: latest-tag: init container "migrate" image "registry.local:5000/shop/migrate" has no tag, which means :latest: name a version so every node runs the same code
testdata/bad/web.yaml:24:9: Deployment shop/web: no-readiness-probe: container "web" has no readinessProbe: it gets traffic as soon as it starts, ready or not
testdata/bad/web.yaml:24:9: Deployment shop/web: no-liveness-probe: container "web" has no livenessProbe: a hung process is never restarted
testdata/bad/web.yaml:25:9: Deployment shop/web: latest-tag: container "web" image "nginx:latest" uses the latest tag: name a version so every node runs the same code
testdata/bad/web.yaml:26:9: Deployment shop/web: no-resource-limits: container "web" has no resource limits: set resources.limits (memory at least) so it cannot starve its neighbours
testdata/bad/web.yaml:27:11: Deployment shop/web: no-resource-requests: container "web" has no memory request: set resources.requests.memory
testdata/bad/web.yaml:45:1: Service legacy: service-no-selector: has no selector: it gets no endpoints unless you manage an Endpoints object "legacy" yourself
`
	if code != exitWarnings || out != want || errOut != "8 warnings and 1 info in 4 objects\n" {
		t.Errorf("exit %d, stderr %q, stdout\n%s\nwant exit 1 and\n%s", code, errOut, out, want)
	}
}

func TestLint_CleanManifestsExitZero(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantOut    string
		wantStderr string
	}{
		{
			name:       "info findings do not fail",
			args:       []string{"-f", "testdata/good"},
			wantOut:    "testdata/good/app.yaml:7:1: Deployment api: single-replica: replicas is not set and defaults to 1: one pod means downtime on every node failure (info)\n",
			wantStderr: "1 info in 3 objects\n",
		},
		{
			name:       "disabled rules",
			args:       []string{"-f", "testdata/good", "--disable", "single-replica"},
			wantStderr: "no findings in 3 objects\n",
		},
		{
			name:       "subdirectories only with -R",
			args:       []string{"-f", "testdata/bad/more"},
			wantStderr: "no findings in 2 objects\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := klLint(t, "", tt.args...)
			if code != exitOK || out != tt.wantOut || errOut != tt.wantStderr {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0, %q, %q", code, out, errOut, tt.wantOut, tt.wantStderr)
			}
		})
	}
}

func TestLint_DisableSeveralRules(t *testing.T) {
	code, out, _ := klLint(t, "", "-f", "testdata/bad/web.yaml",
		"--disable", "latest-tag,no-readiness-probe", "--disable", "no-liveness-probe")
	if code != exitWarnings || strings.Contains(out, "latest-tag") || strings.Contains(out, "probe") || !strings.Contains(out, "no-resource-limits") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

func TestLint_Stdin(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {app: p}\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
	code, out, _ := klLint(t, pod, "-f", "-", "--disable", "no-resource-requests,no-resource-limits,no-readiness-probe,no-liveness-probe")
	want := "-:9:5: Pod p: latest-tag: container \"c\" image \"nginx\" has no tag, which means :latest: name a version so every node runs the same code\n"
	if code != exitWarnings || out != want {
		t.Errorf("exit %d, stdout %q; want 1, %q", code, out, want)
	}
}

func TestLint_Errors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{name: "no -f", args: nil, wantStderr: "error: no manifests given: use -f PATH\nRun 'kl lint --help' for usage.\n"},
		{name: "argument", args: []string{"web.yaml"}, wantStderr: "error: unexpected argument \"web.yaml\": name manifests with -f\n"},
		{name: "unknown rule", args: []string{"-f", "testdata/good", "--disable", "nope"}, wantStderr: "error: --disable: unknown rule \"nope\" (kl lint --list-rules lists them)\n"},
		{name: "bad flag", args: []string{"--bogus"}, wantStderr: "error: unknown flag: --bogus\n"},
		{name: "missing file", args: []string{"-f", "testdata/missing.yaml"}, wantStderr: "error: testdata/missing.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := klLint(t, "", tt.args...)
			if code != exitError || out != "" || !strings.Contains(errOut, tt.wantStderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and stderr containing %q", code, out, errOut, tt.wantStderr)
			}
		})
	}
}

func TestLint_ReadErrorsStillReportTheReadableObjects(t *testing.T) {
	code, out, errOut := klLint(t, "", "-f", "testdata/good", "-f", "testdata/missing.yaml")
	if code != exitError || !strings.Contains(out, "single-replica") || !strings.Contains(errOut, "error: testdata/missing.yaml") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestListRules(t *testing.T) {
	code, out, _ := klLint(t, "", "--list-rules")
	if code != exitOK || !strings.HasPrefix(out, "RULE                  SEVERITY  CHECKS\n") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, r := range rules {
		if !strings.Contains(out, "\n"+r.id+" ") {
			t.Errorf("--list-rules lacks %s", r.id)
		}
	}
}

func TestImageTag(t *testing.T) {
	for image, want := range map[string]string{
		"nginx":                          "",
		"nginx:1.27":                     "1.27",
		"nginx:latest":                   "latest",
		"registry:5000/app":              "",
		"registry:5000/team/app:v2":      "v2",
		"nginx@sha256:0123":              "@",
		"registry:5000/app:1@sha256:012": "@",
	} {
		if got := imageTag(image); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", image, got, want)
		}
	}
}
