// Package iostreams holds the standard streams a command reads and writes, so
// that commands never touch os.Stdin/os.Stdout/os.Stderr directly and tests can
// capture their output.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// IOStreams are the streams of one command invocation.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// StdinIsTTY, StdoutIsTTY and StderrIsTTY tell whether the matching stream
	// is an interactive terminal; commands use them to decide on colour,
	// progress bars and prompts.
	StdinIsTTY  bool
	StdoutIsTTY bool
	StderrIsTTY bool
}

// System returns the process's standard streams.
func System() *IOStreams {
	return &IOStreams{
		In:          os.Stdin,
		Out:         os.Stdout,
		ErrOut:      os.Stderr,
		StdinIsTTY:  isTerminal(os.Stdin),
		StdoutIsTTY: isTerminal(os.Stdout),
		StderrIsTTY: isTerminal(os.Stderr),
	}
}

// Test returns streams backed by buffers (stdin, stdout, stderr), none of
// them a terminal. Set the *IsTTY fields to exercise terminal code paths.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
