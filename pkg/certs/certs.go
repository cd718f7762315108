// Package certs is kl's small PKI, on the standard library only: a CA and
// the certificates a cluster needs, ECDSA P-256 keys, PEM files.
//
// Identities follow Kubernetes: a client certificate's CommonName is the
// user name and its Organizations are the groups (admin is in
// system:masters, a node is system:node:NAME in system:nodes).
//
// A PKI directory holds ca.crt and ca.key, and a NAME.crt / NAME.key pair
// for apiserver (serving), admin, controller-manager, scheduler and proxy.
// Keys are written 0600.
package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// DefaultValidity is how long issued certificates last unless told.
const DefaultValidity = 365 * 24 * time.Hour

// CAValidity is how long a CA made by Init lasts.
const CAValidity = 10 * 365 * 24 * time.Hour

// Well-known identities.
const (
	GroupMasters = "system:masters"
	GroupNodes   = "system:nodes"
	// NodeUserPrefix prefixes node identities: system:node:NAME.
	NodeUserPrefix = "system:node:"
	// The component identities, as Kubernetes names them.
	UserAdmin             = "kl-admin"
	UserControllerManager = "system:kube-controller-manager"
	UserScheduler         = "system:kube-scheduler"
	UserProxy             = "system:kube-proxy"
	UserAPIServer         = "kube-apiserver"
)

// Component certificate file names (without .crt/.key) in a PKI directory.
const (
	FileCA                = "ca"
	FileAPIServer         = "apiserver"
	FileAdmin             = "admin"
	FileControllerManager = "controller-manager"
	FileScheduler         = "scheduler"
	FileProxy             = "proxy"
)

// CA is a certificate authority that can sign.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewCA makes a self-signed CA.
func NewCA(name string, validity time.Duration, now time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sign CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return n
}

// Request describes a certificate to issue.
type Request struct {
	// CommonName is the user (client certificates) or server name.
	CommonName string
	// Groups become the subject's Organizations.
	Groups []string
	// Server makes a serving certificate for DNSNames and IPs.
	Server   bool
	Client   bool
	DNSNames []string
	IPs      []net.IP
	Validity time.Duration
}

// Issue signs a new key pair for req.
func (ca *CA) Issue(req Request, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	if req.Validity == 0 {
		req.Validity = DefaultValidity
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: req.CommonName, Organization: req.Groups},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(req.Validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		DNSNames:     req.DNSNames,
		IPAddresses:  req.IPs,
	}
	if req.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if req.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign certificate for %s: %w", req.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// WritePair writes PREFIX.crt and PREFIX.key (0600).
func WritePair(prefix string, cert *x509.Certificate, key crypto.Signer) error {
	if err := os.MkdirAll(filepath.Dir(prefix), 0o700); err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeFile(prefix+".key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return writeFile(prefix+".crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// LoadCA reads DIR/ca.crt and DIR/ca.key.
func LoadCA(dir string) (*CA, error) {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, FileCA+".crt"), filepath.Join(dir, FileCA+".key"))
	if err != nil {
		return nil, fmt.Errorf("load CA from %s: %w", dir, err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, err
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok || !cert.IsCA {
		return nil, fmt.Errorf("%s/ca.crt is not a CA certificate with a signing key", dir)
	}
	return &CA{Cert: cert, Key: signer}, nil
}

// InitOptions configures Init.
type InitOptions struct {
	Dir string
	// SANs are extra names (DNS names or IPs) for the apiserver certificate.
	SANs     []string
	Validity time.Duration
	Now      time.Time
}

// Init creates a CA (unless DIR/ca.crt exists: then it is reused) and every
// component certificate that does not exist yet. It returns the files it
// wrote.
func Init(opts InitOptions) ([]string, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", opts.Dir, err)
	}
	var wrote []string
	ca, err := LoadCA(opts.Dir)
	if errors.Is(err, os.ErrNotExist) {
		ca, err = NewCA("kl-ca", CAValidity, opts.Now)
		if err != nil {
			return nil, err
		}
		if err := WritePair(filepath.Join(opts.Dir, FileCA), ca.Cert, ca.Key); err != nil {
			return nil, err
		}
		wrote = append(wrote, FileCA+".crt", FileCA+".key")
	} else if err != nil {
		return nil, err
	}
	dns := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"}
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	if h, err := os.Hostname(); err == nil && h != "" {
		dns = append(dns, h)
	}
	for _, s := range opts.SANs {
		if ip := net.ParseIP(s); ip != nil {
			ips = append(ips, ip)
		} else if !slices.Contains(dns, s) {
			dns = append(dns, s)
		}
	}
	reqs := []struct {
		file string
		req  Request
	}{
		{FileAPIServer, Request{CommonName: UserAPIServer, Server: true, Client: true, DNSNames: dns, IPs: ips}},
		{FileAdmin, Request{CommonName: UserAdmin, Groups: []string{GroupMasters}, Client: true}},
		{FileControllerManager, Request{CommonName: UserControllerManager, Client: true}},
		{FileScheduler, Request{CommonName: UserScheduler, Client: true}},
		{FileProxy, Request{CommonName: UserProxy, Client: true}},
	}
	for _, r := range reqs {
		prefix := filepath.Join(opts.Dir, r.file)
		if _, err := os.Stat(prefix + ".crt"); err == nil {
			continue
		}
		r.req.Validity = opts.Validity
		cert, key, err := ca.Issue(r.req, opts.Now)
		if err != nil {
			return nil, err
		}
		if err := WritePair(prefix, cert, key); err != nil {
			return nil, err
		}
		wrote = append(wrote, r.file+".crt", r.file+".key")
	}
	return wrote, nil
}

// IssueFiles signs a client certificate for user in groups with the CA of
// dir and writes PREFIX.crt and PREFIX.key.
func IssueFiles(dir, user string, groups []string, prefix string, validity time.Duration, now time.Time) error {
	ca, err := LoadCA(dir)
	if err != nil {
		return err
	}
	cert, key, err := ca.Issue(Request{CommonName: user, Groups: groups, Client: true, Validity: validity}, now)
	if err != nil {
		return err
	}
	return WritePair(prefix, cert, key)
}

// NodeIdentity returns the user and groups of node name's certificate.
func NodeIdentity(name string) (string, []string) {
	return NodeUserPrefix + name, []string{GroupNodes}
}
