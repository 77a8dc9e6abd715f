package client

import (
{{ imports() }}
)

// Options tune a load-balanced Client; the zero value gives the defaults.
type Options struct {
	// Retries is how many instances a call may try (default 3). Only
	// idempotent methods (a GET rule, or an idempotency_level) are retried
	// after an instance failed them; any call is retried when no instance
	// was there to take it: none yet, no connection, or its breaker open.
	Retries int
	// Timeout bounds a call with all its retries (default 10s).
	Timeout time.Duration
	// BreakerFailures is how many failures in a row open an instance's
	// circuit breaker (default 5); BreakerCooldown is how long it stays
	// open before a trial call (default 10s).
	BreakerFailures uint32
	BreakerCooldown time.Duration
	// RateLimit caps this client's calls per second (0: no cap). A call
	// over it waits its turn, within its context's deadline; one that
	// cannot have it in time fails with RESOURCE_EXHAUSTED at once.
	RateLimit float64
	// Logger logs what discovery reports; nil logs nothing.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Retries <= 0 {
		o.Retries = 3
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.BreakerFailures == 0 {
		o.BreakerFailures = 5
	}
	if o.BreakerCooldown <= 0 {
		o.BreakerCooldown = 10 * time.Second
	}
	return o
}

// Discovery says where to find instances of {{ p.name }}: one of {% if p.discovery.etcd %}an etcd
// cluster, {% endif %}{% if p.discovery.consul %}a Consul agent, {% endif %}a DNS SRV name (such as a Kubernetes headless
// Service) or a fixed list of gRPC addresses.
type Discovery struct {
{%- if p.discovery.etcd %}
	{{ pad("EtcdAddrs", p.discovery.field_width()) }} []string
{%- endif %}
{%- if p.discovery.consul %}
	ConsulAddr string
{%- endif %}
	{{ pad("DNSSRV", p.discovery.field_width()) }} string
	{{ pad("Instances", p.discovery.field_width()) }} []string
}

// Instancer follows the instances of {{ p.name }} that d points at.
func Instancer(ctx context.Context, d Discovery, logger *slog.Logger) (sd.Instancer, error) {
	switch {
{%- if p.discovery.etcd %}
	case len(d.EtcdAddrs) > 0:
		return discovery.EtcdInstancer(ctx, d.EtcdAddrs, logger)
{%- endif %}
{%- if p.discovery.consul %}
	case d.ConsulAddr != "":
		return discovery.ConsulInstancer(d.ConsulAddr, logger)
{%- endif %}
	case d.DNSSRV != "":
		return discovery.DNSSRVInstancer(d.DNSSRV, logger), nil
	case len(d.Instances) > 0:
		return discovery.FixedInstancer(d.Instances), nil
	default:
		return nil, errors.New("no discovery given: name {% if p.discovery.etcd %}etcd, {% endif %}{% if p.discovery.consul %}Consul, {% endif %}a DNS SRV record or instances")
	}
}

// NewBalanced returns a Client that spreads calls round robin across the
// instances instancer reports, over one connection per instance. A call
// that fails because an instance is unavailable is retried on another when
// its method is idempotent; each instance sits behind its own circuit
// breaker. Streaming calls go to one instance each, round robin. The
// instancer must send each subscriber its own copy of the instances
// (sd.FixedInstancer does not: use discovery.FixedInstancer).
func NewBalanced(instancer sd.Instancer, opts Options) *Client {
	opts = opts.withDefaults()
	instances := connectAll(instancer, opts)
	limiter := newLimiter(opts)
	return &Client{
{%- for s in p.services %}
		{{ pad(s.lower.clone() + ":", p.pad_service_lower + 1) }} balanced{{ s.base }}(instances, limiter, opts),
{%- endfor %}
	}
}

// instance is one instance of {{ p.name }}: its connection, and the endpoints
// of each service over it, each unary one behind the instance's breaker.
type instance struct {
	{{ pad("conn", p.pad_service_lower.max(4)) }} *grpc.ClientConn
{%- for s in p.services %}
	{{ pad(s.lower.clone(), p.pad_service_lower.max(4)) }} endpoints.{{ s.endpoints }}
{%- endfor %}
}

// connectAll follows the instances instancer reports, dialling each once
// as it appears and closing its connection when it goes.
func connectAll(instancer sd.Instancer, opts Options) sd.Endpointer {
	return sd.NewEndpointer(instancer, func(addr string) (endpoint.Endpoint, io.Closer, error) {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, nil, err
		}
		in := &instance{conn: conn}
{%- if p.has_unary() %}
		trip := breaker(addr, opts)
{%- endif %}
{%- for s in p.services %}
		in.{{ s.lower }} = transport.New{{ s.base }}GRPCEndpoints(conn)
{%- for m in s.unary_methods() %}
		in.{{ s.lower }}.{{ m.field }} = trip(whenConnected(conn, in.{{ s.lower }}.{{ m.field }}))
{%- endfor %}
{%- endfor %}
		return func(context.Context, any) (any, error) { return in, nil }, conn, nil
	}, discovery.KitLogger(opts.Logger))
}
{%- for s in p.services %}

func balanced{{ s.base }}(instances sd.Endpointer, limiter *rate.Limiter, opts Options) service.{{ s.iface }} {
	var set endpoints.{{ s.endpoints }}
{%- for m in s.unary_methods() %}
	set.{{ m.field }} = balance(instances, limiter, opts, {{ m.idempotent }}, func(in *instance) endpoint.Endpoint {
		return in.{{ s.lower }}.{{ m.field }}
	})
{%- endfor %}
{%- if s.has_streams() %}
	balancer := lb.NewRoundRobin(instances)
{%- for m in s.stream_methods() %}
	set.{{ m.field }} = func{{ m.signature() }} {
		in, err := pick(ctx, balancer, limiter)
		if err != nil {
{%- if m.is_client_streaming() %}
			return nil, err
{%- else %}
			return err
{%- endif %}
		}
		return in.{{ s.lower }}.{{ m.field }}({{ m.call_args() }})
	}
{%- endfor %}
{%- endif %}
	return set
}
{%- endfor %}

func newLimiter(opts Options) *rate.Limiter {
	if opts.RateLimit <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(opts.RateLimit), 1)
}

// wait waits for the limiter's permission, if there is a limiter.
func wait(ctx context.Context, limiter *rate.Limiter) error {
	if limiter == nil {
		return nil
	}
	if err := limiter.Wait(ctx); err != nil {
		return &service.RemoteError{Code: service.CodeResourceExhausted, Message: "client rate limit: " + err.Error(), Err: err}
	}
	return nil
}
{%- if p.has_unary() %}

// balance makes one method's endpoint over every instance: round robin,
// retries, and the client's own rate limit outside it all.
func balance(instances sd.Endpointer, limiter *rate.Limiter, opts Options, idempotent bool, method func(*instance) endpoint.Endpoint) endpoint.Endpoint {
	balancer := methodBalancer{instances: lb.NewRoundRobin(instances), method: method}
	retry := lb.RetryWithCallback(opts.Timeout, balancer, retryable(opts.Retries, idempotent))
	return func(ctx context.Context, request any) (any, error) {
		if err := wait(ctx, limiter); err != nil {
			return nil, err
		}
		response, err := retry(ctx, request)
		var retryErr lb.RetryError
		if errors.As(err, &retryErr) {
			err = retryErr.Final
		}
		return response, err
	}
}

// methodBalancer picks an instance round robin and hands out its endpoint
// of one method.
type methodBalancer struct {
	instances lb.Balancer
	method    func(*instance) endpoint.Endpoint
}

// Endpoint implements lb.Balancer.
func (b methodBalancer) Endpoint() (endpoint.Endpoint, error) {
	in, err := nextInstance(b.instances)
	if err != nil {
		return nil, err
	}
	return b.method(in), nil
}

// errNotConnected is the cause of a call that never left because its
// instance could not be connected to: safe to retry elsewhere, whatever
// the method.
var errNotConnected = errors.New("not connected")

// whenConnected sends a call only once conn is ready: a call on a
// connection that fails to come up answers UNAVAILABLE caused by
// errNotConnected, unsent.
func whenConnected(conn *grpc.ClientConn, next endpoint.Endpoint) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		for {
			state := conn.GetState()
			switch state {
			case connectivity.Ready:
				return next(ctx, request)
			case connectivity.TransientFailure, connectivity.Shutdown:
				return nil, &service.RemoteError{Code: service.CodeUnavailable, Message: conn.Target() + ": not connected", Err: errNotConnected}
			case connectivity.Idle:
				conn.Connect()
			}
			if !conn.WaitForStateChange(ctx, state) {
				return nil, ctx.Err()
			}
		}
	}
}

// breaker guards one instance. Failures that are the caller's own mistake
// say nothing of the instance's health and do not count; an open breaker
// answers UNAVAILABLE without calling, so the call is retried elsewhere.
func breaker(addr string, opts Options) endpoint.Middleware {
	cb := gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:    addr,
		Timeout: opts.BreakerCooldown,
		ReadyToTrip: func(counts gobreaker.Counts) bool {
			return counts.ConsecutiveFailures >= opts.BreakerFailures
		},
		IsSuccessful: func(err error) bool {
			return err == nil || callerMistake(service.CodeOf(err))
		},
	})
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			response, err := cb.Execute(func() (any, error) { return next(ctx, request) })
			if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
				return nil, &service.RemoteError{Code: service.CodeUnavailable, Message: addr + ": circuit breaker open", Err: err}
			}
			return response, err
		}
	}
}

func callerMistake(code service.Code) bool {
	switch code {
	case service.CodeCanceled, service.CodeInvalidArgument, service.CodeNotFound, service.CodeAlreadyExists,
		service.CodePermissionDenied, service.CodeUnauthenticated, service.CodeFailedPrecondition,
		service.CodeAborted, service.CodeOutOfRange, service.CodeUnimplemented:
		return true
	default:
		return false
	}
}

// retryable retries on another instance, up to tries calls in all, a call
// that never reached one (no instance yet, none connected, or its breaker
// open), and, for an idempotent method, one that failed as unavailable.
func retryable(tries int, idempotent bool) lb.Callback {
	return func(n int, err error) (bool, error) {
		if errors.Is(err, lb.ErrNoEndpoints) {
			// An endpointer fills its cache asynchronously after it subscribes,
			// so a call right after NewBalanced may find it still empty: wait
			// a moment before calling the service unavailable.
			if n < tries {
				time.Sleep(time.Duration(n) * 20 * time.Millisecond)
				return true, nil
			}
			return false, &service.RemoteError{Code: service.CodeUnavailable, Message: "no instance of {{ p.name }} is available", Err: err}
		}
		if n >= tries {
			return false, nil
		}
		if errors.Is(err, errNotConnected) || errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			return true, nil
		}
		return idempotent && service.CodeOf(err) == service.CodeUnavailable, nil
	}
}
{%- endif %}

// nextInstance returns the next instance of a round robin over instances.
func nextInstance(instances lb.Balancer) (*instance, error) {
	e, err := instances.Endpoint()
	if err != nil {
		return nil, err
	}
	in, err := e(context.Background(), nil)
	if err != nil {
		return nil, err
	}
	return in.(*instance), nil
}
{%- if p.has_streams() %}

// pick returns the next instance for a stream, once the limiter allows.
func pick(ctx context.Context, instances lb.Balancer, limiter *rate.Limiter) (*instance, error) {
	if err := wait(ctx, limiter); err != nil {
		return nil, err
	}
	in, err := nextInstance(instances)
	if err != nil {
		return nil, &service.RemoteError{Code: service.CodeUnavailable, Message: "no instance of {{ p.name }} is available", Err: err}
	}
	return in, nil
}
{%- endif %}
