package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/kl-dev/kl/pkg/certs"
)

// PKI is a cluster's certificate directory (pkg/certs layout).
type PKI struct {
	Dir string
}

// EnsurePKI creates the CA and component certificates in dir on first
// use (kept on later starts).
func EnsurePKI(dir string, sans []string) (*PKI, error) {
	if _, err := certs.Init(certs.InitOptions{Dir: dir, SANs: sans}); err != nil {
		return nil, fmt.Errorf("create PKI in %s: %w", dir, err)
	}
	return &PKI{Dir: dir}, nil
}

// CAFile returns the CA certificate's path.
func (p *PKI) CAFile() string { return filepath.Join(p.Dir, certs.FileCA+".crt") }

// Pair returns NAME.crt, NAME.key and the CA file.
func (p *PKI) Pair(name string) (crt, key, ca string) {
	return filepath.Join(p.Dir, name+".crt"), filepath.Join(p.Dir, name+".key"), p.CAFile()
}

// ClientTLS returns a TLS client configuration presenting NAME's
// certificate and trusting the CA.
func (p *PKI) ClientTLS(name string) (*tls.Config, error) {
	crt, key, ca := p.Pair(name)
	return ClientTLS(ca, crt, key)
}

// ClientTLS builds a TLS client configuration from files.
func ClientTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load client certificate: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, Certificates: []tls.Certificate{pair}}, nil
}

func nodeFile(name string) string { return "node-" + name }

// EnsureNodeCert issues node NAME's certificate (system:node:NAME in
// system:nodes, usable by its kubelet as client and server) unless present.
func (p *PKI) EnsureNodeCert(name string) error {
	crt, _, _ := p.Pair(nodeFile(name))
	if _, err := os.Stat(crt); err == nil {
		return nil
	}
	ca, err := certs.LoadCA(p.Dir)
	if err != nil {
		return err
	}
	user, groups := certs.NodeIdentity(name)
	dns := []string{"localhost", name}
	if h, err := os.Hostname(); err == nil {
		dns = append(dns, h)
	}
	cert, k, err := ca.Issue(certs.Request{
		CommonName: user, Groups: groups, Client: true, Server: true,
		DNSNames: dns, IPs: []net.IP{net.ParseIP("127.0.0.1")},
	}, time.Now())
	if err != nil {
		return err
	}
	return certs.WritePair(filepath.Join(p.Dir, nodeFile(name)), cert, k)
}
