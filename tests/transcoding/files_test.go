package transport

// Transcoding tests for fixtures/httprules, copied into a generated project
// by tests/transcoding.rs: "**" variables, custom verbs and methods, and
// query parameters of every kind.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"files/pb"
	"files/pkg/endpoints"
	"files/pkg/service"
	"files/pkg/service/servicetest"
	"google.golang.org/protobuf/proto"
)

func startFiles(t *testing.T) (*servicetest.Files, *httptest.Server) {
	t.Helper()
	fake := &servicetest.Files{}
	srv := httptest.NewServer(recordExchanges(t, NewHTTPHandler(endpoints.NewSet(fake, endpoints.Instrumentation{}))))
	t.Cleanup(srv.Close)
	return fake, srv
}

func call(t *testing.T, srv *httptest.Server, method, target, body string) int {
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
	resp.Body.Close()
	return resp.StatusCode
}

func TestTranscodingFiles(t *testing.T) {
	cases := []struct {
		method, target, body string
		want                 proto.Message
	}{
		// "**" keeps "/" and leaves %2F escaped; other escapes are undone.
		{"GET", "/v1/files/a/b%2Fc/d%3Ae%20f", "", &pb.GetFileRequest{Name: "a/b%2Fc/d:e f"}},
		{"GET", "/v1/folders/1/files/x%2Fy", "", &pb.GetFileRequest{Name: "folders/1/files/x%2Fy"}},
		// A custom verb, and a value that contains ':' itself.
		{"POST", "/v1/folders/1/files/a:b:copy", `{"destination":"d"}`, &pb.CopyFileRequest{Name: "folders/1/files/a:b", Destination: "d"}},
		// A custom method; repeated enums by name and number; a nested field.
		{"SEARCH", "/v1/files:search?query=q&kinds=KIND_TEXT&kinds=2&filter.minSize=7&page_size=3", "", &pb.SearchRequest{
			Query: "q", Kinds: []pb.Kind{pb.Kind_KIND_TEXT, pb.Kind_KIND_BINARY}, PageSize: 3, Filter: &pb.SearchRequest_Filter{MinSize: 7},
		}},
		// The body field's message carries the path-bound field.
		{"PATCH", "/v1/folders/1/files/2?file.name=other&file.size=9", `{"size":"4"}`, &pb.UpdateFileRequest{File: &pb.File{Name: "folders/1/files/2", Size: 4}}},
	}
	for _, c := range cases {
		fake, srv := startFiles(t)
		if status := call(t, srv, c.method, c.target, c.body); status != 200 {
			t.Errorf("%s %s: status %d", c.method, c.target, status)
			continue
		}
		got := fake.Requests()
		if len(got) != 1 || !proto.Equal(got[0], c.want) {
			t.Errorf("%s %s: the service received %v, want %v", c.method, c.target, got, c.want)
		}
	}
	for _, target := range []string{"/v1/files:search?kinds=KIND_NONE", "/v1/files:search?kinds=7", "/v1/files:search?page_size=x"} {
		_, srv := startFiles(t)
		if status := call(t, srv, "SEARCH", target, ""); status != 400 {
			t.Errorf("SEARCH %s: status %d, want 400", target, status)
		}
	}
}

// D1: a "**" value with dot segments never reaches another route. Before,
// GetObject{name: "buckets/b/objects/../../../admin/users/root"} was sent
// as GET /v1/admin/users/root: URL parsing removed the dot segments.
func TestTranscodingClientDeepValuesStayInTheirRoute(t *testing.T) {
	sent := make(chan string, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent <- r.URL.EscapedPath()
		io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	object := pathPattern{template: "/v1/{name=buckets/*/objects/**}", segments: []string{"v1", "buckets", "*", "objects", "**"}, vars: []pathVar{{"name", 1, 5}}}
	getObject := httpClientEndpoint(base, srv.Client(), "GET", object, "", "", func() proto.Message { return new(pb.File) })
	for _, name := range []string{
		"buckets/b/objects/../../../admin/users/root",
		"buckets/b/objects/a/./b",
		"buckets/b/objects/..",
		"buckets/../objects/x",
		"buckets//objects/x",
	} {
		if _, err := getObject(t.Context(), &pb.GetFileRequest{Name: name}); service.CodeOf(err) != service.CodeInvalidArgument {
			t.Errorf("GetObject(%q): err = %v, want INVALID_ARGUMENT", name, err)
		}
	}
	for name, want := range map[string]string{
		"buckets/b/objects/a/b":        "/v1/buckets/b/objects/a/b",
		"buckets/b/objects/a//b":       "/v1/buckets/b/objects/a//b",
		"buckets/b/objects/.../a.b":    "/v1/buckets/b/objects/.../a.b",
		"buckets/b/objects/%2E%2E/%2F": "/v1/buckets/b/objects/%252E%252E/%252F",
	} {
		if _, err := getObject(t.Context(), &pb.GetFileRequest{Name: name}); err != nil {
			t.Errorf("GetObject(%q): %v", name, err)
			continue
		}
		if got := <-sent; got != want {
			t.Errorf("GetObject(%q) sent %s, want %s", name, got, want)
		}
	}
	select {
	case got := <-sent:
		t.Errorf("a refused value was sent: %s", got)
	default:
	}
	// The server takes each of those paths back to the same value.
	fake, files := startFiles(t)
	c, err := NewFilesHTTPClient(files.URL, files.Client())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"folders/1/files/a b", "folders/1/files/%2E%2E", "folders/1/files/..."} {
		if _, err := c.GetFile(t.Context(), &pb.GetFileRequest{Name: name}); err != nil {
			t.Errorf("GetFile(%q): %v", name, err)
		}
	}
	for _, name := range []string{"folders/1/files/..", "folders/./files/1", "folders/1/files/a/b", "folders/1/files/"} {
		if _, err := c.GetFile(t.Context(), &pb.GetFileRequest{Name: name}); service.CodeOf(err) != service.CodeInvalidArgument {
			t.Errorf("GetFile(%q): err = %v, want INVALID_ARGUMENT", name, err)
		}
	}
	if got := fake.Requests(); len(got) != 3 {
		t.Errorf("the service received %v, want the three valid names", got)
	}
}
