// Package configtest helps the `kl config` subcommands' tests: a client
// config file in a temporary directory.
package configtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kl-dev/kl/pkg/cli/clientconfig"
)

// Sample is the file the tests start from: two clusters, a user, three
// contexts, "dev" current.
const Sample = `apiVersion: kl/v1
kind: Config
current-context: dev
clusters:
- name: local
  server: http://127.0.0.1:6443
- name: prod
  server: https://10.0.0.1:6443,https://10.0.0.2:6443
  certificate-authority: /pki/ca.crt
users:
- name: admin
  client-certificate: /pki/admin.crt
  client-key: /pki/admin.key
contexts:
- name: prod
  cluster: prod
  user: admin
- name: dev
  cluster: local
  namespace: team
- name: ci
  cluster: local
`

// Write writes content (if not empty) to config.yaml in a new temporary
// directory and returns a ConfigPath function for it.
func Write(t *testing.T, content string) func() (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if content != "" {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return func() (string, error) { return path, nil }
}

// Read loads the file configPath names.
func Read(t *testing.T, configPath func() (string, error)) *clientconfig.File {
	t.Helper()
	path, _ := configPath()
	f, err := clientconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
