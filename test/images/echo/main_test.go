package main

import (
	"bytes"
	"strings"
	"testing"
)

// The one-shot commands the runtime and e2e tests use print and exit as
// documented.
func TestCommands(t *testing.T) {
	tests := []struct {
		args       []string
		stdin      string
		wantOut    string
		wantErr    string
		wantCode   int
		prefixOnly bool
	}{
		{args: []string{"echo", "hello", "world"}, wantOut: "hello world\n"},
		{args: []string{"echo"}, wantOut: "\n"},
		{args: []string{"stderr", "oops"}, wantErr: "oops\n"},
		{args: []string{"exit", "3"}, wantCode: 3},
		{args: []string{"exit", "0"}},
		{args: []string{"exit"}, wantErr: "usage: exit CODE\n", wantCode: 2},
		{args: []string{"cat"}, stdin: "piped\n", wantOut: "piped\n"},
		{args: []string{"sleep", "0.01"}},
		{args: []string{"sleep", "soon"}, wantErr: "sleep: ", wantCode: 2, prefixOnly: true},
		{args: []string{"id"}, wantOut: "uid=", prefixOnly: true},
		{args: []string{"frobnicate"}, wantErr: "echo: unknown command \"frobnicate\"\n", wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &out, &errOut)
			match := func(got, want string) bool {
				if tt.prefixOnly {
					return strings.HasPrefix(got, want)
				}
				return got == want
			}
			if code != tt.wantCode || !match(out.String(), tt.wantOut) || !match(errOut.String(), tt.wantErr) {
				t.Errorf("run(%q) = %d, stdout %q, stderr %q; want %d, %q, %q",
					tt.args, code, out.String(), errOut.String(), tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
}
