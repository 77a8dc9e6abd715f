package endpoints

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"

	"{{ p.module }}/pkg/service"
)

// Instrumentation is the middleware every server endpoint is wrapped in.
// A nil or zero field turns its middleware off; panics are always recovered.
type Instrumentation struct {
	// Logger logs each request at debug level, and at error level the
	// ones that fail with a server fault (INTERNAL, UNKNOWN, DATA_LOSS).
	Logger  *slog.Logger
	Metrics *Metrics
	// Tracer starts a server span per request, continuing the caller's
	// trace; nil (tracing off, see server.StartTracing) starts none.
	Tracer trace.Tracer
	// Authenticate admits or refuses each request (see auth.go) and
	// returns the context the service sees, carrying the caller's identity.
	Authenticate func(ctx context.Context, method string) (context.Context, error)
	// RateLimits returns the limiter of a method, or nil for none (see
	// EachMethod). A request over its method's limit fails at once with
	// CodeResourceExhausted (HTTP 429). Limits apply after authentication,
	// so anonymous traffic cannot use up an authenticated caller's share.
	RateLimits func(method string) *rate.Limiter
	// Timeout bounds each unary request.
	Timeout time.Duration
	// Middleware are your own, applied innermost (next to the service),
	// first to last: Middleware[0] sees the request first.
	Middleware []endpoint.Middleware
}

// EachMethod gives every method a limiter of its own, allowing limit
// requests a second with bursts of burst, as go-kit's addsvc does.
func EachMethod(limit rate.Limit, burst int) func(method string) *rate.Limiter {
	var mu sync.Mutex
	limiters := map[string]*rate.Limiter{}
	return func(method string) *rate.Limiter {
		mu.Lock()
		defer mu.Unlock()
		l, ok := limiters[method]
		if !ok {
			l = rate.NewLimiter(limit, max(burst, 1))
			limiters[method] = l
		}
		return l
	}
}

// Wrap applies the middleware to the endpoint of method, outermost first:
// logging, metrics, tracing, panic recovery, authentication, rate limiting,
// timeout, then your own. Rejected requests are thus logged, counted and
// traced too.
func (in Instrumentation) Wrap(method string, e endpoint.Endpoint) endpoint.Endpoint {
	for i := len(in.Middleware) - 1; i >= 0; i-- {
		e = in.Middleware[i](e)
	}
	if in.Timeout > 0 {
		e = TimeoutMiddleware(in.Timeout)(e)
	}
	return in.wrap(method, e)
}

// WrapStream returns a function that runs a streaming call of method
// through the same middleware as Wrap, but for the timeout: a stream lasts
// as long as its caller wants, within the caller's own deadline. A panic in
// the call answers CodeInternal and the server carries on.
func (in Instrumentation) WrapStream(method string) func(ctx context.Context, call func(context.Context) error) error {
	var e endpoint.Endpoint = func(ctx context.Context, request any) (any, error) {
		return nil, request.(func(context.Context) error)(ctx)
	}
	for i := len(in.Middleware) - 1; i >= 0; i-- {
		e = in.Middleware[i](e)
	}
	e = in.wrap(method, e)
	return func(ctx context.Context, call func(context.Context) error) error {
		_, err := e(ctx, call)
		return err
	}
}

func (in Instrumentation) wrap(method string, e endpoint.Endpoint) endpoint.Endpoint {
	if in.RateLimits != nil {
		if limiter := in.RateLimits(method); limiter != nil {
			e = RateLimitMiddleware(limiter)(e)
		}
	}
	if in.Authenticate != nil {
		e = AuthMiddleware(method, in.Authenticate)(e)
	}
	e = RecoveryMiddleware(in.Logger)(e)
	if in.Tracer != nil {
		e = TracingMiddleware(in.Tracer, method)(e)
	}
	if in.Metrics != nil {
		e = InstrumentingMiddleware(in.Metrics, method)(e)
	}
	if in.Logger != nil {
		e = LoggingMiddleware(in.Logger, method)(e)
	}
	return e
}

// TransportError returns what a transport calls with a request it refused
// before any endpoint saw it (a path no route matches, a method the route
// does not allow, a body that does not decode): the refusal is logged at
// debug level and counted in Metrics.TransportErrors.
func (in Instrumentation) TransportError(transport string) func(ctx context.Context, err error) {
	return func(ctx context.Context, err error) {
		code := answered(err)
		if in.Metrics != nil && in.Metrics.TransportErrors != nil {
			in.Metrics.TransportErrors.WithLabelValues(transport, code.String()).Inc()
		}
		if in.Logger != nil && in.Logger.Enabled(ctx, slog.LevelDebug) {
			in.Logger.LogAttrs(ctx, slog.LevelDebug, "request refused",
				slog.String("transport", transport), slog.String("code", code.String()), slog.Any("err", err))
		}
	}
}

// LoggingMiddleware logs the outcome and duration of every request of
// method: at debug level, or at error level for a server fault, whose
// error is logged in full, causes included, while callers are told only
// "internal error". Nothing is formatted when the level is off.
func LoggingMiddleware(logger *slog.Logger, method string) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			begin := time.Now()
			response, err := next(ctx, request)
			code := answered(err)
			level := slog.LevelDebug
			if serverFault(code) {
				level = slog.LevelError
			}
			if logger.Enabled(ctx, level) {
				attrs := []slog.Attr{
					slog.String("method", method),
					slog.String("code", code.String()),
					slog.Duration("took", time.Since(begin)),
				}
				if err != nil {
					attrs = append(attrs, slog.Any("err", err))
				}
				logger.LogAttrs(ctx, level, "request", attrs...)
			}
			return response, err
		}
	}
}

// serverFault says whether code blames the server rather than the caller.
func serverFault(code service.Code) bool {
	return code == service.CodeInternal || code == service.CodeUnknown || code == service.CodeDataLoss
}

// Metrics counts requests and observes their duration, by method and code,
// in Prometheus vectors: NewMetrics makes them.
type Metrics struct {
	// Requests is labelled method and code.
	Requests *prometheus.CounterVec
	// Duration is labelled method and code.
	Duration *prometheus.HistogramVec
	// TransportErrors counts requests refused before any endpoint saw
	// them, labelled transport and code.
	TransportErrors *prometheus.CounterVec
}

// NewMetrics creates the request metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer, namespace string) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "requests_total",
			Help:      "Requests handled, by method and outcome code.",
		}, []string{"method", "code"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "request_duration_seconds",
			Help:      "Time spent handling requests, by method and outcome code.",
			Buckets:   prometheus.DefBuckets,
		}, []string{"method", "code"}),
		TransportErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "transport_errors_total",
			Help:      "Requests refused before reaching a method (no route, method not allowed, undecodable, unknown gRPC method), by transport and code.",
		}, []string{"transport", "code"}),
	}
	reg.MustRegister(m.Requests, m.Duration, m.TransportErrors)
	return m
}

// InstrumentingMiddleware records every request of method in m. The series
// of each code are looked up once, at its first request, not per request
// (go-kit's metrics.Counter builds and hashes a label map on every Add).
func InstrumentingMiddleware(m *Metrics, method string) endpoint.Middleware {
	s := &methodSeries{metrics: m, method: method}
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (response any, err error) {
			defer func(begin time.Time) {
				series := s.of(answered(err))
				series.requests.Inc()
				series.duration.Observe(time.Since(begin).Seconds())
			}(time.Now())
			return next(ctx, request)
		}
	}
}

// methodSeries holds the series of one method, by code, each created at
// its code's first request: /metrics shows the codes answered, as
// Prometheus' own vectors do.
type methodSeries struct {
	metrics *Metrics
	method  string
	byCode  [service.CodeUnauthenticated + 1]atomic.Pointer[codeSeries]
}

type codeSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

func (s *methodSeries) of(code service.Code) *codeSeries {
	if code < 0 || int(code) >= len(s.byCode) {
		return s.lookup(code)
	}
	if series := s.byCode[code].Load(); series != nil {
		return series
	}
	// Two first requests may both look up: the vectors return the same
	// series to each.
	series := s.lookup(code)
	s.byCode[code].Store(series)
	return series
}

func (s *methodSeries) lookup(code service.Code) *codeSeries {
	return &codeSeries{
		requests: s.metrics.Requests.WithLabelValues(s.method, code.String()),
		duration: s.metrics.Duration.WithLabelValues(s.method, code.String()),
	}
}

// RateLimitMiddleware rejects requests above the limiter's rate with
// CodeResourceExhausted, so transports answer 429 / RESOURCE_EXHAUSTED
// instead of a generic 500.
func RateLimitMiddleware(limiter *rate.Limiter) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			if !limiter.Allow() {
				return nil, service.Errorf(service.CodeResourceExhausted, "rate limit exceeded")
			}
			return next(ctx, request)
		}
	}
}

// RecoveryMiddleware turns a panic in the service into a CodeInternal
// error, so one bad request cannot take the server down.
func RecoveryMiddleware(logger *slog.Logger) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (response any, err error) {
			defer func() {
				if r := recover(); r != nil {
					if logger != nil {
						logger.ErrorContext(ctx, "panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					}
					response, err = nil, service.Errorf(service.CodeInternal, "internal error")
				}
			}()
			return next(ctx, request)
		}
	}
}

// answered is the code the caller is told for err.
func answered(err error) service.Code {
	if err == nil {
		return service.CodeOK
	}
	return service.Public(err).Code
}

// errServerTimeout is the cause of a deadline TimeoutMiddleware set.
var errServerTimeout = errors.New("server timeout")

// TimeoutMiddleware bounds each request to d; one that runs out answers
// CodeDeadlineExceeded (HTTP 504), saying whether the server's limit or
// the caller's own deadline ended it.
func TimeoutMiddleware(d time.Duration) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			inner, cancel := context.WithTimeoutCause(ctx, d, errServerTimeout)
			defer cancel()
			response, err := next(inner, request)
			if errors.Is(err, context.DeadlineExceeded) {
				if ctx.Err() == nil && errors.Is(context.Cause(inner), errServerTimeout) {
					return nil, service.Errorf(service.CodeDeadlineExceeded, "the request took longer than the server's limit of %s", d)
				}
				return nil, service.Errorf(service.CodeDeadlineExceeded, "the caller's deadline expired")
			}
			return response, err
		}
	}
}

// TracingMiddleware records a server span per request of method, the
// request's only one, with its outcome; a gRPC request's span carries its
// status code.
func TracingMiddleware(tracer trace.Tracer, method string) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			ctx, span := tracer.Start(ctx, method,
				trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("rpc.method", method)))
			defer span.End()
			response, err := next(ctx, request)
			code := answered(err)
			if _, ok := grpc.Method(ctx); ok {
				span.SetAttributes(attribute.String("rpc.system", "grpc"), attribute.Int("rpc.grpc.status_code", int(code)))
			}
			if err != nil {
				span.RecordError(err)
				span.SetStatus(otelcodes.Error, code.String())
			}
			return response, err
		}
	}
}

// AuthMiddleware refuses the requests authenticate refuses, and passes the
// context it returns on to the service. A service error (see
// service.Errorf) answers as it is; any other error answers
// CodeUnauthenticated (HTTP 401) "the request is not authenticated", and
// its text, which may name a token or a key server, is only logged.
func AuthMiddleware(method string, authenticate func(ctx context.Context, method string) (context.Context, error)) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request any) (any, error) {
			ctx, err := authenticate(ctx, method)
			if err != nil {
				if e, ok := errors.AsType[*service.Error](err); !ok || service.Public(err) != e {
					err = service.Errorf(service.CodeUnauthenticated, "the request is not authenticated").WithCause(err)
				}
				return nil, err
			}
			return next(ctx, request)
		}
	}
}

type credentialsKey struct{}

// ContextWithCredentials returns ctx carrying a request's credentials: the
// transports store the HTTP Authorization header or the gRPC authorization
// metadata, and clients send them on.
func ContextWithCredentials(ctx context.Context, credentials string) context.Context {
	return context.WithValue(ctx, credentialsKey{}, credentials)
}

// Credentials returns the credentials of the request ctx belongs to, or "".
func Credentials(ctx context.Context) string {
	credentials, _ := ctx.Value(credentialsKey{}).(string)
	return credentials
}
