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
// It returns the tracer for endpoints.Instrumentation, and installs the W3C
// trace context propagator the transports read and write. With tracing off
// it installs nothing and returns a nil tracer: tracing costs nothing.
// Call stop at exit to flush the spans.
func StartTracing(ctx context.Context, serviceName, endpoint string, opts ...otlptracegrpc.Option) (tracer trace.Tracer, stop func(), err error) {
	if endpoint == "" && os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return nil, func() {}, nil
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
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", serviceName))),
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
