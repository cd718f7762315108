package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/kl-dev/kl/pkg/api/meta"
)

// UnreachableError is returned when no apiserver answered a request: every
// server tried failed to connect, or the connection broke before a response.
type UnreachableError struct {
	// Servers lists each server tried and why it failed, in order.
	Servers []ServerError
}

// ServerError is one server's failure.
type ServerError struct {
	Server string
	Err    error
}

// Error reads "cannot reach the kl apiserver at http://127.0.0.1:6443:
// connection refused", naming every server tried.
func (e *UnreachableError) Error() string {
	if len(e.Servers) == 1 {
		s := e.Servers[0]
		return fmt.Sprintf("cannot reach the kl apiserver at %s: %s", s.Server, describeNetError(s.Err))
	}
	parts := make([]string, len(e.Servers))
	for i, s := range e.Servers {
		parts[i] = s.Server + ": " + describeNetError(s.Err)
	}
	return "cannot reach the kl apiserver at any of the servers (" + strings.Join(parts, "; ") + ")"
}

// Unwrap returns the underlying errors (errors.Is/As look through them).
func (e *UnreachableError) Unwrap() []error {
	errs := make([]error, len(e.Servers))
	for i, s := range e.Servers {
		errs[i] = s.Err
	}
	return errs
}

// IsUnreachable reports whether err means no apiserver could be reached.
func IsUnreachable(err error) bool {
	var ue *UnreachableError
	return errors.As(err, &ue)
}

// describeNetError turns a transport error into a short phrase.
func describeNetError(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host"
	case errors.As(err, &dnsErr):
		return dnsErr.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed before a response was received"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// decodeError turns a non-2xx response into a *meta.APIError: the server's
// Status when the body is one, otherwise a Status made from the HTTP code.
func decodeError(code int, body []byte) error {
	var st meta.Status
	if err := json.Unmarshal(body, &st); err == nil && st.Kind == "Status" {
		if st.Code == 0 {
			st.Code = int32(code)
		}
		if st.Status == "" {
			st.Status = meta.StatusFailure
		}
		if st.Reason == "" {
			st.Reason = reasonForCode(code)
		}
		if st.Message == "" {
			st.Message = fmt.Sprintf("the server responded with status %d %s", code, http.StatusText(code))
		}
		return &meta.APIError{Status: st}
	}
	msg := fmt.Sprintf("the server responded with status %d %s", code, http.StatusText(code))
	if text := strings.TrimSpace(string(body)); text != "" {
		if len(text) > 512 {
			text = text[:512] + "..."
		}
		msg += ": " + text
	}
	return meta.NewStatusError(code, reasonForCode(code), msg)
}

// reasonForCode is the Status reason Kubernetes uses for an HTTP code.
func reasonForCode(code int) meta.StatusReason {
	switch code {
	case http.StatusBadRequest:
		return meta.StatusReasonBadRequest
	case http.StatusUnauthorized:
		return meta.StatusReasonUnauthorized
	case http.StatusForbidden:
		return meta.StatusReasonForbidden
	case http.StatusNotFound:
		return meta.StatusReasonNotFound
	case http.StatusMethodNotAllowed:
		return meta.StatusReasonMethodNotAllowed
	case http.StatusNotAcceptable:
		return meta.StatusReasonNotAcceptable
	case http.StatusConflict:
		return meta.StatusReasonConflict
	case http.StatusGone:
		return meta.StatusReasonGone
	case http.StatusRequestEntityTooLarge:
		return meta.StatusReasonRequestEntityTooLarge
	case http.StatusUnsupportedMediaType:
		return meta.StatusReasonUnsupportedMediaType
	case http.StatusUnprocessableEntity:
		return meta.StatusReasonInvalid
	case http.StatusTooManyRequests:
		return meta.StatusReasonTooManyRequests
	case http.StatusServiceUnavailable:
		return meta.StatusReasonServiceUnavailable
	case http.StatusGatewayTimeout:
		return meta.StatusReasonTimeout
	}
	if code >= 500 {
		return meta.StatusReasonInternalError
	}
	return meta.StatusReasonUnknown
}
