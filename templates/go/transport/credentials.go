package transport

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc/metadata"

	"{{ p.module }}/pkg/endpoints"
)

// The transports carry two things besides the request: the caller's
// credentials, for endpoints.Authenticate, and the caller's trace (W3C trace
// context), which the propagator StartTracing installs reads and writes.
// Without tracing the propagator is OpenTelemetry's no-op, which does nothing.

// credentialsFromHTTP keeps the request's Authorization header and trace.
func credentialsFromHTTP(ctx context.Context, r *http.Request) context.Context {
	ctx = otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(r.Header))
	return endpoints.ContextWithCredentials(ctx, r.Header.Get("Authorization"))
}

// credentialsToHTTP sends the caller's credentials and trace on.
func credentialsToHTTP(ctx context.Context, r *http.Request) context.Context {
	if credentials := endpoints.Credentials(ctx); credentials != "" {
		r.Header.Set("Authorization", credentials)
	}
	otel.GetTextMapPropagator().Inject(ctx, propagation.HeaderCarrier(r.Header))
	return ctx
}

// credentialsFromGRPC keeps the request's authorization metadata and
// trace. Metadata with several authorization values carries no
// credentials: a proxy that checks one and a service that reads another
// would disagree on the caller (over HTTP, such a request answers 400).
func credentialsFromGRPC(ctx context.Context, md metadata.MD) context.Context {
	ctx = otel.GetTextMapPropagator().Extract(ctx, metadataCarrier(md))
	if values := md.Get("authorization"); len(values) == 1 {
		return endpoints.ContextWithCredentials(ctx, values[0])
	}
	return ctx
}

// credentialsToGRPC sends the caller's credentials and trace on.
func credentialsToGRPC(ctx context.Context, md *metadata.MD) context.Context {
	if credentials := endpoints.Credentials(ctx); credentials != "" {
		md.Set("authorization", credentials)
	}
	otel.GetTextMapPropagator().Inject(ctx, metadataCarrier(*md))
	return ctx
}

// streamContext returns the context of a stream carrying its credentials
// and trace, as ServerBefore(credentialsFromGRPC) does for unary calls, so
// the stream middleware and the service see them.
func streamContext(ctx context.Context) context.Context {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		return credentialsFromGRPC(ctx, md)
	}
	return ctx
}

// outgoingCredentials returns ctx with the caller's credentials and trace
// in its outgoing gRPC metadata, as ClientBefore(credentialsToGRPC) does for
// unary calls, for the streaming methods of the gRPC client.
func outgoingCredentials(ctx context.Context) context.Context {
	md := metadata.MD{}
	credentialsToGRPC(ctx, &md)
	if len(md) == 0 {
		return ctx
	}
	if existing, ok := metadata.FromOutgoingContext(ctx); ok {
		md = metadata.Join(existing, md)
	}
	return metadata.NewOutgoingContext(ctx, md)
}

// metadataCarrier lets a propagator read and write gRPC metadata.
type metadataCarrier metadata.MD

// Get implements propagation.TextMapCarrier.
func (c metadataCarrier) Get(key string) string {
	if values := metadata.MD(c).Get(key); len(values) > 0 {
		return values[0]
	}
	return ""
}

// Set implements propagation.TextMapCarrier.
func (c metadataCarrier) Set(key, value string) {
	metadata.MD(c).Set(key, value)
}

// Keys implements propagation.TextMapCarrier.
func (c metadataCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for key := range c {
		keys = append(keys, key)
	}
	return keys
}
