package transport

// Adversarial tests of the error model for the googleapis library example,
// copied into a generated project by tests/transcoding.rs: errors a service
// or a hostile server can produce by mistake or on purpose.

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"example.com/library/pb"
	"example.com/library/pkg/endpoints"
	"example.com/library/pkg/service"
	"example.com/library/pkg/service/servicetest"
)

// serveBoth serves fake over HTTP and gRPC on loopback and returns an HTTP
// server and a gRPC client of it.
func serveBoth(t *testing.T, fake *servicetest.Library) (*httptest.Server, pb.LibraryServiceClient) {
	t.Helper()
	set := endpoints.NewSet(fake, endpoints.Instrumentation{})
	srv := httptest.NewServer(recordExchanges(t, NewHTTPHandler(set)))
	t.Cleanup(srv.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	pb.RegisterLibraryServiceServer(server, NewLibraryGRPCServer(set))
	go server.Serve(l)
	t.Cleanup(server.Stop)
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return srv, pb.NewLibraryServiceClient(conn)
}

func getShelf(t *testing.T, srv *httptest.Server) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/v1/shelves/1", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET /v1/shelves/1: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

// A service that returns a typed nil (var err *service.Error; return nil,
// err) answers INTERNAL on both transports; it took the gRPC server down
// with a nil dereference outside the recovery middleware, and the HTTP
// connection with it.
func TestAdversarialTypedNilErrorIsInternal(t *testing.T) {
	var typedNil *service.Error
	fake := &servicetest.Library{Err: typedNil}
	srv, client := serveBoth(t, fake)
	if got, body := getShelf(t, srv); got != http.StatusInternalServerError || !strings.Contains(body, `"status":"INTERNAL"`) {
		t.Errorf("HTTP: %d %s, want 500 INTERNAL", got, body)
	}
	for range 2 { // the server is still up for the second call
		_, err := client.GetShelf(t.Context(), &pb.GetShelfRequest{Name: "shelves/1"})
		if st := status.Convert(err); st.Code() != codes.Internal || st.Message() != "internal error" {
			t.Fatalf("gRPC: %v, want INTERNAL internal error", err)
		}
	}
	if got := service.CodeOf(typedNil); got != service.CodeInternal {
		t.Errorf("CodeOf(typed nil) = %v, want INTERNAL", got)
	}
	var typedNilRemote *service.RemoteError
	if got := service.CodeOf(typedNilRemote); got != service.CodeInternal {
		t.Errorf("CodeOf(typed nil RemoteError) = %v, want INTERNAL", got)
	}
}

// An error is never a success: service.Errorf(service.CodeOK, …) reached
// gRPC callers as an empty response with no error, HTTP callers as 200
// with an error body, and the HTTP client as an empty response.
func TestAdversarialErrorIsNeverOK(t *testing.T) {
	fake := &servicetest.Library{Err: service.Errorf(service.CodeOK, "not quite")}
	srv, client := serveBoth(t, fake)
	resp, err := client.GetShelf(t.Context(), &pb.GetShelfRequest{Name: "shelves/1"})
	if st := status.Convert(err); st.Code() != codes.Unknown || st.Message() != "not quite" {
		t.Errorf("gRPC: %v, %v, want UNKNOWN not quite", resp, err)
	}
	if got, body := getShelf(t, srv); got != http.StatusInternalServerError || !strings.Contains(body, `"status":"UNKNOWN"`) {
		t.Errorf("HTTP: %d %s, want 500 UNKNOWN", got, body)
	}
	httpClient, err := NewLibraryHTTPClient(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	shelf, err := httpClient.GetShelf(context.Background(), &pb.GetShelfRequest{Name: "shelves/1"})
	if err == nil || service.CodeOf(err) != service.CodeUnknown {
		t.Errorf("HTTP client: %v, %v, want an UNKNOWN error", shelf, err)
	}
	fake.Err = service.Errorf(service.Code(99), "no such code")
	if _, err := client.GetShelf(t.Context(), &pb.GetShelfRequest{Name: "shelves/1"}); status.Code(err) != codes.Unknown {
		t.Errorf("gRPC, code 99: %v, want UNKNOWN", err)
	}
}

// A hostile or broken server's error body saying "OK" is an error with the
// code of its HTTP status, never CodeOK.
func TestAdversarialRemoteErrorIsNeverOK(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   service.Code
	}{
		{http.StatusInternalServerError, service.CodeUnknown},
		{http.StatusNotFound, service.CodeNotFound},
	} {
		hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			io.WriteString(w, `{"error":{"code":200,"status":"OK","message":"all good"}}`)
		}))
		client, err := NewLibraryHTTPClient(hostile.URL, hostile.Client())
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.GetShelf(t.Context(), &pb.GetShelfRequest{Name: "shelves/1"})
		hostile.Close()
		if err == nil || service.CodeOf(err) != tc.want || service.MessageOf(err) != "all good" {
			t.Errorf("status %d: %v (code %v), want %v all good", tc.status, err, service.CodeOf(err), tc.want)
		}
	}
}

// gRPC metadata with two authorization values carries no credentials, as
// an HTTP request with two Authorization headers is refused: the server
// took the first, where a proxy in front may have checked the last.
func TestAdversarialTwoAuthorizationValuesCarryNoCredentials(t *testing.T) {
	seen := make(chan string, 4)
	in := endpoints.Instrumentation{Authenticate: func(ctx context.Context, _ string) (context.Context, error) {
		seen <- endpoints.Credentials(ctx)
		if endpoints.Credentials(ctx) != "Bearer good" {
			return nil, service.Errorf(service.CodeUnauthenticated, "who are you?")
		}
		return ctx, nil
	}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := grpc.NewServer()
	pb.RegisterLibraryServiceServer(server, NewLibraryGRPCServer(endpoints.NewSet(&servicetest.Library{}, in)))
	go server.Serve(l)
	t.Cleanup(server.Stop)
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := pb.NewLibraryServiceClient(conn)
	for _, tc := range []struct {
		values []string
		want   codes.Code
		seen   string
	}{
		{[]string{"Bearer good"}, codes.OK, "Bearer good"},
		{[]string{"Bearer good", "Bearer evil"}, codes.Unauthenticated, ""},
		{[]string{"Bearer evil", "Bearer good"}, codes.Unauthenticated, ""},
	} {
		md := metadata.MD{"authorization": tc.values}
		ctx := metadata.NewOutgoingContext(t.Context(), md)
		_, err := client.GetShelf(ctx, &pb.GetShelfRequest{Name: "shelves/1"})
		if got := status.Code(err); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.values, err, tc.want)
		}
		if got := <-seen; got != tc.seen {
			t.Errorf("%q: Authenticate saw %q, want %q", tc.values, got, tc.seen)
		}
	}
}

// The HTTP client follows no redirect: a server (or a proxy) redirecting
// GetShelf to a book's route made the client decode the Book as a Shelf and
// return it with no error. And a deadline that expires while the response
// is read is DEADLINE_EXCEEDED, not a retryable UNAVAILABLE.
func TestAdversarialHTTPClientFollowsNoRedirect(t *testing.T) {
	var bookCalls int
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/books/"):
			bookCalls++
			io.WriteString(w, `{"name":"shelves/1/books/2","title":"t"}`)
		case strings.HasSuffix(r.URL.Path, "/slow"):
			io.WriteString(w, `{"name":`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		default:
			http.Redirect(w, r, "/v1/shelves/1/books/2", http.StatusFound)
		}
	}))
	t.Cleanup(hostile.Close)
	client, err := NewLibraryHTTPClient(hostile.URL, hostile.Client())
	if err != nil {
		t.Fatal(err)
	}
	shelf, err := client.GetShelf(t.Context(), &pb.GetShelfRequest{Name: "shelves/1"})
	if err == nil || bookCalls != 0 || !strings.Contains(service.MessageOf(err), "302") {
		t.Errorf("redirected GetShelf: %v, %v, %d calls to the book; want a 302 error and none", shelf, err, bookCalls)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err = client.GetShelf(ctx, &pb.GetShelfRequest{Name: "shelves/slow"})
	if got := service.CodeOf(err); got != service.CodeDeadlineExceeded {
		t.Errorf("a response cut by the caller's deadline: %v (%v), want DEADLINE_EXCEEDED", err, got)
	}
}
