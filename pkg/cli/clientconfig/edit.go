package clientconfig

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ContextNames returns the names of the contexts, sorted.
func (f *File) ContextNames() []string {
	names := make([]string, len(f.Contexts))
	for i, c := range f.Contexts {
		names[i] = c.Name
	}
	slices.Sort(names)
	return names
}

// DeleteContext removes the named context and reports whether it existed.
// When it was the current context, current-context is cleared.
func (f *File) DeleteContext(name string) bool {
	i := slices.IndexFunc(f.Contexts, func(c Context) bool { return c.Name == name })
	if i < 0 {
		return false
	}
	f.Contexts = slices.Delete(f.Contexts, i, i+1)
	if f.CurrentContext == name {
		f.CurrentContext = ""
	}
	return true
}

// LookupContext returns the named context or an error, read by users, that
// names the file and lists the contexts it has.
func (f *File) LookupContext(name, path string) (*Context, error) {
	if c, ok := f.Context(name); ok {
		return c, nil
	}
	if len(f.Contexts) == 0 {
		return nil, fmt.Errorf("no context named %q: %s has no contexts (kl config set-context NAME --cluster CLUSTER creates one)", name, path)
	}
	return nil, fmt.Errorf("no context named %q in %s; known contexts: %s", name, path, strings.Join(f.ContextNames(), ", "))
}

// Minify returns a copy of f holding only the named context (the current
// one when name is empty), its cluster and its user, and naming it as the
// current context.
func (f *File) Minify(name, path string) (*File, error) {
	if name == "" {
		name = f.CurrentContext
	}
	if name == "" {
		return nil, fmt.Errorf("%s has no current-context to minify to (kl config use-context NAME sets one, --context NAME picks one)", path)
	}
	c, err := f.LookupContext(name, path)
	if err != nil {
		return nil, err
	}
	out := &File{APIVersion: f.APIVersion, Kind: f.Kind, CurrentContext: c.Name, Contexts: []Context{*c}}
	if cl, ok := f.Cluster(c.Cluster); ok {
		out.Clusters = []Cluster{*cl}
	}
	if u, ok := f.User(c.User); ok && c.User != "" {
		out.Users = []User{*u}
	}
	return out, nil
}

// SplitServers splits a comma-separated list of apiserver URLs, as the
// server field of a cluster and --server hold it, and checks that each is
// http:// or https:// with a host. Trailing slashes are dropped.
func SplitServers(servers string) ([]string, error) {
	var out []string
	for s := range strings.SplitSeq(servers, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
			return nil, fmt.Errorf("server %q: must start with http:// or https://", s)
		}
		if u, err := url.Parse(s); err != nil || u.Host == "" {
			return nil, fmt.Errorf("server %q: want http://HOST:PORT or https://HOST:PORT", s)
		}
		out = append(out, strings.TrimRight(s, "/"))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no server URL in %q", servers)
	}
	return out, nil
}
