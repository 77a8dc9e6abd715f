// Command {{ p.name }} serves the {{ p.name }} API over HTTP and gRPC.
//
// This file is yours: it assembles the server from the generated pieces,
// as go-kit's addsvc does in cmd/addsvc. Add endpoint middleware, HTTP
// middleware and routes, gRPC server options (TLS, keepalive,
// interceptors), change timeouts here; `kitgen generate` merges its own
// improvements in and keeps your lines.
//
// Every flag can also be set through the environment: -http-addr is
// {{ p.env_prefix }}_HTTP_ADDR, and so on. Flags win over the environment.
package main

import (
{{ imports() }}
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "{{ p.name }}:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("{{ p.name }}", flag.ExitOnError)
	var (
		httpAddr        = fs.String("http-addr", ":8081", "HTTP listen address")
		grpcAddr        = fs.String("grpc-addr", ":8082", "gRPC listen address")
		debugAddr       = fs.String("debug-addr", ":8080", "debug listen address, serving /metrics and /debug/pprof/")
		rateLimit       = fs.Float64("rate-limit", 0, "requests per second allowed to each method; 0 disables the limit")
		rateBurst       = fs.Int("rate-burst", 100, "requests allowed at once above a method's rate limit")
		requestTimeout  = fs.Duration("request-timeout", 30*time.Second, "how long one request may take; 0 means no limit")
		drainDelay      = fs.Duration("drain-delay", 0, "how long to keep serving after readiness turns false at shutdown")
		shutdownTimeout = fs.Duration("shutdown-timeout", 10*time.Second, "how long in-flight requests may run after the listeners close")
		otlpEndpoint    = fs.String("otlp-endpoint", "", "OTLP/gRPC collector to export traces to, such as localhost:4317; empty leaves it to OTEL_EXPORTER_OTLP_ENDPOINT, else tracing is off")
{%- if p.discovery.etcd %}
		etcdAddrs       = fs.String("etcd-addr", "", "comma-separated etcd endpoints to register with")
{%- endif %}
{%- if p.discovery.consul %}
		consulAddr      = fs.String("consul-addr", "", "Consul agent address to register with, such as localhost:8500")
{%- endif %}
{%- if p.discovery.any() %}
		advertiseAddr   = fs.String("advertise-addr", "", "gRPC address to register; defaults to the listening one")
{%- endif %}
		logLevel        = fs.String("log-level", "info", "lowest level logged: debug (every request), info, warn or error")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: {{ p.name }} [flags]\n\nEach flag can also be set as {{ p.env_prefix }}_<FLAG>, e.g. {{ p.env_prefix }}_HTTP_ADDR.\n\n")
		fs.PrintDefaults()
	}
	if err := envflag.Parse(fs, args, "{{ p.env_prefix }}"); err != nil {
		return err
	}

	logger, err := server.NewLogger(os.Stderr, *logLevel)
	if err != nil {
		return err
	}

	// Build each service and wrap it in its middleware, innermost first.
{%- for s in p.services %}
	var {{ s.lower }} service.{{ s.iface }}
	{{ s.lower }} = {{ s.construct }}
	{{ s.lower }} = service.{{ s.base }}LoggingMiddleware(logger)({{ s.lower }})
{%- endfor %}

	// The first SIGTERM or interrupt shuts the servers down gracefully; a
	// second one ends the process at once: the signals are let go before
	// the shutdown begins.
	ctx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		received := <-signals
		signal.Stop(signals)
		stop(fmt.Errorf("%v signal received", received))
	}()

	// Traces go over OTLP/gRPC in plaintext, as to a collector beside the
	// pod; for TLS, pass otlptracegrpc.WithTLSCredentials instead.
	tracer, stopTracing, err := server.StartTracing(ctx, "{{ p.name }}", *otlpEndpoint, otlptracegrpc.WithInsecure())
	if err != nil {
		return err
	}
	defer stopTracing()

	// The middleware of every endpoint. Add your own to Middleware, or
	// replace one method's endpoint in the set NewEndpoints returns.
	registry := server.NewRegistry()
	instrumentation := endpoints.Instrumentation{
		Logger:       logger,
		Metrics:      endpoints.NewMetrics(registry, "{{ p.metrics_namespace }}"),
		Tracer:       tracer,
		Authenticate: endpoints.Authenticate,
		Timeout:      *requestTimeout,
	}
	if *rateLimit > 0 {
		instrumentation.RateLimits = endpoints.EachMethod(rate.Limit(*rateLimit), *rateBurst)
	}
	set := server.NewEndpoints(server.Services{
{%- for s in p.services %}
		{{ pad(s.base.clone() + ":", p.pad_service_fields + 1) }} {{ s.lower }},
{%- endfor %}
	}, instrumentation)

	listeners, err := server.Listen(*httpAddr, *grpcAddr, *debugAddr)
	if err != nil {
		return err
	}
	probes := server.NewHealth()
	servers := server.Group{
		Logger:     logger,
		Drain:      *drainDelay,
		Timeout:    *shutdownTimeout,
		OnShutdown: []func(){probes.Shutdown},
	}

	// HTTP: wrap api in your middleware, add routes to mux, set timeouts
	// on httpServer; transport.MaxRequestBytes raises the 4 MiB body limit.
	api := set.HTTPHandler(transport.HTTPErrorHandler(instrumentation.TransportError("HTTP")))
	mux := server.NewHTTPMux(probes)
	httpServer := server.NewHTTPServer(server.NewHTTPHandler(api, mux))
	servers.HTTP("HTTP", httpServer, listeners[0])

	// gRPC: add server options here (credentials, keepalive, interceptors).
	grpcOptions := []grpc.ServerOption{
		transport.GRPCErrorHandler(instrumentation.TransportError("gRPC")),
		transport.GRPCDecodeErrorHandler(instrumentation.TransportError("gRPC")),
	}
	grpcServer := server.NewGRPCServer(set, probes, grpcOptions...)
	servers.GRPC("gRPC", grpcServer, listeners[1])

	servers.HTTP("debug/HTTP", server.NewDebugServer(registry), listeners[2])
{%- if p.discovery.any() %}

	// Registration: instances sign up once serving, and leave first at
	// shutdown, before readiness turns off.
	instance, err := discovery.Advertised(*advertiseAddr, listeners[1].Addr())
	if err != nil {
		return err
	}
{%- if p.discovery.etcd %}
	if *etcdAddrs != "" {
		registrar, err := discovery.RegisterEtcd(ctx, strings.Split(*etcdAddrs, ","), instance, logger)
		if err != nil {
			return err
		}
		servers.OnShutdown = append([]func(){registrar.Deregister}, servers.OnShutdown...)
	}
{%- endif %}
{%- if p.discovery.consul %}
	if *consulAddr != "" {
		registrar, err := discovery.RegisterConsul(*consulAddr, instance, logger)
		if err != nil {
			return err
		}
		servers.OnShutdown = append([]func(){registrar.Deregister}, servers.OnShutdown...)
	}
{%- endif %}
{%- endif %}

	return servers.Run(ctx)
}
