package meta

import (
	"errors"
	"fmt"
	"net/http"
)

// StatusReason is the machine-readable reason of a failed request, as in
// Kubernetes' metav1.StatusReason.
type StatusReason string

// Reasons kl uses, with Kubernetes' spelling.
const (
	StatusReasonUnknown               StatusReason = ""
	StatusReasonUnauthorized          StatusReason = "Unauthorized"
	StatusReasonForbidden             StatusReason = "Forbidden"
	StatusReasonNotFound              StatusReason = "NotFound"
	StatusReasonAlreadyExists         StatusReason = "AlreadyExists"
	StatusReasonConflict              StatusReason = "Conflict"
	StatusReasonGone                  StatusReason = "Gone"
	StatusReasonInvalid               StatusReason = "Invalid"
	StatusReasonTimeout               StatusReason = "Timeout"
	StatusReasonTooManyRequests       StatusReason = "TooManyRequests"
	StatusReasonBadRequest            StatusReason = "BadRequest"
	StatusReasonMethodNotAllowed      StatusReason = "MethodNotAllowed"
	StatusReasonNotAcceptable         StatusReason = "NotAcceptable"
	StatusReasonRequestEntityTooLarge StatusReason = "RequestEntityTooLarge"
	StatusReasonUnsupportedMediaType  StatusReason = "UnsupportedMediaType"
	StatusReasonInternalError         StatusReason = "InternalError"
	StatusReasonExpired               StatusReason = "Expired"
	StatusReasonServiceUnavailable    StatusReason = "ServiceUnavailable"
)

// Status is returned for calls that do not return an object, and is the body
// of every error response.
type Status struct {
	TypeMeta `json:",inline"`
	// ListMeta is the standard list metadata (the JSON key "metadata").
	ListMeta `json:"metadata"`
	// Status is "Success" or "Failure".
	Status string `json:"status,omitempty"`
	// Message is a human-readable description of the outcome.
	Message string `json:"message,omitempty"`
	// Reason is the machine-readable reason of a failure (NotFound,
	// Conflict, Invalid, ...); empty when none applies.
	Reason StatusReason `json:"reason,omitempty"`
	// Details names the object the failure is about and, for Invalid, the
	// field problems.
	Details *StatusDetails `json:"details,omitempty"`
	// Code is the HTTP status code of the response.
	Code int32 `json:"code,omitempty"`
}

// StatusDetails names the object a Status is about and the causes of a
// validation failure.
type StatusDetails struct {
	// Name is the name of the object the Status is about, when there is
	// one.
	Name string `json:"name,omitempty"`
	// Group is the API group of that object.
	Group string `json:"group,omitempty"`
	// Kind is the kind of that object (for NotFound and AlreadyExists, its
	// resource name, as in Kubernetes).
	Kind string `json:"kind,omitempty"`
	// UID is the uid of that object, when known.
	UID string `json:"uid,omitempty"`
	// Causes lists the individual problems, one per invalid field.
	Causes []StatusCause `json:"causes,omitempty"`
	// RetryAfterSeconds is how long the client should wait before retrying,
	// when the server says so.
	RetryAfterSeconds int32 `json:"retryAfterSeconds,omitempty"`
}

// StatusCause is one problem of a failed request; Field is a JSON path such
// as "spec.replicas".
type StatusCause struct {
	// Type is the machine-readable kind of problem (the JSON key
	// "reason"), for example FieldValueRequired.
	Type string `json:"reason,omitempty"`
	// Message is a human-readable description of the problem.
	Message string `json:"message,omitempty"`
	// Field is the path of the field at fault, for example
	// "spec.containers[0].image".
	Field string `json:"field,omitempty"`
}

// Status values.
const (
	StatusSuccess = "Success"
	StatusFailure = "Failure"
)

// APIError is an error that carries a Status; it crosses process boundaries
// unchanged (the server writes it, the client decodes it).
type APIError struct {
	// Status is the response body describing the error.
	Status Status
}

func (e *APIError) Error() string { return e.Status.Message }

// NewStatusError builds an APIError.
func NewStatusError(code int, reason StatusReason, msg string) *APIError {
	return &APIError{Status: Status{
		TypeMeta: TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   StatusFailure,
		Message:  msg,
		Reason:   reason,
		Code:     int32(code),
	}}
}

func withDetails(e *APIError, group, kind, name string) *APIError {
	e.Status.Details = &StatusDetails{Group: group, Kind: kind, Name: name}
	return e
}

// NewNotFound is the error for a missing object; resource is e.g. "pods" or
// "deployments.apps".
func NewNotFound(group, resource, name string) *APIError {
	return withDetails(NewStatusError(http.StatusNotFound, StatusReasonNotFound,
		fmt.Sprintf("%s %q not found", qualified(group, resource), name)), group, resource, name)
}

// NewAlreadyExists is the error for a create of an existing name.
func NewAlreadyExists(group, resource, name string) *APIError {
	return withDetails(NewStatusError(http.StatusConflict, StatusReasonAlreadyExists,
		fmt.Sprintf("%s %q already exists", qualified(group, resource), name)), group, resource, name)
}

// NewConflict is the error for a write against a stale resourceVersion.
func NewConflict(group, resource, name, why string) *APIError {
	return withDetails(NewStatusError(http.StatusConflict, StatusReasonConflict,
		fmt.Sprintf("Operation cannot be fulfilled on %s %q: %s", qualified(group, resource), name, why)), group, resource, name)
}

// NewInvalid is the 422 error listing every field problem.
func NewInvalid(group, kind, name string, causes []StatusCause) *APIError {
	msg := fmt.Sprintf("%s %q is invalid", kind, name)
	if len(causes) > 0 {
		msg += ": "
		for i, c := range causes {
			if i > 0 {
				msg += ", "
			}
			if c.Field != "" {
				msg += c.Field + ": "
			}
			msg += c.Message
		}
	}
	e := withDetails(NewStatusError(http.StatusUnprocessableEntity, StatusReasonInvalid, msg), group, kind, name)
	e.Status.Details.Causes = causes
	return e
}

// NewBadRequest is a 400.
func NewBadRequest(msg string) *APIError {
	return NewStatusError(http.StatusBadRequest, StatusReasonBadRequest, msg)
}

// NewGone is the 410 returned when a watch asks for history that is gone.
func NewGone(msg string) *APIError {
	return NewStatusError(http.StatusGone, StatusReasonGone, msg)
}

// NewMethodNotAllowed is a 405.
func NewMethodNotAllowed(msg string) *APIError {
	return NewStatusError(http.StatusMethodNotAllowed, StatusReasonMethodNotAllowed, msg)
}

// NewInternalError is a 500.
func NewInternalError(err error) *APIError {
	return NewStatusError(http.StatusInternalServerError, StatusReasonInternalError,
		fmt.Sprintf("Internal error occurred: %v", err))
}

// NewForbidden is a 403.
func NewForbidden(msg string) *APIError {
	return NewStatusError(http.StatusForbidden, StatusReasonForbidden, msg)
}

func qualified(group, resource string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

// ReasonOf returns the Status reason of err, or "" when err is not an APIError.
func ReasonOf(err error) StatusReason {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status.Reason
	}
	return StatusReasonUnknown
}

// CodeOf returns the HTTP code of err (500 when it is not an APIError).
func CodeOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) && ae.Status.Code != 0 {
		return int(ae.Status.Code)
	}
	return http.StatusInternalServerError
}

// IsNotFound reports whether err is a NotFound Status.
func IsNotFound(err error) bool { return ReasonOf(err) == StatusReasonNotFound }

// IsAlreadyExists reports whether err is an AlreadyExists Status.
func IsAlreadyExists(err error) bool { return ReasonOf(err) == StatusReasonAlreadyExists }

// IsConflict reports whether err is a Conflict Status.
func IsConflict(err error) bool { return ReasonOf(err) == StatusReasonConflict }

// IsGone reports whether err is a Gone Status (or an Expired one).
func IsGone(err error) bool {
	r := ReasonOf(err)
	return r == StatusReasonGone || r == StatusReasonExpired
}

// IsInvalid reports whether err is an Invalid Status.
func IsInvalid(err error) bool { return ReasonOf(err) == StatusReasonInvalid }

// IsForbidden reports whether err is a Forbidden Status.
func IsForbidden(err error) bool { return ReasonOf(err) == StatusReasonForbidden }
