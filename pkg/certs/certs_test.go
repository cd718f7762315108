package certs

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestInitCreatesTheClusterPKI(t *testing.T) {
	dir := t.TempDir()
	wrote, err := Init(InitOptions{Dir: dir, SANs: []string{"kl.example", "10.1.2.3"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{FileCA, FileAPIServer, FileAdmin, FileControllerManager, FileScheduler, FileProxy} {
		if !slices.Contains(wrote, f+".crt") || !slices.Contains(wrote, f+".key") {
			t.Fatalf("Init did not write %s pair: %v", f, wrote)
		}
		st, err := os.Stat(filepath.Join(dir, f+".key"))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s.key mode %v, err %v; want 0600", f, st.Mode().Perm(), err)
		}
	}
	ca, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	load := func(name string) *x509.Certificate {
		pair, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(pair.Certificate[0])
		return c
	}
	srv := load(FileAPIServer)
	for _, host := range []string{"127.0.0.1", "localhost", "kl.example", "10.1.2.3"} {
		if _, err := srv.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
			t.Errorf("apiserver certificate not valid for %s: %v", host, err)
		}
	}
	admin := load(FileAdmin)
	if admin.Subject.CommonName != UserAdmin || !slices.Contains(admin.Subject.Organization, GroupMasters) {
		t.Errorf("admin subject = %v", admin.Subject)
	}
	if _, err := admin.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin is not a client certificate of the CA: %v", err)
	}
	// A second run keeps everything.
	again, err := Init(InitOptions{Dir: dir})
	if err != nil || len(again) != 0 {
		t.Fatalf("second Init wrote %v, %v", again, err)
	}
}

func TestIssueNodeCertificate(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(InitOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	user, groups := NodeIdentity("n9")
	prefix := filepath.Join(t.TempDir(), "n9")
	if err := IssueFiles(dir, user, groups, prefix, time.Hour, time.Now()); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(prefix+".crt", prefix+".key")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(pair.Certificate[0])
	if c.Subject.CommonName != "system:node:n9" || !slices.Equal(c.Subject.Organization, []string{"system:nodes"}) {
		t.Fatalf("node subject = %v", c.Subject)
	}
	if d := time.Until(c.NotAfter); d > time.Hour || d < 50*time.Minute {
		t.Fatalf("expiry %v, want about an hour", d)
	}
	if err := IssueFiles(t.TempDir(), "x", nil, prefix, time.Hour, time.Now()); err == nil {
		t.Fatalf("issuing without a CA succeeded")
	}
}
