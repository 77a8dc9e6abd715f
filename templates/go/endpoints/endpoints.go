// Package endpoints turns each service method into a go-kit endpoint and
// wraps it in the middleware every request passes through.
//
// go-kit's Endpoint carries one request and one response, so streaming
// methods have no endpoint: each endpoint set carries them as plain
// functions (the XxxStream fields) that transports call directly.
package endpoints

import (
{{ imports() }}
)
{% for s in p.services %}
// {{ s.endpoints }} holds an endpoint per unary method of {{ s.iface }}.
// It implements service.{{ s.iface }} itself, so a set built from a transport's
// client endpoints is a client of the remote service.
type {{ s.endpoints }} struct {
{%- for m in s.unary_methods() %}
	{{ pad(m.field.clone(), s.pad_endpoint_fields) }} endpoint.Endpoint
{%- endfor %}
{%- for m in s.stream_methods() %}
{%- if !loop.first || s.has_unary() %}
{% endif %}
	// {{ m.field }} serves the {{ m.kind_doc() }} {{ m.name }}.
	{{ m.field }} {{ m.func_type() }}
{%- endfor %}
}

var _ service.{{ s.iface }} = {{ s.endpoints }}{}

// New{{ s.endpoints }} makes an endpoint for each method of svc, wrapped in
// the middleware of in.
func New{{ s.endpoints }}(svc service.{{ s.iface }}, in Instrumentation) {{ s.endpoints }} {
	return {{ s.endpoints }}{
{%- for m in s.methods %}
{%- if m.is_unary() %}
		{{ pad(m.field.clone() + ":", s.pad_literal_keys) }} in.Wrap("{{ m.label }}", {{ m.make_endpoint }}(svc)),
{%- else %}
		{{ pad(m.field.clone() + ":", s.pad_literal_keys) }} {{ m.make_stream() }}(svc, in),
{%- endif %}
{%- endfor %}
	}
}
{% for m in s.methods %}{% if m.is_unary() %}
// {{ m.make_endpoint }} returns an endpoint that calls svc.{{ m.name }} with a
// *{{ m.input }}.
func {{ m.make_endpoint }}(svc service.{{ s.iface }}) endpoint.Endpoint {
	return func(ctx context.Context, request any) (any, error) {
		return svc.{{ m.name }}(ctx, request.(*{{ m.input }}))
	}
}
{% else %}
// {{ m.make_stream() }} returns svc.{{ m.name }} run through the middleware of
// in, as the unary methods' endpoints are.
func {{ m.make_stream() }}(svc service.{{ s.iface }}, in Instrumentation) {{ m.func_type() }} {
	run := in.WrapStream("{{ m.label }}")
	return func{% if m.is_client_streaming() %}{{ m.named_result_signature() }}{% else %}{{ m.signature() }}{% endif %} {
{%- if m.is_client_streaming() %}
		err = run(ctx, func(ctx context.Context) (err error) {
			resp, err = svc.{{ m.name }}({{ m.call_args() }})
			return err
		})
		return resp, err
{%- else %}
		return run(ctx, func(ctx context.Context) error {
			return svc.{{ m.name }}({{ m.call_args() }})
		})
{%- endif %}
	}
}
{% endif %}{% endfor %}
{%- for m in s.methods %}
// {{ m.name }} calls {{ m.field }}.
func (e {{ s.endpoints }}) {{ m.name }}{{ m.signature() }} {
{%- if m.is_unary() %}
	resp, err := e.{{ m.field }}(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.(*{{ m.output }}), nil
{%- else %}
	return e.{{ m.field }}({{ m.call_args() }})
{%- endif %}
}
{% endfor %}
{%- endfor -%}
