package service

import (
{{ imports() }}
)

// New{{ s.iface }} returns the implementation of {{ s.iface }}.
func New{{ s.iface }}() {{ s.iface }} {
	return &{{ s.lower }}Service{}
}

// {{ s.lower }}Service implements {{ s.iface }}. Add the dependencies it needs
// (a database, other clients) as fields and take them in New{{ s.iface }}.
type {{ s.lower }}Service struct{}
{% for m in s.methods %}
{%- if m.doc.is_empty() %}
// {{ m.name }} implements the {{ m.proto_name }} RPC.
{%- else %}
{%- for line in m.doc %}
//{% if !line.is_empty() %} {{ line }}{% endif %}
{%- endfor %}
{%- endif %}
func (s *{{ s.lower }}Service) {{ m.name }}{{ m.signature() }} {
{%- if m.starter == Some(Starter::Sum) %}
	a, b := req.GetA(), req.GetB()
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return nil, Errorf(CodeInvalidArgument, "%d + %d overflows int64", a, b)
	}
	return &pb.SumResponse{Result: a + b}, nil
{%- else if m.starter == Some(Starter::Concat) %}
	const maxLen = 10 // as in go-kit's addsvc
	v := req.GetA() + req.GetB()
	if len(v) > maxLen {
		return nil, Errorf(CodeInvalidArgument, "the result is longer than %d bytes", maxLen)
	}
	return &pb.ConcatResponse{Result: v}, nil
{%- else if m.is_unary() || m.is_client_streaming() %}
	return nil, Errorf(CodeUnimplemented, "{{ m.name }} is not implemented yet")
{%- else %}
	return Errorf(CodeUnimplemented, "{{ m.name }} is not implemented yet")
{%- endif %}
}
{% endfor -%}
