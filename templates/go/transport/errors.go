// Package transport serves the endpoints over HTTP and gRPC, and builds
// clients of the remote service over either.
//
// Errors cross both transports the same way: a service error's Code is the
// gRPC status code as it is, and maps to an HTTP status through HTTPStatus.
package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"

	"{{ p.module }}/pkg/service"
)

// HTTPStatus maps a code to the HTTP status Google APIs use for it.
func HTTPStatus(code service.Code) int {
	switch code {
{%- for (codes, status) in http_cases %}
	case {{ codes.join(", ") }}:
		return {{ status }}
{%- endfor %}
	default:
		return http.StatusInternalServerError
	}
}

// codeFromHTTPStatus is the inverse of HTTPStatus, for error bodies that do
// not name their code.
func codeFromHTTPStatus(status int) service.Code {
	switch status {
{%- for (status, code) in code_cases %}
	case {{ status }}:
		return {{ code }}
{%- endfor %}
	default:
		return service.CodeUnknown
	}
}

// grpcError converts a service error into a gRPC status with its details.
// An error that is not a *service.Error is answered as INTERNAL "internal
// error" (see service.Public): the endpoint middleware logs its text.
func grpcError(err error) error {
	if err == nil {
		return nil
	}
	public := service.Public(err)
	st := &spb.Status{Code: int32(public.Code), Message: public.Message}
	for _, detail := range public.Details {
		a, err := anypb.New(detail)
		if err != nil {
			continue // a nil detail; the rest still go out
		}
		st.Details = append(st.Details, a)
	}
	return status.FromProto(st).Err()
}

// fromGRPCError converts a gRPC status error into a *service.RemoteError,
// with the details whose types this program knows. The remote's code and
// message stay the remote's: a server that returns the error answers
// INTERNAL unless it passes it through (see service.RemoteError).
func fromGRPCError(err error) error {
	st, ok := status.FromError(err)
	if !ok || err == nil {
		return err
	}
	e := &service.RemoteError{Code: service.Code(st.Code()), Message: st.Message(), Err: err}
	for _, a := range st.Proto().GetDetails() {
		if detail, err := a.UnmarshalNew(); err == nil {
			e.Details = append(e.Details, detail)
		}
	}
	return e
}

// httpErrorBody is the JSON body of an HTTP error, shaped like Google APIs':
// {"error": {"code": 404, "status": "NOT_FOUND", "message": "...", "details": [...]}},
// each detail a google.protobuf.Any in its JSON form, with "@type".
type httpErrorBody struct {
	Error struct {
		Code    int               `json:"code"`
		Status  string            `json:"status"`
		Message string            `json:"message"`
		Details []json.RawMessage `json:"details,omitempty"`
	} `json:"error"`
}

// httpStatusError is a failure of the HTTP layer itself whose status no
// code maps to, such as 405 Method Not Allowed and 413 Content Too Large.
type httpStatusError struct {
	status int
	err    *service.Error
}

func (e *httpStatusError) Error() string { return e.err.Error() }
func (e *httpStatusError) Unwrap() error { return e.err }

// encodeHTTPError writes err as a JSON error with the status of its code.
// An error that is not a *service.Error is answered as 500 "internal
// error" (see service.Public).
func encodeHTTPError(_ context.Context, err error, w http.ResponseWriter) {
	status, body := httpErrorJSON(err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// httpErrorJSON returns the status and the JSON body, newline ended, that
// answer err.
func httpErrorJSON(err error) (int, []byte) {
	public := service.Public(err)
	var body httpErrorBody
	body.Error.Code = HTTPStatus(public.Code)
	if se, ok := errors.AsType[*httpStatusError](err); ok {
		body.Error.Code = se.status
	}
	body.Error.Status = public.Code.String()
	body.Error.Message = public.Message
	for _, detail := range public.Details {
		a, err := anypb.New(detail)
		if err != nil {
			continue
		}
		if data, err := protojson.Marshal(a); err == nil {
			body.Error.Details = append(body.Error.Details, data)
		}
	}
	data, _ := json.Marshal(body) // strings and valid JSON only: it cannot fail
	return body.Error.Code, append(data, '\n')
}

// maxErrorBodyBytes bounds the error bodies the HTTP client reads.
const maxErrorBodyBytes = 1 << 20

// decodeHTTPError reads an error response into a *service.RemoteError,
// keeping the body's message and the details whose types this program
// knows. A body that is not a JSON error, such as a proxy's HTML page, is
// quoted in the message, at most 512 bytes of it.
func decodeHTTPError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBodyBytes))
	var body httpErrorBody
	if json.Unmarshal(data, &body) == nil && body.Error.Status != "" {
		code := service.ParseCode(body.Error.Status)
		if code == service.CodeOK {
			// An error is never OK: a body saying so is answered by its
			// HTTP status instead.
			code = codeFromHTTPStatus(resp.StatusCode)
		}
		e := &service.RemoteError{Code: code, Message: body.Error.Message}
		for _, raw := range body.Error.Details {
			var a anypb.Any
			if protojson.Unmarshal(raw, &a) != nil {
				continue
			}
			if detail, err := a.UnmarshalNew(); err == nil {
				e.Details = append(e.Details, detail)
			}
		}
		return e
	}
	text := strings.ToValidUTF8(string(data[:min(len(data), 512)]), "\uFFFD")
	return &service.RemoteError{Code: codeFromHTTPStatus(resp.StatusCode), Message: fmt.Sprintf("%s: %q", resp.Status, text)}
}
