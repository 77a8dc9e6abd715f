// Package server holds the pieces cmd/{{ p.name }} assembles into a running
// {{ p.name }}: the endpoint sets, the HTTP handler (with the API's OpenAPI
// document at /openapi.json and the health checks), the gRPC server, the
// debug server with /metrics and /debug/pprof/, tracing, and a Group that
// runs the servers and stops them together, gracefully.
//
// Each constructor returns something you can still change (an
// *http.ServeMux to add routes to, an *http.Server whose timeouts you set),
// or takes options (grpc.ServerOption, transport.HTTPOption): the wiring in
// cmd/{{ p.name }}/main.go is yours.
package server

import (
{{ imports() }}
)

// Services holds the implementation of each service to serve.
type Services struct {
{%- for s in p.services %}
	{{ pad(s.base.clone(), p.pad_service_fields) }} service.{{ s.iface }}
{%- endfor %}
}

// Endpoints holds the endpoint set of each service. Replace a field's
// endpoint to add middleware to one method only.
type Endpoints struct {
{%- for s in p.services %}
	{{ pad(s.base.clone(), p.pad_service_fields) }} endpoints.{{ s.endpoints }}
{%- endfor %}
}

// NewEndpoints makes the endpoints of every service, each wrapped in the
// middleware of in.
func NewEndpoints(services Services, in endpoints.Instrumentation) Endpoints {
	return Endpoints{
{%- for s in p.services %}
		{{ pad(s.base.clone() + ":", p.pad_service_fields + 1) }} endpoints.New{{ s.endpoints }}(services.{{ s.base }}, in),
{%- endfor %}
	}
}

// HTTPHandler serves the API over HTTP: the routes of the methods'
// google.api.http rules.
func (e Endpoints) HTTPHandler(opts ...transport.HTTPOption) http.Handler {
	return transport.NewHTTPHandler({% if p.has_http() %}{{ p.http_handler_args() }}, {% endif %}opts...)
}

// NewGRPCServer serves every service over gRPC, with the grpc.health.v1
// service of h and server reflection, built with opts (credentials,
// keepalive, interceptors).
func NewGRPCServer(e Endpoints, h *Health, opts ...grpc.ServerOption) *grpc.Server {
	server := grpc.NewServer(opts...)
{%- for s in p.services %}
	{{ s.pb.name }}.Register{{ s.grpc_name }}Server(server, transport.New{{ s.base }}GRPCServer(e.{{ s.base }}))
{%- endfor %}
	healthpb.RegisterHealthServer(server, h.grpc)
	reflection.Register(server)
	return server
}

// Health answers whether the process is alive and ready for traffic: over
// HTTP at /healthz and /readyz, over gRPC as grpc.health.v1.
type Health struct {
	ready atomic.Bool
	grpc  *health.Server
}

// NewHealth returns a Health that is ready.
func NewHealth() *Health {
	h := &Health{grpc: health.NewServer()}
	h.ready.Store(true)
	return h
}

// Shutdown turns readiness off on both transports, for good: load
// balancers stop sending new requests while those under way finish.
func (h *Health) Shutdown() {
	h.ready.Store(false)
	h.grpc.Shutdown()
}

// NewHTTPMux returns the routes served beside the API: /healthz, /readyz
// and /openapi.json. Add routes of your own to it.
func NewHTTPMux(h *Health) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !h.ready.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	// The API's description is served beside the API, to its clients.
	mux.Handle("GET /openapi.json", openapi.Handler())
	return mux
}

// NewHTTPHandler serves the requests mux has a route for, at a path in its
// clean form, with mux, and every other request with api, as it came:
// http.ServeMux cleans paths and redirects ("DELETE /v1/shelves/1/books/.."
// to /v1/shelves/1, method kept), which must never happen to an API
// request. Wrap api, not this handler, in tracing or middleware meant for
// the API only. The bodies of requests to mux's routes are limited to
// MaxRequestBytes; api limits its own (transport.MaxRequestBytes).
func NewHTTPHandler(api http.Handler, mux *http.ServeMux) http.Handler {
	routes := http.MaxBytesHandler(mux, MaxRequestBytes)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && len(r.TransferEncoding) > 0 {
			// net/http drops a Content-Length sent beside Transfer-Encoding
			// and keeps the connection; RFC 9112 says to close it, so a
			// proxy in front that read the Content-Length cannot smuggle
			// the rest of the body in as a request.
			w.Header().Set("Connection", "close")
		}
		if _, pattern := mux.Handler(r); pattern != "" && clean(r.URL.EscapedPath()) {
			routes.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// clean says whether p is a path http.ServeMux would not redirect.
func clean(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	cleaned := path.Clean(p)
	if strings.HasSuffix(p, "/") && cleaned != "/" {
		cleaned += "/"
	}
	return cleaned == p
}

// MaxRequestBytes bounds the size of a request body to the routes served
// beside the API (see NewHTTPHandler).
const MaxRequestBytes = 4 << 20

// NewHTTPServer returns a server of handler with timeouts fit for an API
// exposed to the network. Change its fields before serving to suit yours.
func NewHTTPServer(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
	}
}

// NewRegistry returns a Prometheus registry with the Go runtime and
// process collectors.
func NewRegistry() *prometheus.Registry {
	registry := prometheus.NewRegistry()
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return registry
}

// NewDebugServer serves registry's metrics at /metrics and the runtime's
// profiles at /debug/pprof/. Keep it off the public network.
func NewDebugServer(registry *prometheus.Registry) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
}

// NewLogger returns a logger writing logfmt lines to w from level on:
// "debug", "info", "warn" or "error". Requests are logged at debug level.
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// Listen opens every address up front, so a taken port fails at once and
// nothing is left open.
func Listen(addrs ...string) ([]net.Listener, error) {
	listeners := make([]net.Listener, 0, len(addrs))
	for _, addr := range addrs {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			for _, open := range listeners {
				open.Close()
			}
			return nil, err
		}
		listeners = append(listeners, l)
	}
	return listeners, nil
}

// Group runs servers together and stops them together.
type Group struct {
	// Logger logs where each server listens and when shutdown begins.
	Logger *slog.Logger
	// Drain is how long the servers keep serving once shutdown begins
	// (readiness is off by then), for load balancers to notice.
	Drain time.Duration
	// Timeout bounds how long in-flight requests may run after the
	// listeners close; then they are cut off. Shutdown as a whole takes
	// at most Drain + Timeout, OnShutdown included: the servers stop
	// concurrently.
	Timeout time.Duration
	// OnShutdown run first when shutdown begins, in order: turn readiness
	// off, leave service registries. The servers keep serving until the
	// hooks are done and Drain has passed; a hook still running Drain +
	// Timeout after shutdown began (a registry out of reach) is left behind.
	OnShutdown []func()

	servers []runner
}

type runner struct {
	name     string
	listener net.Listener
	serve    func(net.Listener) error
	stop     func(context.Context)
}

// HTTP adds an HTTP server, serving on l.
func (g *Group) HTTP(name string, server *http.Server, l net.Listener) {
	g.servers = append(g.servers, runner{
		name:     name,
		listener: l,
		serve: func(l net.Listener) error {
			if err := server.Serve(l); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
		stop: func(ctx context.Context) {
			if err := server.Shutdown(ctx); err != nil {
				server.Close()
			}
		},
	})
}

// GRPC adds a gRPC server, serving on l.
func (g *Group) GRPC(name string, server *grpc.Server, l net.Listener) {
	g.servers = append(g.servers, runner{
		name:     name,
		listener: l,
		serve:    server.Serve,
		stop: func(ctx context.Context) {
			done := make(chan struct{})
			go func() {
				server.GracefulStop()
				close(done)
			}()
			select {
			case <-done:
			case <-ctx.Done():
				server.Stop()
			}
		},
	})
}

// Run serves until ctx is done or a server fails. Then it runs OnShutdown,
// keeps serving for Drain, and stops every server at once, letting
// in-flight requests finish until Timeout runs out: everything is over
// Drain + Timeout after shutdown began. It returns the first server's
// failure, or nil after a shutdown caused by ctx.
func (g *Group) Run(ctx context.Context) error {
	logger := g.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	failed := make(chan error, len(g.servers))
	for _, s := range g.servers {
		logger.Info("listening", "transport", s.name, "addr", s.listener.Addr().String())
		go func() {
			if err := s.serve(s.listener); err != nil {
				failed <- fmt.Errorf("%s server: %w", s.name, err)
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-failed:
	}
	logger.Info("shutting down", "drain", g.Drain, "timeout", g.Timeout)
	// One deadline for the whole shutdown, so that it fits the grace period
	// an orchestrator allows before it kills the process.
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.Drain+g.Timeout)
	defer cancel()
	drained := time.NewTimer(g.Drain)
	defer drained.Stop()
	hooks := make(chan struct{})
	go func() {
		defer close(hooks)
		for _, f := range g.OnShutdown {
			f()
		}
	}()
	select {
	case <-hooks:
	case <-stopCtx.Done():
		logger.Warn("shutdown hooks still running at the shutdown deadline; stopping the servers")
	}
	if err == nil {
		select {
		case <-drained.C:
		case <-stopCtx.Done():
		case err = <-failed:
		}
	}
	var wg sync.WaitGroup
	for _, s := range g.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.stop(stopCtx)
		}()
	}
	wg.Wait()
	return err
}
