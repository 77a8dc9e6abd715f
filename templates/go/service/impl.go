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
{%- if let Some(example) = m.example %}
{{ example.body }}
{%- else if m.is_unary() || m.is_client_streaming() %}
	return nil, Errorf(CodeUnimplemented, "{{ m.name }} is not implemented yet")
{%- else %}
	return Errorf(CodeUnimplemented, "{{ m.name }} is not implemented yet")
{%- endif %}
}
{% endfor -%}
