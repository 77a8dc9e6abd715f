package transport

// Transcoding tests for the googleapis library example, copied into a
// generated project by tests/transcoding.rs. Each test names the item of
// google.api.http (or of the error model) it pins down.

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"example.com/library/pb"
	"example.com/library/pkg/endpoints"
	"example.com/library/pkg/service"
	"example.com/library/pkg/service/servicetest"
	"google.golang.org/protobuf/proto"
)

func startLibrary(t *testing.T, opts ...HTTPOption) (*servicetest.Library, *httptest.Server) {
	t.Helper()
	fake := &servicetest.Library{}
	srv := httptest.NewServer(NewHTTPHandler(endpoints.NewSet(fake, endpoints.Instrumentation{}), opts...))
	t.Cleanup(srv.Close)
	return fake, srv
}

type reply struct {
	status int
	header http.Header
	body   string
}

// send makes a request with a raw (already escaped) path and query.
func send(t *testing.T, srv *httptest.Server, method, target, body string) reply {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+target, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, string(data)}
}

// only returns the one request the fake received.
func only(t *testing.T, fake *servicetest.Library) proto.Message {
	t.Helper()
	got := fake.Requests()
	if len(got) != 1 {
		t.Fatalf("the service received %d requests, want 1: %v", len(got), got)
	}
	return got[0]
}

func wantReceived(t *testing.T, fake *servicetest.Library, want proto.Message) {
	t.Helper()
	if got := only(t, fake); !proto.Equal(got, want) {
		t.Errorf("the service received %v, want %v", got, want)
	}
}

// (1) Query parameters bind only fields neither the path nor the body binds.
func TestTranscodingQueryCannotOverridePath(t *testing.T) {
	fake, srv := startLibrary(t)
	if r := send(t, srv, "GET", "/v1/shelves/1?name=shelves/2", ""); r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	wantReceived(t, fake, &pb.GetShelfRequest{Name: "shelves/1"})
}

func TestTranscodingQueryCannotOverrideBodyOrPath(t *testing.T) {
	fake, srv := startLibrary(t)
	r := send(t, srv, "POST", "/v1/shelves/7/books?parent=shelves/9&book.name=evil&book.author=evil&bookId=x", `{"name":"b","author":"a"}`)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	wantReceived(t, fake, &pb.CreateBookRequest{Parent: "shelves/7", Book: &pb.Book{Name: "b", Author: "a"}})
}

func TestTranscodingQueryJSONNameIsFilteredToo(t *testing.T) {
	fake, srv := startLibrary(t)
	r := send(t, srv, "PATCH", "/v1/shelves/1/books/2?book.name=shelves/9/books/9", `{"title":"t"}`)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	wantReceived(t, fake, &pb.UpdateBookRequest{Book: &pb.Book{Name: "shelves/1/books/2", Title: "t"}})
}

func TestTranscodingQuerySetsUnboundFields(t *testing.T) {
	fake, srv := startLibrary(t)
	r := send(t, srv, "GET", "/v1/shelves/3/books?pageSize=5&page_token=abc", "")
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	wantReceived(t, fake, &pb.ListBooksRequest{Parent: "shelves/3", PageSize: 5, PageToken: "abc"})
}

func TestTranscodingRepeatedSingularQueryIsRefused(t *testing.T) {
	fake, srv := startLibrary(t)
	if r := send(t, srv, "GET", "/v1/shelves?page_token=a&page_token=b", ""); r.status != 400 {
		t.Fatalf("status %d, want 400: %s", r.status, r.body)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the service received %d requests", n)
	}
}

// (2) Routing is on the escaped path: %2F never changes the route.
func TestTranscodingEscapedSlashStaysInItsSegment(t *testing.T) {
	fake, srv := startLibrary(t)
	r := send(t, srv, "GET", "/v1/shelves/1%2Fbooks%2F2", "")
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	// GetShelf, not GetBook; {name=shelves/*} spans two segments, so %2F
	// stays escaped in the value, as http.proto says.
	wantReceived(t, fake, &pb.GetShelfRequest{Name: "shelves/1%2Fbooks%2F2"})
}

func TestTranscodingSegmentsAreUnescaped(t *testing.T) {
	fake, srv := startLibrary(t)
	if r := send(t, srv, "GET", "/v1/shelves/a%20b%25c%C3%A9/books/%3A", ""); r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	wantReceived(t, fake, &pb.GetBookRequest{Name: "shelves/a b%cé/books/:"})
}

func TestTranscodingClientEscapesAndChecksPathValues(t *testing.T) {
	fake, srv := startLibrary(t)
	c, err := NewLibraryHTTPClient(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetShelf(t.Context(), &pb.GetShelfRequest{Name: "shelves/a b%?#é"}); err != nil {
		t.Fatal(err)
	}
	wantReceived(t, fake, &pb.GetShelfRequest{Name: "shelves/a b%?#é"})
	// A value that does not fit the template never leaves the client.
	for _, name := range []string{"shelves/a/books/b", "books/1", "shelves/"} {
		_, err := c.GetShelf(t.Context(), &pb.GetShelfRequest{Name: name})
		if service.CodeOf(err) != service.CodeInvalidArgument {
			t.Errorf("GetShelf(%q): err = %v, want INVALID_ARGUMENT", name, err)
		}
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("the service received %d requests, want 1", n)
	}
}

// (3) body: "field" reads the body into the field's own message.
func TestTranscodingBodyFieldCannotInjectFields(t *testing.T) {
	fake, srv := startLibrary(t)
	for _, body := range []string{`{"author":"a"}, "parent":"x"`, `{"author":"a"}}`, `[1]`, `"x"`} {
		if r := send(t, srv, "POST", "/v1/shelves/7/books", body); r.status != 400 {
			t.Errorf("body %s: status %d, want 400: %s", body, r.status, r.body)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the service received %d requests", n)
	}
}

// (4) Unknown fields are accepted by default and refused when strict.
func TestTranscodingUnknownFields(t *testing.T) {
	fake, srv := startLibrary(t)
	if r := send(t, srv, "POST", "/v1/shelves?colour=red", `{"theme":"t","colour":"red"}`); r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	wantReceived(t, fake, &pb.CreateShelfRequest{Shelf: &pb.Shelf{Theme: "t"}})
	if r := send(t, srv, "GET", "/v1/shelves?colour=red", ""); r.status != 200 {
		t.Fatalf("unknown query parameter: status %d: %s", r.status, r.body)
	}

	fake, srv = startLibrary(t, RejectUnknownFields())
	if r := send(t, srv, "POST", "/v1/shelves", `{"theme":"t","colour":"red"}`); r.status != 400 {
		t.Errorf("strict, unknown body field: status %d, want 400", r.status)
	}
	if r := send(t, srv, "GET", "/v1/shelves?colour=red", ""); r.status != 400 {
		t.Errorf("strict, unknown query parameter: status %d, want 400", r.status)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the strict service received %d requests", n)
	}
}

// (5) Edge statuses.
func TestTranscodingMethodNotAllowed(t *testing.T) {
	_, srv := startLibrary(t)
	r := send(t, srv, "PUT", "/v1/shelves/1", "{}")
	if r.status != 405 || r.header.Get("Allow") != "DELETE, GET" {
		t.Fatalf("status %d, Allow %q; want 405 and DELETE, GET", r.status, r.header.Get("Allow"))
	}
	if !strings.Contains(r.body, `"status":"UNIMPLEMENTED"`) || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("body %s, want a JSON error", r.body)
	}
}

func TestTranscodingBodyTooLarge(t *testing.T) {
	_, srv := startLibrary(t)
	body := `{"theme":"` + strings.Repeat("x", maxBodyBytes) + `"}`
	if r := send(t, srv, "POST", "/v1/shelves", body); r.status != 413 || !strings.Contains(r.body, `"code":413`) {
		t.Errorf("status %d, body %.200s; want 413", r.status, r.body)
	}
}

func TestTranscodingInvalidUTF8IsRefusedEverywhere(t *testing.T) {
	fake, srv := startLibrary(t)
	for _, target := range []string{"/v1/shelves?page_token=%ff%fe", "/v1/shelves/%ff", "/v1/shelves?page_token=%zz"} {
		if r := send(t, srv, "GET", target, ""); r.status != 400 {
			t.Errorf("%s: status %d, want 400: %s", target, r.status, r.body)
		}
	}
	if r := send(t, srv, "POST", "/v1/shelves", "{\"theme\":\"\xff\"}"); r.status != 400 {
		t.Errorf("JSON body: status %d, want 400", r.status)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the service received %d requests", n)
	}
}

// A path of a route's shape whose variable does not fit its pattern answers
// 404 as grpc-gateway does, with a message saying no route matched rather
// than that a resource is missing.
func TestTranscodingMalformedResourceNameMatchesNoRoute(t *testing.T) {
	_, srv := startLibrary(t)
	r := send(t, srv, "GET", "/v1/shelvez/1", "")
	if r.status != 404 || !strings.Contains(r.body, "no route matches GET /v1/shelvez/1") {
		t.Errorf("status %d, body %s", r.status, r.body)
	}
}

// (6) A service error keeps its cause for the server and its message for
// the caller; any other error is hidden.
func TestTranscodingErrorsOverHTTP(t *testing.T) {
	fake, srv := startLibrary(t)
	fake.Err = service.Errorf(service.CodeNotFound, "shelf %q: %w", "shelves/1", io.EOF)
	if !errors.Is(fake.Err, io.EOF) {
		t.Fatal("the cause is lost")
	}
	r := send(t, srv, "GET", "/v1/shelves/1", "")
	if r.status != 404 || !strings.Contains(r.body, `shelf \"shelves/1\": EOF`) {
		t.Errorf("status %d, body %s", r.status, r.body)
	}
	fake.Err = errors.New("dial tcp 10.0.0.5:5432: connection refused")
	r = send(t, srv, "GET", "/v1/shelves/1", "")
	if r.status != 500 || strings.Contains(r.body, "10.0.0.5") || !strings.Contains(r.body, `"message":"internal error"`) {
		t.Errorf("status %d, body %s", r.status, r.body)
	}
}
