package service

import (
{{ imports() }}
)
{% for s in p.services %}
// {{ s.base }}Middleware decorates a {{ s.iface }}. Write your own here (caching,
// validation, auditing) and chain them in cmd/{{ p.name }}/main.go. Unlike the
// endpoint middleware, these also see the streaming methods.
type {{ s.base }}Middleware func({{ s.iface }}) {{ s.iface }}

// {{ s.base }}LoggingMiddleware logs every call at debug level with its duration
// and error: an example to start from.
func {{ s.base }}LoggingMiddleware(logger *slog.Logger) {{ s.base }}Middleware {
	return func(next {{ s.iface }}) {{ s.iface }} {
		return {{ s.lower }}Logging{logger: logger, next: next}
	}
}

type {{ s.lower }}Logging struct {
	logger *slog.Logger
	next   {{ s.iface }}
}
{% for m in s.methods %}
func (mw {{ s.lower }}Logging) {{ m.name }}{{ m.named_result_signature() }} {
	defer func(begin time.Time) {
		if mw.logger.Enabled(ctx, slog.LevelDebug) {
			mw.logger.DebugContext(ctx, "call", "method", "{{ m.label }}", "took", time.Since(begin), "err", err)
		}
	}(time.Now())
	return mw.next.{{ m.name }}({{ m.call_args() }})
}
{% endfor %}
{%- endfor -%}