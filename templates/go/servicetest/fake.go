// Package servicetest provides recording fakes of the services, for testing
// the layers above them: endpoints, transports and clients.
package servicetest

import (
{{ imports() }}
)

// recorder keeps the messages a fake received.
type recorder struct {
	mu       sync.Mutex
	requests []proto.Message
}

func (r *recorder) record(msg proto.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, msg)
}

// Requests returns the messages received so far, in order, every message of
// a client stream included.
func (r *recorder) Requests() []proto.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]proto.Message(nil), r.requests...)
}

// response returns the response configured for a method, or zero.
func response[M proto.Message](configured proto.Message, zero M) M {
	if configured == nil {
		return zero
	}
	return configured.(M)
}
{%- for s in p.services %}

// {{ s.base }} is a fake service.{{ s.iface }}. Each method records its request and
// answers with Err when set, else with its entry in Responses (keyed by
// method name), else with an empty response. Server streams send the
// response twice; bidirectional streams answer every message.
type {{ s.base }} struct {
	recorder

	Err       error
	Responses map[string]proto.Message
}

var _ service.{{ s.iface }} = (*{{ s.base }})(nil)
{%- for m in s.methods %}

// {{ m.name }} implements service.{{ s.iface }}.
func (f *{{ s.base }}) {{ m.name }}{{ m.signature() }} {
{%- if m.is_unary() %}
	f.record(req)
	if f.Err != nil {
		return nil, f.Err
	}
	return response(f.Responses["{{ m.name }}"], &{{ m.output }}{}), nil
{%- else if m.is_server_streaming() %}
	f.record(req)
	if f.Err != nil {
		return f.Err
	}
	resp := response(f.Responses["{{ m.name }}"], &{{ m.output }}{})
	for range 2 {
		if err := send(resp); err != nil {
			return err
		}
	}
	return nil
{%- else if m.is_client_streaming() %}
	for {
		req, err := recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		f.record(req)
	}
	if f.Err != nil {
		return nil, f.Err
	}
	return response(f.Responses["{{ m.name }}"], &{{ m.output }}{}), nil
{%- else %}
	if f.Err != nil {
		return f.Err
	}
	for {
		req, err := recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		f.record(req)
		if err := send(response(f.Responses["{{ m.name }}"], &{{ m.output }}{})); err != nil {
			return err
		}
	}
{%- endif %}
}
{%- endfor %}
{%- endfor %}
