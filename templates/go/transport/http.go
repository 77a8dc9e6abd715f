package transport

import (
{{ imports() }}
)

// NewHTTPHandler serves the unary methods over HTTP with JSON bodies in the
// protobuf JSON mapping. Routes come from the methods' google.api.http
// annotations and match the escaped request path; a method without one is
// served at POST /<package>.<Service>/<Method> with the whole request as its
// body. Server-streaming methods with a rule answer newline-delimited JSON,
// as grpc-gateway does; other streaming methods are served over gRPC only.
func NewHTTPHandler({% for s in p.services %}{% if s.has_http() %}{{ s.lower }} endpoints.{{ s.endpoints }}, {% endif %}{% endfor %}opts ...HTTPOption) http.Handler {
	config := &httpConfig{maxBody: maxBodyBytes}
	for _, opt := range opts {
		opt(config)
	}
	r := &router{config: config}
{%- if p.has_unary() %}
	options := []httptransport.ServerOption{
		httptransport.ServerErrorEncoder(encodeHTTPError),
		httptransport.ServerBefore(credentialsFromHTTP),
	}
{%- endif %}
{%- for s in p.services %}
{%- for route in s.http_routes() %}

	// {{ route.1.verb }} {{ route.1.template }}: {{ s.proto_name }}.{{ route.0.proto_name }}
{%- if route.0.is_unary() %}
	r.handle({{ quote(route.1.verb) }}, {{ route.1.pattern }}, httptransport.NewServer(
		{{ s.lower }}.{{ route.0.field }},
		decodeHTTPRequest(config, func() proto.Message { return new({{ route.0.input }}) }, {{ quote(route.1.body) }}),
		encodeHTTPResponse({{ quote(route.1.response_body) }}),
		options...,
	))
{%- else %}
	r.handle({{ quote(route.1.verb) }}, {{ route.1.pattern }}, serverStreamHandler(
		decodeHTTPRequest(config, func() proto.Message { return new({{ route.0.input }}) }, {{ quote(route.1.body) }}),
		{{ quote(route.1.response_body) }},
		func(ctx context.Context, req any, send func(proto.Message) error) error {
			return {{ s.lower }}.{{ route.0.field }}(ctx, req.(*{{ route.0.input }}), func(resp *{{ route.0.output }}) error { return send(resp) })
		},
	))
{%- endif %}
{%- endfor %}
{%- endfor %}
	return r
}
{%- for s in p.services %}

// New{{ s.base }}HTTPClient returns a service.{{ s.iface }} that calls the
// remote service at baseURL, such as "http://localhost:8081", using each
// method's first HTTP route. A nil client means http.DefaultClient.
{%- if s.has_unary() %}
func New{{ s.base }}HTTPClient(baseURL string, client *http.Client) (service.{{ s.iface }}, error) {
	base, err := url.Parse(baseURL)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = http.DefaultClient
	}
{%- else %}
func New{{ s.base }}HTTPClient(string, *http.Client) (service.{{ s.iface }}, error) {
{%- endif %}
	return endpoints.{{ s.endpoints }}{
{%- for m in s.methods %}
{%- if m.is_unary() %}
{%- let route = m.first_route() %}
		{{ pad(m.field.clone() + ":", s.pad_literal_keys) }} httpClientEndpoint(base, client, {{ quote(route.verb) }}, {{ route.pattern }}, {{ quote(route.body) }}, {{ quote(route.response_body) }}, func() proto.Message { return new({{ m.output }}) }),
{%- else %}
		{{ pad(m.field.clone() + ":", s.pad_literal_keys) }} {{ s.lower }}HTTPStreams{}.{{ m.lower }},
{%- endif %}
{%- endfor %}
	}, nil
}
{%- if s.has_streams() %}

// {{ s.lower }}HTTPStreams answers the streaming methods, which HTTP does not carry.
type {{ s.lower }}HTTPStreams struct{}
{%- for m in s.stream_methods() %}

func ({{ s.lower }}HTTPStreams) {{ m.lower }}{{ m.unnamed_signature() }} {
{%- if m.is_client_streaming() %}
	return nil, errStreamingOverHTTP("{{ m.label }}")
{%- else %}
	return errStreamingOverHTTP("{{ m.label }}")
{%- endif %}
}
{%- endfor %}
{%- endif %}
{%- endfor %}
{%- if p.has_streams() %}

func errStreamingOverHTTP(method string) error {
	return service.Errorf(service.CodeUnimplemented, "%s is a streaming method, served over gRPC only", method)
}
{%- endif %}
