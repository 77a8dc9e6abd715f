package server

// The HTTP surface as an adversary sees it, copied into the library
// project's pkg/server by tests/transcoding.rs: raw requests over a
// loopback connection to the HTTP server cmd/library assembles
// (NewHTTPServer(NewHTTPHandler(api, NewHTTPMux(health)))), each
// bounded in time, with odd escapes, dot segments, NUL, overlong UTF-8,
// empty segments, long paths and queries, repeated parameters and header
// tricks. Whatever the request, the server never redirects, never fails
// with a 5xx, and the service sees only what the route says.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"example.com/library/pb"
	"example.com/library/pkg/endpoints"
	"example.com/library/pkg/service/servicetest"
	"example.com/library/pkg/transport"
	"google.golang.org/protobuf/proto"
)

func startServer(t *testing.T) (*servicetest.Library, string) {
	t.Helper()
	fake := &servicetest.Library{}
	api := transport.NewHTTPHandler(endpoints.NewSet(fake, endpoints.Instrumentation{}))
	server := NewHTTPServer(NewHTTPHandler(api, NewHTTPMux(NewHealth())))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go server.Serve(l)
	t.Cleanup(func() { server.Close() })
	return fake, l.Addr().String()
}

type answer struct {
	status int
	header http.Header
	body   string
	// closed says whether the server closes the connection after it.
	closed bool
}

// raw writes request, as it is, on a new connection and reads one
// response, all within five seconds.
func raw(t *testing.T, addr, request string) answer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	// The server may answer before it has read a large request.
	go io.WriteString(conn, request)
	method, _, _ := strings.Cut(request, " ")
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%.120q: %v", request, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%.120q: reading the body: %v", request, err)
	}
	return answer{resp.StatusCode, resp.Header, string(body), resp.Close}
}

func get(target string, headers ...string) string {
	return "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + strings.Join(headers, "") + "Connection: close\r\n\r\n"
}

func TestAdversarialRequests(t *testing.T) {
	huge := strings.Repeat("a", 900<<10)
	cases := []struct {
		name    string
		request string
		status  int
		// received is what the service must have been called with, if
		// anything.
		received proto.Message
	}{
		{"dot segments", get("/v1/shelves/1/books/.."), 400, nil},
		{"escaped dot segments", get("/v1/shelves/%2e%2E"), 400, nil},
		{"mixed dot segment", get("/v1/shelves/.%2E/books/1"), 400, nil},
		{"dot segments before the route", get("/x/../v1/shelves/1"), 400, nil},
		{"DELETE with dot segments", "DELETE /v1/shelves/1/books/.. HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400, nil},
		{"dots within a segment are data", get("/v1/shelves/..%2F..%2Fadmin"), 200, &pb.GetShelfRequest{Name: "shelves/..%2F..%2Fadmin"}},
		{"escaped NUL is data", get("/v1/shelves/a%00b"), 200, &pb.GetShelfRequest{Name: "shelves/a\x00b"}},
		{"overlong UTF-8 dot", get("/v1/shelves/%C0%AE%C0%AE"), 400, nil},
		{"overlong UTF-8 slash", get("/v1/shelves/1%C0%AFbooks%C0%AF2"), 400, nil},
		{"invalid UTF-8 in the query", get("/v1/shelves?page_token=%ED%A0%80"), 400, nil},
		{"leading double slash", get("//v1/shelves/1"), 404, nil},
		{"inner double slash", get("/v1/shelves//books/1"), 404, nil},
		{"trailing slash", get("/v1/shelves/1/"), 404, nil},
		{"escaped literal slash", get("/v1%2Fshelves/1"), 404, nil},
		{"backslash", get("/v1\\shelves\\1"), 404, nil},
		{"escaped slash stays in its segment", get("/v1/shelves/1%2Fbooks%2F2"), 200, &pb.GetShelfRequest{Name: "shelves/1%2Fbooks%2F2"}},
		{"very long path", get("/v1/shelves/" + huge), 200, &pb.GetShelfRequest{Name: "shelves/" + huge}},
		{"very long unknown path", get("/v1/" + huge), 404, nil},
		{"headers over the limit", get("/v1/shelves/" + strings.Repeat("a", 2<<20)), 431, nil},
		{"huge query string", get("/v1/shelves?no_such_field=" + huge), 200, &pb.ListShelvesRequest{}},
		{"many parameters", get("/v1/shelves?" + strings.Repeat("x=1&", 20000)), 400, nil},
		{"repeated parameter", get("/v1/shelves?page_size=1&page_size=2"), 400, nil},
		{"one field by two names", get("/v1/shelves?page_token=a&pageToken=b"), 400, nil},
		{"semicolon separator", get("/v1/shelves?page_size=1;page_token=a"), 400, nil},
		{"malformed escape", get("/v1/shelves/%zz"), 400, nil},
		{"fragment in the target", get("/v1/shelves/1#x"), 200, &pb.GetShelfRequest{Name: "shelves/1#x"}},
		{"method override is not honoured", "POST /v1/shelves/1/books/2:move HTTP/1.1\r\nHost: x\r\nX-HTTP-Method-Override: DELETE\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", 200, &pb.MoveBookRequest{Name: "shelves/1/books/2"}},
		{"two Authorization headers", get("/v1/shelves/1", "Authorization: Bearer a\r\n", "Authorization: Bearer b\r\n"), 400, nil},
		{"very long method", strings.Repeat("X", 100000) + " /v1/shelves/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, nil},
		{"lower-case method", "get /v1/shelves/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, nil},
		{"absolute-form target", get("http://evil.example/v1/shelves/1"), 200, &pb.GetShelfRequest{Name: "shelves/1"}},
		{"target without a slash", get("v1/shelves/1"), 400, nil},
		{"two Content-Lengths", "POST /v1/shelves HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}", 400, nil},
		// Read by its chunks, as net/http does; the connection closes.
		{"Content-Length with chunked", "POST /v1/shelves HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 200, &pb.CreateShelfRequest{Shelf: &pb.Shelf{}}},
		{"body over the limit", "POST /v1/shelves HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\nConnection: close\r\n\r\n" + strings.Repeat(" ", 5000000), 413, nil},
		{"chunked body over the limit", "POST /v1/shelves HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + strings.Repeat(fmt.Sprintf("%x\r\n%s\r\n", 1<<20, strings.Repeat(" ", 1<<20)), 5) + "0\r\n\r\n", 413, nil},
		{"HEAD", "HEAD /v1/shelves/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, &pb.GetShelfRequest{Name: "shelves/1"}},
		{"OPTIONS", "OPTIONS /v1/shelves/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 204, nil},
		{"health check beside the API", get("/healthz"), 200, nil},
		{"unclean health check path is the API's", get("/v1/../healthz"), 400, nil},
	}
	fake, addr := startServer(t)
	for _, c := range cases {
		before := len(fake.Requests())
		a := raw(t, addr, c.request)
		got := fake.Requests()[before:]
		if a.status != c.status {
			t.Errorf("%s: status %d, want %d: %.300s", c.name, a.status, c.status, a.body)
		}
		if strings.Contains(c.request, "Transfer-Encoding") && !a.closed {
			t.Errorf("%s: the connection stays open after a chunked request", c.name)
		}
		if a.status >= 300 && a.status < 400 || a.header.Get("Location") != "" {
			t.Errorf("%s: redirected to %q", c.name, a.header.Get("Location"))
		}
		if a.status >= 500 {
			t.Errorf("%s: server error %d: %.300s", c.name, a.status, a.body)
		}
		if len(a.body) > 1024 && a.status != 200 {
			t.Errorf("%s: a %d-byte error body", c.name, len(a.body))
		}
		switch {
		case c.received == nil && len(got) != 0:
			t.Errorf("%s: the service received %.200v", c.name, got)
		case c.received != nil && (len(got) != 1 || !proto.Equal(got[0], c.received)):
			t.Errorf("%s: the service received %.200v, want %.200v", c.name, got, c.received)
		}
	}
}
