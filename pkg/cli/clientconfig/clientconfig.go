// Package clientconfig is the CLI's connection configuration: the file
// ~/.kl/config.yaml (clusters, users, contexts, current-context, in the
// spirit of kubeconfig) and how flags and environment override it:
//
//	--server / KL_SERVER       > the context's cluster servers
//	--context                  > current-context
//	-n / KL_NAMESPACE          > the context's namespace > "default"
//
// (flag > environment is resolved by the command layer before Resolve.)
package clientconfig

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// File is the content of ~/.kl/config.yaml.
type File struct {
	APIVersion     string    `json:"apiVersion,omitempty"`
	Kind           string    `json:"kind,omitempty"`
	CurrentContext string    `json:"current-context,omitempty"`
	Clusters       []Cluster `json:"clusters,omitempty"`
	Users          []User    `json:"users,omitempty"`
	Contexts       []Context `json:"contexts,omitempty"`
}

// Cluster is an apiserver (or several: servers are tried in order).
type Cluster struct {
	Name string `json:"name"`
	// Server is one URL or a comma-separated list.
	Server string `json:"server"`
	// CertificateAuthority is the CA file that signed the server certificate.
	CertificateAuthority string `json:"certificate-authority,omitempty"`
	// InsecureSkipTLSVerify skips server certificate checks (not recommended).
	InsecureSkipTLSVerify bool `json:"insecure-skip-tls-verify,omitempty"`
}

// User is a client identity: a certificate and its key.
type User struct {
	Name              string `json:"name"`
	ClientCertificate string `json:"client-certificate,omitempty"`
	ClientKey         string `json:"client-key,omitempty"`
}

// Context names a cluster, a user and a default namespace.
type Context struct {
	Name      string `json:"name"`
	Cluster   string `json:"cluster"`
	User      string `json:"user,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// Load reads the file at path; a missing file is an empty config.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &File{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read client config: %w", err)
	}
	var f File
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("client config %s: %w", path, err)
	}
	return &f, nil
}

// Save writes the file at path (0600: it names credentials), creating its
// directory.
func (f *File) Save(path string) error {
	if f.APIVersion == "" {
		f.APIVersion, f.Kind = "kl/v1", "Config"
	}
	data, err := yaml.Marshal(f)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write client config: %w", err)
	}
	return os.Rename(tmp, path)
}

// Context returns the named context.
func (f *File) Context(name string) (*Context, bool) {
	for i := range f.Contexts {
		if f.Contexts[i].Name == name {
			return &f.Contexts[i], true
		}
	}
	return nil, false
}

// Cluster returns the named cluster.
func (f *File) Cluster(name string) (*Cluster, bool) {
	for i := range f.Clusters {
		if f.Clusters[i].Name == name {
			return &f.Clusters[i], true
		}
	}
	return nil, false
}

// User returns the named user.
func (f *File) User(name string) (*User, bool) {
	for i := range f.Users {
		if f.Users[i].Name == name {
			return &f.Users[i], true
		}
	}
	return nil, false
}

// SetCluster adds or replaces a cluster.
func (f *File) SetCluster(c Cluster) {
	if cur, ok := f.Cluster(c.Name); ok {
		*cur = c
		return
	}
	f.Clusters = append(f.Clusters, c)
}

// SetUser adds or replaces a user.
func (f *File) SetUser(u User) {
	if cur, ok := f.User(u.Name); ok {
		*cur = u
		return
	}
	f.Users = append(f.Users, u)
}

// SetContext adds or replaces a context.
func (f *File) SetContext(c Context) {
	if cur, ok := f.Context(c.Name); ok {
		*cur = c
		return
	}
	f.Contexts = append(f.Contexts, c)
}

// Overrides are what flags and environment say.
type Overrides struct {
	Server    string
	Context   string
	Namespace string
}

// Connection is the resolved way to reach the apiserver.
type Connection struct {
	// Servers are the apiserver URLs, in failover order.
	Servers []string
	// TLS is nil for plain HTTP.
	TLS *tls.Config
	// Namespace is the namespace commands work in.
	Namespace string
	// NamespaceExplicit is true when -n or KL_NAMESPACE chose it.
	NamespaceExplicit bool
	// Context is the context used ("" when none).
	Context string
	// ConfigPath is the client config file read.
	ConfigPath string
}

// ErrNoServer is returned when nothing names an apiserver.
var ErrNoServer = errors.New("no apiserver configured")

// Resolve combines the file with the overrides.
func Resolve(f *File, path string, o Overrides) (*Connection, error) {
	conn := &Connection{ConfigPath: path, Namespace: "default"}
	ctxName := o.Context
	if ctxName == "" {
		ctxName = f.CurrentContext
	}
	var cluster *Cluster
	var user *User
	if ctxName != "" {
		c, ok := f.Context(ctxName)
		if !ok {
			if o.Context != "" {
				return nil, fmt.Errorf("context %q not found in %s (kl config get-contexts lists them)", ctxName, path)
			}
			return nil, fmt.Errorf("current-context %q of %s does not exist (kl config use-context NAME picks another)", ctxName, path)
		}
		conn.Context = c.Name
		if c.Namespace != "" {
			conn.Namespace = c.Namespace
		}
		if cl, ok := f.Cluster(c.Cluster); ok {
			cluster = cl
		} else if o.Server == "" {
			return nil, fmt.Errorf("context %q names cluster %q, which is not in %s", c.Name, c.Cluster, path)
		}
		if c.User != "" {
			u, ok := f.User(c.User)
			if !ok {
				return nil, fmt.Errorf("context %q names user %q, which is not in %s", c.Name, c.User, path)
			}
			user = u
		}
	}
	server := o.Server
	if server == "" && cluster != nil {
		server = cluster.Server
	}
	if server == "" {
		return nil, fmt.Errorf("%w: pass --server URL, set KL_SERVER, or create a context in %s (kl server writes one on first start)", ErrNoServer, path)
	}
	for _, s := range strings.Split(server, ",") {
		if s = strings.TrimSpace(s); s != "" {
			conn.Servers = append(conn.Servers, strings.TrimRight(s, "/"))
		}
	}
	if o.Namespace != "" {
		conn.Namespace, conn.NamespaceExplicit = o.Namespace, true
	}
	needTLS := false
	for _, s := range conn.Servers {
		if strings.HasPrefix(s, "https://") {
			needTLS = true
		} else if !strings.HasPrefix(s, "http://") {
			return nil, fmt.Errorf("server %q: must start with http:// or https://", s)
		}
	}
	if needTLS {
		tc, err := tlsConfig(cluster, user)
		if err != nil {
			return nil, err
		}
		conn.TLS = tc
	}
	return conn, nil
}

func tlsConfig(cluster *Cluster, user *User) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cluster != nil {
		tc.InsecureSkipVerify = cluster.InsecureSkipTLSVerify
		if cluster.CertificateAuthority != "" {
			pem, err := os.ReadFile(cluster.CertificateAuthority)
			if err != nil {
				return nil, fmt.Errorf("cluster %q: read CA: %w", cluster.Name, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("cluster %q: %s holds no PEM certificate", cluster.Name, cluster.CertificateAuthority)
			}
			tc.RootCAs = pool
		}
	}
	if user != nil && user.ClientCertificate != "" {
		cert, err := tls.LoadX509KeyPair(user.ClientCertificate, user.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("user %q: load client certificate: %w", user.Name, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
