package validation

import (
	"reflect"
	"strings"
	"testing"
)

// The messages are Kubernetes' (k8s.io/apimachinery/pkg/util/validation).
func TestSyntaxChecks(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name  string
		check func(string) []string
		value string
		want  []string // nil: valid
	}{
		{"label ok", isDNS1123Label, "web-1", nil},
		{"label upper", isDNS1123Label, "Web", []string{"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"}},
		{"label dot", isDNS1123Label, "a.b", []string{"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"}},
		{"label too long", isDNS1123Label, long(64), []string{"must be no more than 63 characters"}},
		{"subdomain ok", isDNS1123Subdomain, "web.example.com", nil},
		{"subdomain trailing dash", isDNS1123Subdomain, "web-", []string{"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}},
		{"subdomain too long", isDNS1123Subdomain, long(254), []string{"must be no more than 253 characters"}},
		{"1035 label digit first", isDNS1035Label, "1web", []string{"a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"}},
		{"qualified ok", isQualifiedName, "app.kubernetes.io/name", nil},
		{"qualified plain", isQualifiedName, "App_Name.x", nil},
		{"qualified empty prefix", isQualifiedName, "/name", []string{"prefix part must be non-empty"}},
		{"qualified bad prefix", isQualifiedName, "Example.com/name", []string{"prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}},
		{"qualified name too long", isQualifiedName, long(64), []string{"name part must be no more than 63 characters"}},
		{"qualified two slashes", isQualifiedName, "a/b/c", []string{"a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"}},
		{"qualified empty name", isQualifiedName, "example.com/", []string{"name part must be non-empty", "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"}},
		{"label value empty ok", isLabelValue, "", nil},
		{"label value space", isLabelValue, "a b", []string{"a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"}},
		{"env name ok", isEnvVarName, "MY_VAR.x-1", nil},
		{"env name digit", isEnvVarName, "1X", []string{"a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"}},
		{"env name dotdot", isEnvVarName, "..x", []string{"must not start with '..'"}},
		{"config key ok", isConfigMapKey, "app.properties", nil},
		{"config key slash", isConfigMapKey, "a/b", []string{"a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"}},
		{"config key dot", isConfigMapKey, ".", []string{"must not be '.'"}},
		{"port name ok", isPortName, "http-alt", nil},
		{"port name too long", isPortName, "abcdefghijklmnop", []string{"must be no more than 15 characters"}},
		{"port name digits only", isPortName, "8080", []string{"must contain at least one letter (a-z)"}},
		{"port name hyphens", isPortName, "-a--b", []string{"must not contain consecutive hyphens", "must not begin or end with a hyphen"}},
		{"port name upper", isPortName, "HTTP", []string{"must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)", "must contain at least one letter (a-z)"}},
		{"ip ok", isIP, "10.0.0.1", nil},
		{"ip bad", isIP, "10.0.0", []string{"must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.check(tt.value); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("check(%q) =\n%q\nwant\n%q", tt.value, got, tt.want)
			}
		})
	}
}

func TestPortNumbers(t *testing.T) {
	for _, p := range []int64{1, 80, 65535} {
		if errs := isPortNum(p); errs != nil {
			t.Errorf("isPortNum(%d) = %q", p, errs)
		}
	}
	for _, p := range []int64{0, -1, 65536} {
		if got := isPortNum(p); !reflect.DeepEqual(got, []string{"must be between 1 and 65535, inclusive"}) {
			t.Errorf("isPortNum(%d) = %q", p, got)
		}
	}
}

func TestGenerateNameMayEndWithDash(t *testing.T) {
	if errs := nameIsDNSSubdomain("web-", true); errs != nil {
		t.Errorf("generateName web-: %q", errs)
	}
	if errs := nameIsDNSSubdomain("web-", false); errs == nil {
		t.Error("name web- must be invalid")
	}
}
