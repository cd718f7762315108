package cmdutil

import (
	"fmt"

	"github.com/spf13/cobra"
)

// ExitError asks for a specific process exit code. Commands return it (for
// example `kl diff` returns Code 1 when it found differences); the root
// command turns it into the exit code.
//
// When Err is nil nothing is printed: the command has already said what it
// had to say. Otherwise Err is printed as "error: ...". Codes below 1 are
// treated as 1.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ExitError) Unwrap() error { return e.Err }

// FlagError is a command-line usage error (bad flag, bad argument); the root
// command prints a pointer to --help after it.
type FlagError struct {
	Err error
}

func (e *FlagError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf returns a FlagError with a formatted message.
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// UsageArgs wraps a cobra argument validator so that its errors are
// FlagErrors (and get the pointer to --help).
func UsageArgs(validate cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := validate(cmd, args); err != nil {
			return &FlagError{Err: err}
		}
		return nil
	}
}
