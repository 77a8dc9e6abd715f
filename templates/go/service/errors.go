package service

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
)

// Code classifies a service error. The values are the canonical codes of
// google.rpc.Code, which gRPC uses as they are and HTTP maps to a status, so
// both transports report a failure the same way.
type Code int

// The canonical codes, in google.rpc.Code order.
const (
{%- for c in codes %}
	Code{{ c.ident }}{% if loop.first %} Code = iota{% endif %}
{%- endfor %}
)

var codeNames = [...]string{
{%- for c in codes %}
	"{{ c.name }}",
{%- endfor %}
}

// String returns the canonical name of the code, such as "NOT_FOUND".
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("CODE(%d)", int(c))
}

// ParseCode returns the code with the given canonical name, or CodeUnknown.
func ParseCode(name string) Code {
	for i, n := range codeNames {
		if n == name {
			return Code(i)
		}
	}
	return CodeUnknown
}

// Error is a failure with a Code. Return one (see Errorf) to choose what
// callers see: the gRPC code and the HTTP status both derive from Code, and
// Message and Details reach the caller as they are. Any other error a
// service returns is answered as CodeInternal "internal error": its text is
// logged, never sent.
type Error struct {
	Code    Code
	Message string
	// Details are google.rpc.Status details, such as errdetails.ErrorInfo
	// or errdetails.BadRequest from google.golang.org/genproto/googleapis/rpc/errdetails.
	// Both transports carry them.
	Details []proto.Message

	cause error
}

func (e *Error) Error() string {
	if e == nil {
		return "<nil *service.Error>"
	}
	return e.Code.String() + ": " + e.Message
}

// Unwrap returns the errors Errorf's %w verbs wrapped, so errors.Is and
// errors.As see through an *Error to its cause.
func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.cause
}

// WithDetails returns e carrying details too, for chaining after Errorf.
func (e *Error) WithDetails(details ...proto.Message) *Error {
	e.Details = append(e.Details, details...)
	return e
}

// WithCause returns e with err as its cause, for errors.Is and errors.As and
// the server's log, without putting err's text in the message callers see.
func (e *Error) WithCause(err error) *Error {
	e.cause = err
	return e
}

// Errorf returns an *Error with the given code and a message formatted as
// fmt.Errorf does: a %w operand becomes the error's cause. The message is
// sent to callers, so wrap only causes whose text they may see; to keep a
// cause from them, say less and attach it with WithCause.
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	e := &Error{Code: code, Message: err.Error()}
	switch err.(type) {
	case interface{ Unwrap() error }, interface{ Unwrap() []error }:
		e.cause = err
	}
	return e
}

// RemoteError is the failure of a call made through one of the generated
// clients: the remote service's answer (its code, message and details), a
// transport failure, or a request the client refused to send. Read it with
// CodeOf and MessageOf, or errors.As.
//
// A service that calls another and returns its RemoteError does not pass
// the remote's words on: its callers are told CodeInternal "internal error"
// (see Public), as gRPC advises against propagating a downstream status,
// and the error is logged in full. To answer with the remote's code and
// message, say so: return remoteErr.PassThrough(), or an Errorf of your own.
type RemoteError struct {
	Code    Code
	Message string
	Details []proto.Message
	// Err is the failure underneath, such as the gRPC status or the HTTP
	// client's error, if any.
	Err error
}

func (e *RemoteError) Error() string {
	if e == nil {
		return "<nil *service.RemoteError>"
	}
	return "remote " + e.Code.String() + ": " + e.Message
}

// Unwrap returns the failure underneath.
func (e *RemoteError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// PassThrough returns e as this service's own error, with the remote's
// code, message and details, for a service that chooses to tell its callers
// what the service it called said.
func (e *RemoteError) PassThrough() *Error {
	return &Error{Code: e.Code, Message: e.Message, Details: e.Details, cause: e}
}

// coded is implemented by *Error and *RemoteError: the errors with a code.
type coded interface {
	error
	codeAndMessage() (Code, string)
}

func (e *Error) codeAndMessage() (Code, string) {
	if e == nil {
		return CodeInternal, "internal error"
	}
	return errorCode(e.Code), e.Message
}

func (e *RemoteError) codeAndMessage() (Code, string) {
	if e == nil {
		return CodeInternal, "internal error"
	}
	return errorCode(e.Code), e.Message
}

// errorCode is the code an error with code is answered with: an error is
// never CodeOK (gRPC would send it as a success with an empty response, and
// HTTP as 200), and a number outside the canonical codes means nothing to a
// caller, so both are CodeUnknown, gRPC's code for an error of an unknown
// kind.
func errorCode(code Code) Code {
	if code <= CodeOK || int(code) >= len(codeNames) {
		return CodeUnknown
	}
	return code
}

// Public returns what callers are told about err: the *Error in its chain,
// CodeCanceled or CodeDeadlineExceeded for context errors, and for anything
// else CodeInternal "internal error", which keeps an internal error's text
// (a database address, a file path, another service's answer) from
// reaching a client. A *RemoteError met in the chain before any *Error is
// such an internal error, and so is a nil *Error (a typed nil returned as
// an error). An *Error whose Code is CodeOK or no canonical code is
// answered as CodeUnknown with its message: an error is never a success.
// nil stays nil.
func Public(err error) *Error {
	var c coded
	switch {
	case err == nil:
		return nil
	case errors.As(err, &c):
		e, ok := c.(*Error)
		switch {
		case !ok || e == nil:
			return &Error{Code: CodeInternal, Message: "internal error"}
		case errorCode(e.Code) != e.Code:
			return &Error{Code: CodeUnknown, Message: e.Message, Details: e.Details, cause: e}
		}
		return e
	case errors.Is(err, context.Canceled):
		return &Error{Code: CodeCanceled, Message: "the request was canceled"}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: CodeDeadlineExceeded, Message: "the request's deadline expired"}
	default:
		return &Error{Code: CodeInternal, Message: "internal error"}
	}
}

// CodeOf reports the code err carries: CodeOK for nil, the code of the
// first *Error or *RemoteError in its chain (for a client, the remote
// service's code; CodeUnknown if that is CodeOK or no canonical code), else
// the code of Public(err). What a server answers is Public(err).Code, which
// differs for a *RemoteError.
func CodeOf(err error) Code {
	var c coded
	switch {
	case err == nil:
		return CodeOK
	case errors.As(err, &c):
		code, _ := c.codeAndMessage()
		return code
	default:
		return Public(err).Code
	}
}

// MessageOf returns the message err carries, as CodeOf its code.
func MessageOf(err error) string {
	var c coded
	switch {
	case err == nil:
		return ""
	case errors.As(err, &c):
		_, message := c.codeAndMessage()
		return message
	default:
		return Public(err).Message
	}
}
