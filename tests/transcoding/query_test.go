package transport

// The generated HTTP client and server agree on query parameters of every
// kind: what a client sends is what the service receives. Copied into a
// project generated from tests/transcoding/query.proto by
// tests/transcoding.rs.

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"query/pb"
	"query/pkg/endpoints"
	"query/pkg/service/servicetest"
)

func TestAdversarialQueryRoundTrip(t *testing.T) {
	fake := &servicetest.Echo{}
	srv := httptest.NewServer(recordExchanges(t, NewHTTPHandler(endpoints.NewSet(fake, endpoints.Instrumentation{}))))
	t.Cleanup(srv.Close)
	client, err := NewEchoHTTPClient(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	str := func(v string) *string { return &v }
	attrs, err := structpb.NewStruct(map[string]any{"k": []any{1.0, "x", nil}, "s": "1"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := structpb.NewList([]any{"a", 2.0, "null"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []*pb.Req{
		{Labels: map[string]string{"a": "1", "": "empty key", "k=v&z": "", "ü": "2"}},
		// A key with brackets: "labels[x[y]" was read as field "labels[x"
		// and dropped, "labels[a]b]" is the key "a]b".
		{Labels: map[string]string{"x[y": "1", "a]b": "2", "[]": "3"}},
		{Nums: map[int32]*pb.Inner{-1: {Name: "n", N: 2}, 3: {}}},
		{Tags: []string{"", "a,b", "x", "\x00"}},
		{Inner: &pb.Inner{Name: "n", Inner: &pb.Inner{N: 5}}},
		{At: timestamppb.New(time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC))},
		{Dur: durationpb.New(-1500 * time.Millisecond)},
		{Mask: &fieldmaskpb.FieldMask{Paths: []string{"a.b", "c_d"}}},
		// An empty mask was sent as "mask=" and read as the path "".
		{Mask: &fieldmaskpb.FieldMask{}},
		{Big: wrapperspb.Int64(0)},
		{Big: wrapperspb.Int64(math.MinInt64)},
		// Values travel as their JSON: a list was read as the string
		// "[1,\"x\",null]", the number 1 as the string "1".
		{Value: structpb.NewNullValue()},
		{Value: structpb.NewStringValue("s")},
		{Value: structpb.NewStringValue("1")},
		{Value: structpb.NewStringValue("")},
		{Value: structpb.NewNumberValue(1)},
		{Value: structpb.NewBoolValue(true)},
		{Value: structpb.NewStructValue(attrs)},
		{Value: structpb.NewListValue(list)},
		{Meta: attrs},
		{Meta: &structpb.Struct{}},
		{List: list},
		{Values: map[string]*structpb.Value{"n": structpb.NewNumberValue(2), "s": structpb.NewStringValue("2")}},
		{Choice: &pb.Req_A{A: ""}},
		{Choice: &pb.Req_B{B: 0}},
		{Opt: str("")},
		{Blob: []byte{0xfb, 0xff, 0x00}},
		{D: math.Inf(-1)},
		{D: math.Copysign(0, -1)},
		{D: 1e308},
		{F: 0.1},
		{F: math.MaxFloat32},
		{Inners: []*pb.Inner{{Name: "a"}, {N: 1}}},
	} {
		want.Name = "things/1"
		before := len(fake.Requests())
		if _, err := client.Get(t.Context(), want); err != nil {
			t.Errorf("Get(%v): %v", prototext.Format(want), err)
			continue
		}
		got := fake.Requests()
		if len(got) != before+1 {
			t.Fatalf("the service received %d requests, want 1", len(got)-before)
		}
		if !proto.Equal(got[before], want) {
			t.Errorf("sent %v\nreceived %v", prototext.Format(want), prototext.Format(got[before]))
		}
	}
}

// A query parameter names a field at most 100 levels deep: a deeper one
// built a message nested beyond the 10,000 levels protobuf's decoders
// accept, which the service could not pass on over gRPC.
func TestAdversarialQueryDepthIsBounded(t *testing.T) {
	fake := &servicetest.Echo{}
	srv := httptest.NewServer(recordExchanges(t, NewHTTPHandler(endpoints.NewSet(fake, endpoints.Instrumentation{}))))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		depth  int
		status int
	}{{99, http.StatusOK}, {100, http.StatusBadRequest}, {20000, http.StatusBadRequest}} {
		// depth "inner." prefixes and the field n: depth+1 levels.
		target := srv.URL + "/v1/things/1?" + strings.Repeat("inner.", tc.depth) + "n=1"
		req, err := http.NewRequestWithContext(t.Context(), "GET", target, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%d levels: %d %s, want %d", tc.depth+1, resp.StatusCode, body, tc.status)
		}
	}
	got := fake.Requests()
	if len(got) != 1 {
		t.Fatalf("the service received %d requests, want 1", len(got))
	}
	data, err := proto.Marshal(got[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(data, new(pb.Req)); err != nil {
		t.Errorf("the deepest request accepted does not pass over gRPC: %v", err)
	}
}
