package transport

import (
{{ imports() }}
)

// fakes holds one recording fake per service.
type fakes struct {
{%- for s in p.services %}
	{{ pad(s.lower.clone(), p.pad_service_lower) }} *servicetest.{{ s.base }}
{%- endfor %}
}

func newFakes() fakes {
	return fakes{
{%- for s in p.services %}
		{{ pad(s.lower.clone() + ":", p.pad_service_lower + 1) }} &servicetest.{{ s.base }}{},
{%- endfor %}
	}
}

// startHTTP serves the fakes over HTTP on a loopback port.
func startHTTP(t *testing.T, f fakes) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewHTTPHandler({{ p.test_http_handler_args() }}))
	t.Cleanup(srv.Close)
	return srv
}

// startGRPC serves the fakes over an in-memory gRPC connection.
func startGRPC(t *testing.T, f fakes) *grpc.ClientConn {
	t.Helper()
	return startGRPCWith(t, {% for s in p.services %}f.{{ s.lower }}, {% endfor %}endpoints.Instrumentation{})
}

// startGRPCWith serves the given services through the middleware of in,
// from a server built with opts.
func startGRPCWith(t *testing.T, {% for s in p.services %}{{ s.lower }} service.{{ s.iface }}, {% endfor %}in endpoints.Instrumentation, opts ...grpc.ServerOption) *grpc.ClientConn {
	t.Helper()
	listener := bufconn.Listen(1 << 20)
	server := grpc.NewServer(opts...)
{%- for s in p.services %}
	{{ s.pb.name }}.Register{{ s.grpc_name }}Server(server, New{{ s.base }}GRPCServer(endpoints.New{{ s.endpoints }}({{ s.lower }}, in)))
{%- endfor %}
	go server.Serve(listener)
	t.Cleanup(server.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return listener.DialContext(ctx)
		}),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// messages returns a recv function that yields msgs, then io.EOF.
func messages[M any](msgs ...M) func() (M, error) {
	return func() (M, error) {
		var zero M
		if len(msgs) == 0 {
			return zero, io.EOF
		}
		msg := msgs[0]
		msgs = msgs[1:]
		return msg, nil
	}
}

// checkReceived fails unless the fake received exactly want.
func checkReceived(t *testing.T, got []proto.Message, want ...proto.Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("server received %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("server received %v, want %v", got[i], want[i])
		}
	}
}
{%- for s in p.services %}
{%- for m in s.methods %}
{%- if m.is_unary() %}

func TestHTTP{{ s.base }}{{ m.name }}(t *testing.T) {
	f := newFakes()
	want := {{ m.sample_output }}
	f.{{ s.lower }}.Responses = map[string]proto.Message{"{{ m.name }}": want}
	srv := startHTTP(t, f)
	c, err := New{{ s.base }}HTTPClient(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	req := {{ m.sample_input }}
	resp, err := c.{{ m.name }}(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
{%- if m.first_route().response_body.is_empty() %}
	if !proto.Equal(resp, want) {
		t.Errorf("response = %v, want %v", resp, want)
	}
{%- else %}
	if resp == nil {
		t.Error("no response")
	}
{%- endif %}
	checkReceived(t, f.{{ s.lower }}.Requests(), req)
}
{%- endif %}

func TestGRPC{{ s.base }}{{ m.name }}(t *testing.T) {
	f := newFakes()
	want := {{ m.sample_output }}
	f.{{ s.lower }}.Responses = map[string]proto.Message{"{{ m.name }}": want}
	c := New{{ s.base }}GRPCClient(startGRPC(t, f))
	req := {{ m.sample_input }}
{%- if m.is_unary() %}
	resp, err := c.{{ m.name }}(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(resp, want) {
		t.Errorf("response = %v, want %v", resp, want)
	}
	checkReceived(t, f.{{ s.lower }}.Requests(), req)
{%- else if m.is_server_streaming() %}
	var got []*{{ m.output }}
	err := c.{{ m.name }}(t.Context(), req, func(resp *{{ m.output }}) error {
		got = append(got, resp)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !proto.Equal(got[0], want) || !proto.Equal(got[1], want) {
		t.Errorf("responses = %v, want [%v %v]", got, want, want)
	}
	checkReceived(t, f.{{ s.lower }}.Requests(), req)
{%- else if m.is_client_streaming() %}
	resp, err := c.{{ m.name }}(t.Context(), messages(req, req))
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(resp, want) {
		t.Errorf("response = %v, want %v", resp, want)
	}
	checkReceived(t, f.{{ s.lower }}.Requests(), req, req)
{%- else %}
	var got []*{{ m.output }}
	err := c.{{ m.name }}(t.Context(), messages(req, req), func(resp *{{ m.output }}) error {
		got = append(got, resp)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !proto.Equal(got[0], want) || !proto.Equal(got[1], want) {
		t.Errorf("responses = %v, want [%v %v]", got, want, want)
	}
	checkReceived(t, f.{{ s.lower }}.Requests(), req, req)
{%- endif %}
}
{%- endfor %}
{%- endfor %}

func TestGRPCUnknownMethodsAreRefusedAndReported(t *testing.T) {
	refused := make(chan error, 2)
	f := newFakes()
	conn := startGRPCWith(t, {% for s in p.services %}f.{{ s.lower }}, {% endfor %}endpoints.Instrumentation{}, GRPCErrorHandler(func(_ context.Context, err error) {
		refused <- err
	}))
{%- for s in p.services %}
{%- if loop.first %}
	for _, method := range []string{"/no.such.Service/Check", "/{{ s.full_name }}/NoSuchMethod"} {
{%- endif %}
{%- endfor %}
		err := conn.Invoke(t.Context(), method, &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("%s: err = %v, want UNIMPLEMENTED", method, err)
		}
		select {
		case err := <-refused:
			if service.CodeOf(err) != service.CodeUnimplemented || service.MessageOf(err) != "unknown method "+method {
				t.Errorf("%s: refused with %v, want UNIMPLEMENTED: unknown method %s", method, err, method)
			}
		default:
			t.Errorf("%s: the refusal was not reported", method)
		}
	}
}
{%- if let Some(first) = p.first_unary() %}

func TestHTTPErrorStatusAndBody(t *testing.T) {
	f := newFakes()
	f.{{ first.0.lower }}.Err = service.Errorf(service.CodeUnimplemented, "not yet")
	srv := startHTTP(t, f)
	req := {{ first.1.sample_input }}
	path, _, err := {{ first.1.first_route().pattern }}.expand(req.ProtoReflect())
	if err != nil {
		t.Fatal(err)
	}
	var body io.Reader
{%- if first.1.first_route().has_body() %}
	body = strings.NewReader("{}")
{%- endif %}
	httpReq, err := http.NewRequestWithContext(t.Context(), {{ quote(first.1.first_route().verb) }}, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(httpReq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented {
		t.Errorf("status = %d, want 501", resp.StatusCode)
	}
	var got httpErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Error.Status != "UNIMPLEMENTED" || got.Error.Message != "not yet" || got.Error.Code != 501 {
		t.Errorf("body = %+v", got.Error)
	}
}

func TestHTTPUnknownRouteIsNotFound(t *testing.T) {
	srv := startHTTP(t, newFakes())
	resp, err := srv.Client().Get(srv.URL + "/no/such/route")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d, want 404", resp.StatusCode)
	}
}

func TestGRPCStatusCarriesTheCode(t *testing.T) {
	err := grpcError(service.Errorf(service.CodeResourceExhausted, "slow down"))
	back := fromGRPCError(err)
	if service.CodeOf(back) != service.CodeResourceExhausted || service.MessageOf(back) != "slow down" {
		t.Errorf("round trip = %v", back)
	}
	if grpcError(nil) != nil || fromGRPCError(nil) != nil {
		t.Error("nil must stay nil")
	}
}

func TestErrorsWrapTheirCause(t *testing.T) {
	err := service.Errorf(service.CodeUnavailable, "reading shelf: %w", io.ErrUnexpectedEOF)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("errors.Is(%v, io.ErrUnexpectedEOF) = false", err)
	}
	if e, ok := errors.AsType[*service.Error](fmt.Errorf("calling: %w", err)); !ok || e.Code != service.CodeUnavailable {
		t.Errorf("errors.As through a wrapper = %v, %v", e, ok)
	}
}

func TestErrorsCrossBothTransports(t *testing.T) {
	info := &errdetails.ErrorInfo{Reason: "QUOTA_EXCEEDED", Domain: "example.com", Metadata: map[string]string{"limit": "10"}}
	tests := []struct {
		name string
		// err is what the service returns; want checks what the caller got.
		err  error
		want func(t *testing.T, transport string, err error)
	}{
		{
			name: "the code and message are kept",
			err:  service.Errorf(service.CodeNotFound, "no such thing"),
			want: func(t *testing.T, transport string, err error) {
				if service.CodeOf(err) != service.CodeNotFound || service.MessageOf(err) != "no such thing" {
					t.Errorf("%s: err = %v, want NOT_FOUND: no such thing", transport, err)
				}
			},
		},
		{
			name: "details are kept",
			err:  service.Errorf(service.CodeFailedPrecondition, "over quota").WithDetails(info),
			want: func(t *testing.T, transport string, err error) {
				e, ok := errors.AsType[*service.RemoteError](err)
				if !ok || e.Code != service.CodeFailedPrecondition || e.Message != "over quota" {
					t.Fatalf("%s: err = %v, want FAILED_PRECONDITION: over quota", transport, err)
				}
				if len(e.Details) != 1 || !proto.Equal(e.Details[0], info) {
					t.Errorf("%s: details = %v, want [%v]", transport, e.Details, info)
				}
			},
		},
		{
			name: "an internal error is hidden",
			err:  fmt.Errorf("loading: %w", errors.New("pq: password authentication failed for user app at 10.0.0.5:5432")),
			want: func(t *testing.T, transport string, err error) {
				if service.CodeOf(err) != service.CodeInternal || service.MessageOf(err) != "internal error" || strings.Contains(err.Error(), "10.0.0.5") {
					t.Errorf("%s: err = %v, want INTERNAL: internal error and nothing more", transport, err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakes()
			f.{{ first.0.lower }}.Err = tt.err
			httpClient, err := New{{ first.0.base }}HTTPClient(startHTTP(t, f).URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			clients := map[string]service.{{ first.0.iface }}{
				"HTTP": httpClient,
				"gRPC": New{{ first.0.base }}GRPCClient(startGRPC(t, f)),
			}
			for transport, c := range clients {
				_, err := c.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }})
				tt.want(t, transport, err)
			}
		})
	}
}

// A service that calls another and returns the error it got does not pass
// the other's words on: its callers see INTERNAL "internal error", unless
// it passes the error through on purpose.
func TestRemoteErrorsAreNotPassedOn(t *testing.T) {
	// A downstream behind a proxy that answers an HTML page, and one whose
	// own error names an address.
	htmlProxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html>upstream 10.0.0.7:8080 refused the connection</html>")
	}))
	t.Cleanup(htmlProxy.Close)
	behindProxy, err := New{{ first.0.base }}HTTPClient(htmlProxy.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	downFakes := newFakes()
	downFakes.{{ first.0.lower }}.Err = service.Errorf(service.CodeUnavailable, "dial tcp 10.0.0.7:5432: connection refused")
	downstreams := map[string]service.{{ first.0.iface }}{
		"HTTP": behindProxy,
		"gRPC": New{{ first.0.base }}GRPCClient(startGRPC(t, downFakes)),
	}
	for name, downstream := range downstreams {
		_, remoteErr := downstream.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }})
		remote, ok := errors.AsType[*service.RemoteError](remoteErr)
		if !ok || !strings.Contains(remote.Message, "10.0.0.7") {
			t.Fatalf("%s downstream: err = %v, want a *service.RemoteError saying what it said", name, remoteErr)
		}
		if public := service.Public(remoteErr); public.Code != service.CodeInternal || public.Message != "internal error" {
			t.Errorf("%s downstream: Public = %v, want INTERNAL: internal error", name, public)
		}
		f := newFakes()
		f.{{ first.0.lower }}.Err = fmt.Errorf("asking the downstream: %w", remoteErr)
		httpClient, err := New{{ first.0.base }}HTTPClient(startHTTP(t, f).URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		clients := map[string]service.{{ first.0.iface }}{
			"HTTP": httpClient,
			"gRPC": New{{ first.0.base }}GRPCClient(startGRPC(t, f)),
		}
		for over, c := range clients {
			_, err := c.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }})
			if service.CodeOf(err) != service.CodeInternal || service.MessageOf(err) != "internal error" || strings.Contains(err.Error(), "10.0.0.7") {
				t.Errorf("%s downstream, over %s: err = %v, want INTERNAL: internal error and nothing more", name, over, err)
			}
		}
		// Passed through on purpose, the remote's code and message go on.
		f.{{ first.0.lower }}.Err = remote.PassThrough()
		_, err = clients["gRPC"].{{ first.1.name }}(t.Context(), {{ first.1.sample_input }})
		if service.CodeOf(err) != remote.Code || service.MessageOf(err) != remote.Message {
			t.Errorf("%s downstream, passed through: err = %v, want %v", name, err, remote)
		}
	}
}
{%- endif %}
{%- if let Some(stream) = p.first_stream() %}

// panicking{{ stream.0.base }} panics in {{ stream.1.name }} after noting the
// credentials it was called with.
type panicking{{ stream.0.base }} struct {
	*servicetest.{{ stream.0.base }}
	credentials chan string
}

func (p panicking{{ stream.0.base }}) {{ stream.1.name }}{{ stream.1.signature() }} {
	p.credentials <- endpoints.Credentials(ctx)
	panic("boom")
}

// call{{ stream.1.name }} calls the streaming {{ stream.1.name }} with one message.
func call{{ stream.1.name }}(ctx context.Context, c service.{{ stream.0.iface }}) error {
	req := {{ stream.1.sample_input }}
{%- if stream.1.is_server_streaming() %}
	return c.{{ stream.1.name }}(ctx, req, func(*{{ stream.1.output }}) error { return nil })
{%- else if stream.1.is_client_streaming() %}
	_, err := c.{{ stream.1.name }}(ctx, messages(req))
	return err
{%- else %}
	return c.{{ stream.1.name }}(ctx, messages(req), func(*{{ stream.1.output }}) error { return nil })
{%- endif %}
}

func TestStreamsPassTheMiddleware(t *testing.T) {
	f := newFakes()
	p := panicking{{ stream.0.base }}{ {{- stream.0.base }}: f.{{ stream.0.lower }}, credentials: make(chan string, 2)}
	refused := make(chan string, 1)
	in := endpoints.Instrumentation{Authenticate: func(ctx context.Context, method string) (context.Context, error) {
		if endpoints.Credentials(ctx) != "Bearer good" {
			refused <- method
			return ctx, errors.New("a valid token is required")
		}
		return ctx, nil
	}}
	conn := startGRPCWith(t, {% for s in p.services %}{% if s.lower == stream.0.lower %}p{% else %}f.{{ s.lower }}{% endif %}, {% endfor %}in)
	c := New{{ stream.0.base }}GRPCClient(conn)

	err := call{{ stream.1.name }}(endpoints.ContextWithCredentials(t.Context(), "Bearer bad"), c)
	if service.CodeOf(err) != service.CodeUnauthenticated {
		t.Fatalf("without credentials: err = %v, want UNAUTHENTICATED", err)
	}
	if method := <-refused; method != "{{ stream.1.label }}" {
		t.Errorf("refused method %q, want {{ stream.1.label }}", method)
	}
	// A panic in a streaming method answers INTERNAL; the server carries on.
	for i := 0; i < 2; i++ {
		err = call{{ stream.1.name }}(endpoints.ContextWithCredentials(t.Context(), "Bearer good"), c)
		if service.CodeOf(err) != service.CodeInternal || service.MessageOf(err) != "internal error" {
			t.Fatalf("call %d: err = %v, want INTERNAL: internal error", i, err)
		}
		if got := <-p.credentials; got != "Bearer good" {
			t.Errorf("call %d: the service saw credentials %q, want the caller's", i, got)
		}
	}
}
{%- endif %}
{%- for s in p.services %}
{%- for m in s.methods %}
{%- if m.is_server_streaming() && !m.routes.is_empty() %}

func TestHTTP{{ s.base }}{{ m.name }}StreamsNewlineDelimitedJSON(t *testing.T) {
	f := newFakes()
	want := {{ m.sample_output }}
	f.{{ s.lower }}.Responses = map[string]proto.Message{"{{ m.name }}": want}
	srv := startHTTP(t, f)
	req := {{ m.sample_input }}
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	httpReq, err := http.NewRequestWithContext(t.Context(), {{ quote(m.first_route().verb) }}, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := fillHTTPRequest(httpReq, base, {{ m.first_route().pattern }}, {{ quote(m.first_route().body) }}, req); err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(httpReq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The fake sends its response twice.
	dec := json.NewDecoder(resp.Body)
	for i := 0; i < 2; i++ {
		var line struct{ Result json.RawMessage }
		if err := dec.Decode(&line); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		got := new({{ m.output }})
		if err := protojson.Unmarshal(line.Result, got); err != nil || !proto.Equal(got, want) {
			t.Errorf("line %d = %s, want %v (%v)", i, line.Result, want, err)
		}
	}
	if dec.More() {
		t.Error("more than two lines")
	}
	checkReceived(t, f.{{ s.lower }}.Requests(), req)
}
{%- endif %}
{%- endfor %}
{%- endfor %}
