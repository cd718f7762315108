package clientconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sample is a file with two contexts on two clusters.
func sample() *File {
	return &File{
		CurrentContext: "dev",
		Clusters: []Cluster{
			{Name: "local", Server: "http://127.0.0.1:6443"},
			{Name: "prod", Server: "https://10.0.0.1:6443,https://10.0.0.2:6443/", InsecureSkipTLSVerify: true},
		},
		Users: []User{{Name: "admin"}},
		Contexts: []Context{
			{Name: "dev", Cluster: "local", Namespace: "team"},
			{Name: "prod", Cluster: "prod", User: "admin"},
		},
	}
}

func TestSaveThenLoad_RoundTripsAndIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.yaml")
	f := sample()
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode = %v, want 0600 (the file names credentials)", perm)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	want.APIVersion, want.Kind = "kl/v1", "Config"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("loaded %+v, want %+v", got, want)
	}
}

func TestLoad_MissingFileIsEmptyAndUnknownKeysFail(t *testing.T) {
	dir := t.TempDir()
	f, err := Load(filepath.Join(dir, "missing.yaml"))
	if err != nil || !reflect.DeepEqual(f, &File{}) {
		t.Errorf("Load(missing) = %+v, %v; want an empty file", f, err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("current-context: a\ncurent-context: b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("Load(typo) error = %v, want one naming %s", err, bad)
	}
}

func TestResolve_FlagsAndEnvironmentOverrideTheFile(t *testing.T) {
	tests := []struct {
		name    string
		o       Overrides
		servers []string
		ns      string
		nsSet   bool
		context string
	}{
		{name: "current context", servers: []string{"http://127.0.0.1:6443"}, ns: "team", context: "dev"},
		{name: "--context", o: Overrides{Context: "prod"}, servers: []string{"https://10.0.0.1:6443", "https://10.0.0.2:6443"}, ns: "default", context: "prod"},
		{name: "--server over the context", o: Overrides{Server: "http://other:1"}, servers: []string{"http://other:1"}, ns: "team", context: "dev"},
		{name: "-n over the context", o: Overrides{Namespace: "mine"}, servers: []string{"http://127.0.0.1:6443"}, ns: "mine", nsSet: true, context: "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := Resolve(sample(), "/c.yaml", tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(conn.Servers, tt.servers) || conn.Namespace != tt.ns || conn.NamespaceExplicit != tt.nsSet || conn.Context != tt.context {
				t.Errorf("got servers %q ns %q (explicit %v) context %q; want %q %q (%v) %q",
					conn.Servers, conn.Namespace, conn.NamespaceExplicit, conn.Context, tt.servers, tt.ns, tt.nsSet, tt.context)
			}
		})
	}
}

func TestResolve_ErrorsSayWhatToDo(t *testing.T) {
	tests := []struct {
		name string
		f    *File
		o    Overrides
		want string
	}{
		{name: "nothing configured", f: &File{}, want: "pass --server URL, set KL_SERVER"},
		{name: "unknown --context", f: sample(), o: Overrides{Context: "nope"}, want: `context "nope" not found in /c.yaml`},
		{name: "dangling current-context", f: &File{CurrentContext: "gone"}, want: "kl config use-context NAME"},
		{name: "bad scheme", f: &File{}, o: Overrides{Server: "127.0.0.1:6443"}, want: "must start with http:// or https://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(tt.f, "/c.yaml", tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDeleteContext_ClearsCurrentContext(t *testing.T) {
	f := sample()
	if !f.DeleteContext("dev") {
		t.Fatal("DeleteContext(dev) = false")
	}
	if f.CurrentContext != "" || !reflect.DeepEqual(f.ContextNames(), []string{"prod"}) {
		t.Errorf("after delete: current %q, contexts %q", f.CurrentContext, f.ContextNames())
	}
	if f.DeleteContext("dev") {
		t.Error("deleting a missing context reported true")
	}
	if !f.DeleteContext("prod") || f.CurrentContext != "" {
		t.Error("deleting another context changed current-context")
	}
}

func TestLookupContext_ListsKnownContexts(t *testing.T) {
	if _, err := sample().LookupContext("stage", "/c.yaml"); err == nil ||
		err.Error() != `no context named "stage" in /c.yaml; known contexts: dev, prod` {
		t.Errorf("error = %v", err)
	}
	if _, err := (&File{}).LookupContext("stage", "/c.yaml"); err == nil || !strings.Contains(err.Error(), "has no contexts") {
		t.Errorf("error = %v", err)
	}
}

func TestMinify_KeepsOnlyTheContextItsClusterAndUser(t *testing.T) {
	got, err := sample().Minify("prod", "/c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := sample()
	want := &File{CurrentContext: "prod", Clusters: s.Clusters[1:], Users: s.Users, Contexts: s.Contexts[1:]}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	got, err = sample().Minify("", "/c.yaml")
	if err != nil || got.CurrentContext != "dev" || len(got.Users) != 0 || len(got.Clusters) != 1 {
		t.Errorf("Minify(current) = %+v, %v", got, err)
	}
	if _, err := (&File{}).Minify("", "/c.yaml"); err == nil || !strings.Contains(err.Error(), "no current-context") {
		t.Errorf("Minify without current context: error = %v", err)
	}
}

func TestSplitServers(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "http://a:1", want: []string{"http://a:1"}},
		{in: " https://a:1/ , https://b:1", want: []string{"https://a:1", "https://b:1"}},
		{in: "a:1", wantErr: "must start with http:// or https://"},
		{in: "http://", wantErr: "want http://HOST:PORT"},
		{in: " , ", wantErr: "no server URL"},
	}
	for _, tt := range tests {
		got, err := SplitServers(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SplitServers(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitServers(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
