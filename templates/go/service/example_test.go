package service

import (
{{ imports() }}
)
{%- for m in s.methods %}
{%- if let Some(example) = m.example %}

{{ example.test }}
{%- endif %}
{%- endfor %}
