// Command {{ p.name }} serves the {{ p.name }} API over HTTP and gRPC.
//
// Every flag can also be set through the environment: -http-addr is
// {{ p.env_prefix }}_HTTP_ADDR, and so on. Flags win over the environment.
package main

import (
{{ imports() }}
)

func main() {
	fs := flag.NewFlagSet("{{ p.name }}", flag.ExitOnError)
	var (
		httpAddr        = fs.String("http-addr", ":8081", "HTTP listen address")
		grpcAddr        = fs.String("grpc-addr", ":8082", "gRPC listen address")
		debugAddr       = fs.String("debug-addr", ":8080", "debug listen address, serving /metrics and /debug/pprof/")
		rateLimit       = fs.Float64("rate-limit", 1000, "requests per second allowed across all methods; 0 disables the limit")
		rateBurst       = fs.Int("rate-burst", 100, "requests allowed at once above the rate limit")
		requestTimeout  = fs.Duration("request-timeout", 30*time.Second, "how long one request may take; 0 means no limit")
		drainDelay      = fs.Duration("drain-delay", 0, "how long to keep serving after readiness turns false at shutdown")
		shutdownTimeout = fs.Duration("shutdown-timeout", 10*time.Second, "how long in-flight requests may run after the listeners close")
		otlpEndpoint    = fs.String("otlp-endpoint", "", "OTLP/gRPC collector to export traces to, such as localhost:4317; empty turns tracing off")
		etcdAddrs       = fs.String("etcd-addr", "", "comma-separated etcd endpoints to register with")
		consulAddr      = fs.String("consul-addr", "", "Consul agent address to register with, such as localhost:8500")
		advertiseAddr   = fs.String("advertise-addr", "", "gRPC address to register; defaults to the listening one")
		logLevel        = fs.String("log-level", "info", "lowest level logged: debug, info, warn or error")
	)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: {{ p.name }} [flags]\n\nEach flag can also be set as {{ p.env_prefix }}_<FLAG>, e.g. {{ p.env_prefix }}_HTTP_ADDR.\n\n")
		fs.PrintDefaults()
	}
	if err := ff.Parse(fs, os.Args[1:], ff.WithEnvVarPrefix("{{ p.env_prefix }}")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}

	var logger log.Logger
	logger = log.NewLogfmtLogger(log.NewSyncWriter(os.Stderr))
	logger = level.NewFilter(logger, level.Allow(level.ParseDefault(*logLevel, level.InfoValue())))
	logger = log.With(logger, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)

	// Build each service and wrap it in its middleware, innermost first.
{%- for s in p.services %}
	var {{ s.lower }} service.{{ s.iface }}
	{{ s.lower }} = {{ s.construct }}
	{{ s.lower }} = service.{{ s.base }}LoggingMiddleware(logger)({{ s.lower }})
{%- endfor %}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	discovery := server.Discovery{
		EtcdAddrs:     strings.FieldsFunc(*etcdAddrs, func(r rune) bool { return r == ',' }),
		ConsulAddr:    *consulAddr,
		AdvertiseAddr: *advertiseAddr,
	}
	err := server.Run(ctx, server.Config{
		HTTPAddr:        *httpAddr,
		GRPCAddr:        *grpcAddr,
		DebugAddr:       *debugAddr,
		RateLimit:       *rateLimit,
		RateBurst:       *rateBurst,
		RequestTimeout:  *requestTimeout,
		DrainDelay:      *drainDelay,
		ShutdownTimeout: *shutdownTimeout,
		OTLPEndpoint:    *otlpEndpoint,
		Discovery:       discovery,
	}, server.Services{
{%- for s in p.services %}
		{{ pad(s.base.clone() + ":", p.pad_service_fields + 1) }} {{ s.lower }},
{%- endfor %}
	}, logger)
	if err != nil {
		level.Error(logger).Log("err", err)
		os.Exit(1)
	}
}
