package resource

import (
	"errors"
	"fmt"
	"io"

	"github.com/kl-dev/kl/pkg/api/meta"
	"github.com/kl-dev/kl/pkg/cli/cmdutil"
)

// FormatError returns err as kubectl prints it: "Error from server
// (NotFound): pods \"web\" not found" for an error the apiserver returned,
// "error: ..." otherwise.
func FormatError(err error) string {
	var apiErr *meta.APIError
	if errors.As(err, &apiErr) {
		reason := apiErr.Status.Reason
		if reason == "" {
			reason = meta.StatusReason(fmt.Sprintf("%d", apiErr.Status.Code))
		}
		return fmt.Sprintf("Error from server (%s): %s", reason, apiErr.Status.Message)
	}
	return "error: " + err.Error()
}

// ServerError prints an apiserver error the kubectl way (see FormatError) to
// errOut and returns an error that exits 1 without printing again; other
// errors (unreachable server, bad input) are returned unchanged for the
// root command to print.
func ServerError(errOut io.Writer, err error) error {
	var apiErr *meta.APIError
	if err == nil || !errors.As(err, &apiErr) {
		return err
	}
	fmt.Fprintln(errOut, FormatError(err))
	return &cmdutil.ExitError{Code: 1}
}
