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
	srv := httptest.NewServer(recordExchanges(t, NewHTTPHandler(endpoints.NewSet(fake, endpoints.Instrumentation{}), opts...)))
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
	if r.status != 405 || r.header.Get("Allow") != "DELETE, GET, HEAD, OPTIONS" {
		t.Fatalf("status %d, Allow %q; want 405 and DELETE, GET, HEAD, OPTIONS", r.status, r.header.Get("Allow"))
	}
	if !strings.Contains(r.body, `"status":"UNIMPLEMENTED"`) || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("body %s, want a JSON error", r.body)
	}
}

func TestTranscodingBodyTooLarge(t *testing.T) {
	_, srv := startLibrary(t)
	body := `{"theme":"` + strings.Repeat("x", maxBodyBytes) + `"}`
	if r := send(t, srv, "POST", "/v1/shelves", body); r.status != 413 || !strings.Contains(r.body, `"code":413,"status":"RESOURCE_EXHAUSTED"`) {
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

// D1: a value never leaves its variable. Dot segments are refused before
// sending (a URL library or proxy would resolve them into another route),
// and every value must come back out of the path exactly as it went in.
func TestTranscodingClientRefusesDotSegments(t *testing.T) {
	fake, srv := startLibrary(t)
	c, err := NewLibraryHTTPClient(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"shelves/..", "shelves/.", "shelves/", "shelves/a/../b", "shelves/\xff"} {
		if _, err := c.GetShelf(t.Context(), &pb.GetShelfRequest{Name: name}); service.CodeOf(err) != service.CodeInvalidArgument {
			t.Errorf("GetShelf(%q): err = %v, want INVALID_ARGUMENT", name, err)
		}
	}
	for _, name := range []string{"shelves/1/books/..", "shelves/../books/1", "shelves/1/books/."} {
		if _, err := c.DeleteBook(t.Context(), &pb.DeleteBookRequest{Name: name}); service.CodeOf(err) != service.CodeInvalidArgument {
			t.Errorf("DeleteBook(%q): err = %v, want INVALID_ARGUMENT", name, err)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the service received %d requests: %v", n, fake.Requests())
	}
	// Dots that are no dot segment are data.
	for _, name := range []string{"shelves/...", "shelves/.a", "shelves/a..", "shelves/%2E%2E"} {
		fake, srv := startLibrary(t)
		c, err := NewLibraryHTTPClient(srv.URL, srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetShelf(t.Context(), &pb.GetShelfRequest{Name: name}); err != nil {
			t.Errorf("GetShelf(%q): %v", name, err)
			continue
		}
		wantReceived(t, fake, &pb.GetShelfRequest{Name: name})
	}
}

// D1: the client sets the URL it built, under the base URL's own path,
// and nothing parses it again.
func TestTranscodingClientKeepsItsPath(t *testing.T) {
	seen := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Method + " " + r.URL.RequestURI()
		io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	c, err := NewLibraryHTTPClient(srv.URL+"/api/", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBook(t.Context(), &pb.GetBookRequest{Name: "shelves/a b%2E/books/.x?#"}); err != nil {
		t.Fatal(err)
	}
	if got, want := <-seen, "GET /api/v1/shelves/a%20b%252E/books/.x%3F%23"; got != want {
		t.Errorf("sent %s, want %s", got, want)
	}
}

// D2: "*" matches one non-empty segment, as the client requires: a
// trailing slash is no request for an empty ID.
func TestTranscodingEmptySegmentMatchesNoWildcard(t *testing.T) {
	fake, srv := startLibrary(t)
	for _, target := range []string{"/v1/shelves/1/books/", "/v1/shelves//books/1", "/v1/shelves/", "/v1//shelves/1"} {
		if r := send(t, srv, "GET", target, ""); r.status != 404 {
			t.Errorf("GET %s: status %d, want 404: %s", target, r.status, r.body)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the service received %d requests: %v", n, fake.Requests())
	}
}

// D5: dot segments, literal or escaped, are refused by the router: never
// redirected, never taken as data that a proxy would have resolved.
func TestTranscodingDotSegmentsAreRefused(t *testing.T) {
	fake, srv := startLibrary(t)
	for _, target := range []string{"/v1/shelves/1/books/..", "/v1/shelves/1/books/.", "/v1/shelves/%2e%2E", "/v1/shelves/.%2e/books/1", "/v1/shelves/%2E", "/v1/../v1/shelves/1", "/v1/shelves/..:merge", "/v1/shelves/1/books/.:move"} {
		for _, method := range []string{"GET", "DELETE"} {
			r := send(t, srv, method, target, "")
			if r.status != 400 || !strings.Contains(r.body, "segment") {
				t.Errorf("%s %s: status %d, want 400: %s", method, target, r.status, r.body)
			}
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the service received %d requests: %v", n, fake.Requests())
	}
}

// D6: one field named twice, by one name or by its proto and JSON names,
// is refused, whatever order the parameters come in.
func TestTranscodingFieldNamedTwiceIsRefused(t *testing.T) {
	fake, srv := startLibrary(t)
	for _, target := range []string{
		"/v1/shelves?page_token=a&pageToken=b",
		"/v1/shelves?pageToken=b&page_token=a",
		"/v1/shelves?pageSize=1&page_size=1",
		"/v1/shelves/1/books?page_token=a&page_token=b",
	} {
		if r := send(t, srv, "GET", target, ""); r.status != 400 {
			t.Errorf("GET %s: status %d, want 400: %s", target, r.status, r.body)
		}
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("the service received %d requests: %v", n, fake.Requests())
	}
}

// D7: HEAD is served by GET routes, OPTIONS lists the methods.
func TestTranscodingHeadAndOptions(t *testing.T) {
	fake, srv := startLibrary(t)
	r := send(t, srv, "HEAD", "/v1/shelves/1", "")
	if r.status != 200 || r.body != "" {
		t.Errorf("HEAD: status %d, body %q; want 200 and no body", r.status, r.body)
	}
	wantReceived(t, fake, &pb.GetShelfRequest{Name: "shelves/1"})
	r = send(t, srv, "OPTIONS", "/v1/shelves/1", "")
	if r.status != 204 || r.header.Get("Allow") != "DELETE, GET, HEAD, OPTIONS" {
		t.Errorf("OPTIONS: status %d, Allow %q", r.status, r.header.Get("Allow"))
	}
	if r := send(t, srv, "OPTIONS", "/v1/nothing", ""); r.status != 404 {
		t.Errorf("OPTIONS on no route: status %d", r.status)
	}
}

// D7: messages quote the escaped path, bounded.
func TestTranscodingNotFoundQuotesTheEscapedPath(t *testing.T) {
	_, srv := startLibrary(t)
	r := send(t, srv, "GET", "/v1/shelvez/a%2Fb%22%0A", "")
	if r.status != 404 || !strings.Contains(r.body, `no route matches GET /v1/shelvez/a%2Fb%22%0A"`) {
		t.Errorf("status %d, body %s", r.status, r.body)
	}
	r = send(t, srv, "GET", "/v1/"+strings.Repeat("x", 10000), "")
	if r.status != 404 || len(r.body) > 512 {
		t.Errorf("status %d, %d bytes of body", r.status, len(r.body))
	}
}

// D7: the client reads a bounded response body.
func TestTranscodingClientBoundsResponses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"name":"`)
		chunk := strings.Repeat("x", 1<<16)
		for i := 0; i < (maxBodyBytes>>16)+2; i++ {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
		io.WriteString(w, `"}`)
	}))
	t.Cleanup(srv.Close)
	c, err := NewLibraryHTTPClient(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetShelf(t.Context(), &pb.GetShelfRequest{Name: "shelves/1"})
	if service.CodeOf(err) != service.CodeResourceExhausted {
		t.Errorf("err = %.200v, want RESOURCE_EXHAUSTED", err)
	}
}

// D3: what the HTTP client reports is the remote's, not this service's.
func TestTranscodingClientErrorsAreRemote(t *testing.T) {
	fake, srv := startLibrary(t)
	fake.Err = service.Errorf(service.CodeNotFound, "no shelf")
	c, err := NewLibraryHTTPClient(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetShelf(t.Context(), &pb.GetShelfRequest{Name: "shelves/1"})
	if remote, ok := errors.AsType[*service.RemoteError](err); !ok || remote.Code != service.CodeNotFound || remote.Message != "no shelf" {
		t.Errorf("err = %#v, want a *service.RemoteError NOT_FOUND: no shelf", err)
	}
	if public := service.Public(err); public.Code != service.CodeInternal {
		t.Errorf("Public(err) = %v, want INTERNAL", public)
	}
	// A server that is not there: UNAVAILABLE, and still remote.
	srv.Close()
	_, err = c.GetShelf(t.Context(), &pb.GetShelfRequest{Name: "shelves/1"})
	if _, ok := errors.AsType[*service.RemoteError](err); !ok || service.CodeOf(err) != service.CodeUnavailable || service.Public(err).Code != service.CodeInternal {
		t.Errorf("err = %v, want a *service.RemoteError UNAVAILABLE", err)
	}
}
