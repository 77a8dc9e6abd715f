package client

import (
{{ imports() }}
)
{%- if let Some(first) = p.first_unary() %}

// fakeInstance serves recording fakes over gRPC on a loopback port.
type fakeInstance struct {
	addr   string
	server *grpc.Server
	fake   *servicetest.{{ first.0.base }}
}

// startInstance serves on addr ("127.0.0.1:0" for any free port).
func startInstance(t *testing.T, addr string) *fakeInstance {
	t.Helper()
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	in := &fakeInstance{addr: listener.Addr().String(), server: grpc.NewServer(), fake: &servicetest.{{ first.0.base }}{}}
{%- for s in p.services %}
{%- if s.full_name == first.0.full_name %}
	{{ s.pb.name }}.Register{{ s.grpc_name }}Server(in.server, transport.New{{ s.base }}GRPCServer(endpoints.New{{ s.endpoints }}(in.fake, endpoints.Instrumentation{})))
{%- else %}
	{{ s.pb.name }}.Register{{ s.grpc_name }}Server(in.server, transport.New{{ s.base }}GRPCServer(endpoints.New{{ s.endpoints }}(&servicetest.{{ s.base }}{}, endpoints.Instrumentation{})))
{%- endif %}
{%- endfor %}
	go in.server.Serve(listener)
	t.Cleanup(in.server.Stop)
	return in
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := listener.Addr().String()
	listener.Close()
	return addr
}

// balancedFor is the balanced {{ first.0.iface }} NewBalanced makes, with the
// first unary method's endpoint made idempotent or not.
func balancedFor(instances []string, opts Options, idempotent bool) service.{{ first.0.iface }} {
	opts = opts.withDefaults()
	all := connectAll(discovery.FixedInstancer(instances), opts)
	set := balanced{{ first.0.base }}(all, newLimiter(opts), opts).(endpoints.{{ first.0.endpoints }})
	set.{{ first.1.field }} = balance(all, newLimiter(opts), opts, idempotent, func(in *instance) endpoint.Endpoint {
		return in.{{ first.0.lower }}.{{ first.1.field }}
	})
	return set
}

func TestBalancedCallsSpreadAcrossInstances(t *testing.T) {
	a, b := startInstance(t, "127.0.0.1:0"), startInstance(t, "127.0.0.1:0")
	svc := balancedFor([]string{a.addr, b.addr}, Options{BreakerFailures: 100}, false)
	for i := 0; i < 10; i++ {
		if _, err := svc.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if len(a.fake.Requests()) == 0 || len(b.fake.Requests()) == 0 {
		t.Fatalf("calls went %d to one instance and %d to the other", len(a.fake.Requests()), len(b.fake.Requests()))
	}
}

func TestOnlyIdempotentCallsAreRetriedOnAnotherInstance(t *testing.T) {
	a, b := startInstance(t, "127.0.0.1:0"), startInstance(t, "127.0.0.1:0")
	a.fake.Err = service.Errorf(service.CodeUnavailable, "overloaded")
	b.fake.Err = service.Errorf(service.CodeUnavailable, "overloaded")
	// Not idempotent: each call reaches one instance, once.
	svc := balancedFor([]string{a.addr, b.addr}, Options{BreakerFailures: 100}, false)
	for i := 0; i < 4; i++ {
		if _, err := svc.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }}); service.CodeOf(err) != service.CodeUnavailable {
			t.Fatalf("call %d: err = %v, want UNAVAILABLE", i, err)
		}
	}
	if n := len(a.fake.Requests()) + len(b.fake.Requests()); n != 4 {
		t.Fatalf("4 calls of a method that is not idempotent reached instances %d times", n)
	}
	// Idempotent: retried on the other instance, which now answers.
	b.fake.Err = nil
	svc = balancedFor([]string{a.addr, b.addr}, Options{BreakerFailures: 100}, true)
	for i := 0; i < 4; i++ {
		if _, err := svc.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }}); err != nil {
			t.Fatalf("idempotent call %d: %v", i, err)
		}
	}
}

func TestTheBreakerOpensWhileAnInstanceIsDownAndClosesWhenItReturns(t *testing.T) {
	addr := freeAddr(t)
	svc := balancedFor([]string{addr}, Options{Retries: 1, BreakerFailures: 2, BreakerCooldown: 200 * time.Millisecond}, false)
	call := func() error {
		_, err := svc.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }})
		return err
	}
	// Every call to the dead instance is UNAVAILABLE. Until the client's
	// endpointer has its first instances (it fills them asynchronously) a
	// call finds no instance at all; after two failures that reach the
	// instance its breaker opens and answers without dialling.
	failures := 0
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := call()
		if service.CodeOf(err) != service.CodeUnavailable {
			t.Fatalf("a call to a dead instance: err = %v, want UNAVAILABLE", err)
		}
		message := service.MessageOf(err)
		if strings.Contains(message, "circuit breaker open") {
			if failures < 2 {
				t.Fatalf("the breaker opened after %d failures, want 2", failures)
			}
			break
		}
		if strings.Contains(message, "is available") {
			time.Sleep(10 * time.Millisecond)
		} else {
			failures++
		}
		if time.Now().After(deadline) {
			t.Fatalf("the breaker never opened (%d failures reached the instance)", failures)
		}
	}
	startInstance(t, addr)
	// The breaker lets a trial call through after its cooldown; gRPC's own
	// reconnect backoff may fail the first few, so poll for a bounded time.
	deadline = time.Now().Add(10 * time.Second)
	for err := call(); err != nil; err = call() {
		if time.Now().After(deadline) {
			t.Fatalf("after the instance returned: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestCallerMistakesDoNotOpenTheBreaker(t *testing.T) {
	in := startInstance(t, "127.0.0.1:0")
	in.fake.Err = service.Errorf(service.CodeInvalidArgument, "bad request")
	svc := balancedFor([]string{in.addr}, Options{BreakerFailures: 1}, false)
	for i := 0; i < 3; i++ {
		if _, err := svc.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }}); service.CodeOf(err) != service.CodeInvalidArgument {
			t.Fatalf("call %d: err = %v, want INVALID_ARGUMENT", i, err)
		}
	}
}

func TestTheClientRateLimitWaitsItsTurn(t *testing.T) {
	in := startInstance(t, "127.0.0.1:0")
	svc := balancedFor([]string{in.addr}, Options{RateLimit: 20}, false)
	start := time.Now()
	for i := 0; i < 3; i++ {
		if _, err := svc.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if took := time.Since(start); took < 90*time.Millisecond {
		t.Errorf("3 calls at 20 a second took %v, want at least 100ms", took)
	}
	// A call whose deadline ends before its turn fails at once, unsent.
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	svc.{{ first.1.name }}(t.Context(), {{ first.1.sample_input }})
	if _, err := svc.{{ first.1.name }}(ctx, {{ first.1.sample_input }}); service.CodeOf(err) != service.CodeResourceExhausted {
		t.Fatalf("err = %v, want RESOURCE_EXHAUSTED", err)
	}
	if n := len(in.fake.Requests()); n != 4 {
		t.Errorf("the instance received %d requests, want 4", n)
	}
}
{%- endif %}
