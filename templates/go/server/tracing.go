package server

import (
{{ imports() }}
)

// StartTracing exports spans over OTLP/gRPC when endpoint (such as
// "otel-collector:4317") is set, or when the standard
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is;
// the exporter reads the other OTEL_EXPORTER_OTLP_* variables itself
// (headers, certificates, timeout, compression), and opts, such as
// otlptracegrpc.WithInsecure or WithTLSCredentials, win over them.
//
// OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn tracing off
// whatever names a collector, as the OpenTelemetry specification says;
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over serviceName, and
// the SDK reads OTEL_TRACES_SAMPLER and OTEL_BSP_* itself.
//
// It returns the tracer for endpoints.Instrumentation, and installs the W3C
// trace context propagator the transports read and write. With tracing off
// it installs nothing and returns a nil tracer: tracing costs nothing.
// Call stop at exit to flush the spans.
func StartTracing(ctx context.Context, serviceName, endpoint string, opts ...otlptracegrpc.Option) (tracer trace.Tracer, stop func(), err error) {
	if endpoint == "" && os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return nil, func() {}, nil
	}
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") ||
		strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")), "none") {
		return nil, func() {}, nil
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", serviceName)),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing resource: %w", err)
	}
	if endpoint != "" {
		opts = append([]otlptracegrpc.Option{otlptracegrpc.WithEndpoint(endpoint)}, opts...)
	}
	exporter, err := otlptracegrpc.New(ctx, opts...)
	if err != nil {
		return nil, nil, err
	}
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exporter),
		sdktrace.WithResource(res),
	)
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		provider.Shutdown(ctx)
	}
	return provider.Tracer(serviceName), stop, nil
}
