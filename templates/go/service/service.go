// Package service holds the business logic of {{ p.name }}: one interface per
// API service, free of any transport concern. The implementations live in
// files of this package that are yours to edit.
package service

import (
{{ imports() }}
)
{% for s in p.services %}
// {{ s.iface }} is the business logic behind the {{ s.full_name }} API.
{%- if !s.doc.is_empty() %}
//
{%- for line in s.doc %}
//{% if !line.is_empty() %} {{ line }}{% endif %}
{%- endfor %}
{%- endif %}
{%- if s.has_streams() %}
//
// Streaming methods receive the stream as functions: recv returns io.EOF
// after the peer's last message, and send delivers one message.
{%- endif %}
type {{ s.iface }} interface {
{%- for m in s.methods %}
{%- for line in m.doc %}
	//{% if !line.is_empty() %} {{ line }}{% endif %}
{%- endfor %}
	{{ m.name }}{{ m.signature() }}
{%- endfor %}
}
{% endfor -%}
