package endpoints

import (
{{ imports() }}
)
{%- for s in p.services %}
{%- for m in s.unary_methods() %}

func Test{{ s.base }}{{ m.name }}Endpoint(t *testing.T) {
	want := {{ m.sample_output }}
	fake := &servicetest.{{ s.base }}{Responses: map[string]proto.Message{"{{ m.name }}": want}}
	e := New{{ s.endpoints }}(fake, Instrumentation{})
	req := {{ m.sample_input }}
	resp, err := e.{{ m.name }}(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(resp, want) {
		t.Errorf("response = %v, want %v", resp, want)
	}
	if got := fake.Requests(); len(got) != 1 || !proto.Equal(got[0], req) {
		t.Errorf("service received %v, want [%v]", got, req)
	}
}
{%- endfor %}
{%- endfor %}
{%- if let Some(first) = p.first_unary() %}

func TestEndpointErrorKeepsItsCode(t *testing.T) {
	fake := &servicetest.{{ first.0.base }}{Err: service.Errorf(service.CodeNotFound, "no such thing")}
	e := New{{ first.0.endpoints }}(fake, Instrumentation{})
	_, err := e.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }})
	if service.CodeOf(err) != service.CodeNotFound || service.MessageOf(err) != "no such thing" {
		t.Errorf("err = %v, want NOT_FOUND: no such thing", err)
	}
}

func TestRateLimitAnswersResourceExhausted(t *testing.T) {
	fake := &servicetest.{{ first.0.base }}{}
	e := New{{ first.0.endpoints }}(fake, Instrumentation{RateLimits: EachMethod(rate.Every(time.Hour), 1)})
	if _, err := e.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }}); err != nil {
		t.Fatalf("first request: %v", err)
	}
	_, err := e.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }})
	if code := service.CodeOf(err); code != service.CodeResourceExhausted {
		t.Errorf("code over the limit = %v, want RESOURCE_EXHAUSTED", code)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("service received %d requests, want 1", n)
	}
}

func TestRateLimitAppliesAfterAuthentication(t *testing.T) {
	fake := &servicetest.{{ first.0.base }}{}
	e := New{{ first.0.endpoints }}(fake, Instrumentation{
		RateLimits: EachMethod(rate.Every(time.Hour), 1),
		Authenticate: func(ctx context.Context, method string) (context.Context, error) {
			if Credentials(ctx) != "Bearer good" {
				return ctx, errors.New("a valid token is required")
			}
			return ctx, nil
		},
	})
	// Refused callers use up nothing of the limit.
	for range 3 {
		if _, err := e.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }}); service.CodeOf(err) != service.CodeUnauthenticated {
			t.Fatalf("anonymous: err = %v, want UNAUTHENTICATED", err)
		}
	}
	ctx := ContextWithCredentials(t.Context(), "Bearer good")
	if _, err := e.{{ first.1.name }}(ctx, {{ first.1.sample_input }}); err != nil {
		t.Fatalf("authenticated: %v", err)
	}
}

func TestMetricsCountRequestsByMethodAndCode(t *testing.T) {
	registry := prometheus.NewRegistry()
	fake := &servicetest.{{ first.0.base }}{}
	e := New{{ first.0.endpoints }}(fake, Instrumentation{Metrics: NewMetrics(registry, "test")})
	for range 2 {
		if _, err := e.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }}); err != nil {
			t.Fatal(err)
		}
	}
	fake.Err = service.Errorf(service.CodeInvalidArgument, "bad")
	if _, err := e.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }}); err == nil {
		t.Fatal("want an error")
	}
	counts := counters(t, registry, "test_requests_total", "method", "code")
	if counts["{{ first.1.label }} OK"] != 2 || counts["{{ first.1.label }} INVALID_ARGUMENT"] != 1 {
		t.Errorf("requests_total = %v, want 2 OK and 1 INVALID_ARGUMENT", counts)
	}
}

func TestTransportErrorsAreCountedByTransportAndCode(t *testing.T) {
	registry := prometheus.NewRegistry()
	in := Instrumentation{Metrics: NewMetrics(registry, "test")}
	in.TransportError("HTTP")(t.Context(), service.Errorf(service.CodeNotFound, "no route matches GET /"))
	for range 2 {
		in.TransportError("gRPC")(t.Context(), service.Errorf(service.CodeUnimplemented, "unknown method /no.such.Service/Check"))
	}
	counts := counters(t, registry, "test_transport_errors_total", "transport", "code")
	if len(counts) != 2 || counts["HTTP NOT_FOUND"] != 1 || counts["gRPC UNIMPLEMENTED"] != 2 {
		t.Errorf("transport_errors_total = %v, want 1 HTTP NOT_FOUND and 2 gRPC UNIMPLEMENTED", counts)
	}
}

// counters returns the values of the counter family name in registry, by
// the values of its two labels a and b, space-separated.
func counters(t *testing.T, registry *prometheus.Registry, name, a, b string) map[string]float64 {
	t.Helper()
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	for _, family := range families {
		if family.GetName() != name {
			continue
		}
		for _, metric := range family.GetMetric() {
			labels := map[string]string{}
			for _, label := range metric.GetLabel() {
				labels[label.GetName()] = label.GetValue()
			}
			counts[labels[a]+" "+labels[b]] = metric.GetCounter().GetValue()
		}
	}
	return counts
}

func TestRecoveryTurnsPanicsIntoInternalErrors(t *testing.T) {
	e := RecoveryMiddleware(nil)(func(context.Context, any) (any, error) {
		panic("boom")
	})
	if _, err := e(t.Context(), nil); service.CodeOf(err) != service.CodeInternal || service.MessageOf(err) != "internal error" {
		t.Errorf("err = %v, want INTERNAL: internal error", err)
	}
}

func TestTimeoutAnswersDeadlineExceeded(t *testing.T) {
	e := TimeoutMiddleware(10 * time.Millisecond)(func(ctx context.Context, _ any) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	_, err := e(t.Context(), nil)
	if service.CodeOf(err) != service.CodeDeadlineExceeded || service.MessageOf(err) != "the request took longer than the server's limit of 10ms" {
		t.Errorf("err = %v, want DEADLINE_EXCEEDED for the server's limit", err)
	}
	// The caller's own, shorter deadline is named as such.
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	e = TimeoutMiddleware(time.Hour)(func(ctx context.Context, _ any) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	_, err = e(ctx, nil)
	if service.CodeOf(err) != service.CodeDeadlineExceeded || service.MessageOf(err) != "the caller's deadline expired" {
		t.Errorf("err = %v, want DEADLINE_EXCEEDED for the caller's deadline", err)
	}
}

func TestAuthenticationRefusesWithUnauthenticated(t *testing.T) {
	type callerKey struct{}
	var seen []any
	fake := &servicetest.{{ first.0.base }}{}
	refusal := errors.New("token abc123 is unknown to keys.internal:8443")
	e := New{{ first.0.endpoints }}(fake, Instrumentation{
		Authenticate: func(ctx context.Context, method string) (context.Context, error) {
			switch Credentials(ctx) {
			case "Bearer good":
				return context.WithValue(ctx, callerKey{}, "good"), nil
			case "Bearer other":
				return ctx, service.Errorf(service.CodePermissionDenied, "not yours")
			}
			return ctx, refusal
		},
		// The service sees the context Authenticate returned.
		Middleware: []endpoint.Middleware{func(next endpoint.Endpoint) endpoint.Endpoint {
			return func(ctx context.Context, request any) (any, error) {
				seen = append(seen, ctx.Value(callerKey{}))
				return next(ctx, request)
			}
		}},
	})
	// A plain error's text is kept for the log, never sent.
	_, err := e.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }})
	if service.CodeOf(err) != service.CodeUnauthenticated || service.MessageOf(err) != "the request is not authenticated" || !errors.Is(err, refusal) {
		t.Errorf("without credentials: err = %v, want UNAUTHENTICATED: the request is not authenticated, caused by the refusal", err)
	}
	// A service error answers as it is.
	_, err = e.{{ first.1.name }}(ContextWithCredentials(t.Context(), "Bearer other"), {{ first.1.sample_input }})
	if service.CodeOf(err) != service.CodePermissionDenied || service.MessageOf(err) != "not yours" {
		t.Errorf("another's credentials: err = %v, want PERMISSION_DENIED: not yours", err)
	}
	ctx := ContextWithCredentials(t.Context(), "Bearer good")
	if _, err := e.{{ first.1.name }}(ctx, {{ first.1.sample_input }}); err != nil {
		t.Errorf("with credentials: %v", err)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("service received %d requests, want 1", n)
	}
	if len(seen) != 1 || seen[0] != "good" {
		t.Errorf("the service saw callers %v, want [good]", seen)
	}
}

func TestTracingRecordsASpanPerRequest(t *testing.T) {
	recorder := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	fake := &servicetest.{{ first.0.base }}{Err: service.Errorf(service.CodeNotFound, "missing")}
	e := New{{ first.0.endpoints }}(fake, Instrumentation{Tracer: provider.Tracer("test")})
	e.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }})
	spans := recorder.Ended()
	if len(spans) != 1 || spans[0].Name() != "{{ first.1.label }}" || spans[0].Status().Description != "NOT_FOUND" {
		t.Fatalf("spans = %v, want one {{ first.1.label }} span with status NOT_FOUND", spans)
	}
	for _, attr := range spans[0].Attributes() {
		if attr.Key == "rpc.grpc.status_code" {
			t.Errorf("a request that did not come over gRPC has %v", attr)
		}
	}
}

func TestLoggingIsLeveled(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fake := &servicetest.{{ first.0.base }}{}
	e := New{{ first.0.endpoints }}(fake, Instrumentation{Logger: logger})
	if _, err := e.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("a request logged at info level: %s", buf.String())
	}
	fake.Err = errors.New("disk on fire")
	e.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }})
	if !strings.Contains(buf.String(), "level=ERROR") || !strings.Contains(buf.String(), "disk on fire") {
		t.Errorf("a server fault is logged at error level with its cause; got %q", buf.String())
	}
}
{%- endif %}
