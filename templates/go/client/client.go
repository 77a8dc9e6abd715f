// Package client calls any method of {{ p.name }} by name, with requests and
// responses in the protobuf JSON mapping: what cmd/{{ p.cli_name }} needs.
package client

import (
{{ imports() }}
)

// Client calls {{ p.name }} over one transport.
type Client struct {
{%- for s in p.services %}
	{{ pad(s.lower.clone(), p.pad_service_lower) }} service.{{ s.iface }}
{%- endfor %}
}

// NewGRPC returns a client that calls the server over conn.
func NewGRPC(conn *grpc.ClientConn) *Client {
	return &Client{
{%- for s in p.services %}
		{{ pad(s.lower.clone() + ":", p.pad_service_lower + 1) }} transport.New{{ s.base }}GRPCClient(conn),
{%- endfor %}
	}
}

// NewHTTP returns a client that calls the server at baseURL, such as
// "http://localhost:8081". Streaming methods need gRPC.
func NewHTTP(baseURL string) (*Client, error) {
	var c Client
{%- for s in p.services %}
	{{ s.lower }}, err := transport.New{{ s.base }}HTTPClient(baseURL, nil)
	if err != nil {
		return nil, err
	}
	c.{{ s.lower }} = {{ s.lower }}
{%- endfor %}
	return &c, nil
}

// Methods lists the method names Call accepts.
func Methods() []string {
	return []string{
{%- for s in p.services %}
{%- for m in s.methods %}
		{{ quote(m.cli_names[0]) }},
{%- endfor %}
{%- endfor %}
	}
}

// Call invokes method with requests, each a JSON message: one for a unary
// or server-streaming method, any number for a client or bidirectional
// stream. Each response is passed to out as JSON.
func (c *Client) Call(ctx context.Context, method string, requests []string, out func(string)) error {
	switch method {
{%- for s in p.services %}
{%- for m in s.methods %}
	case {{ m.cli_names_quoted() }}:
{%- if m.is_unary() || m.is_server_streaming() %}
		req := &{{ m.input }}{}
		if err := unmarshalOne(requests, req); err != nil {
			return err
		}
{%- else %}
		reqs, err := unmarshalAll(requests, func() *{{ m.input }} { return &{{ m.input }}{} })
		if err != nil {
			return err
		}
{%- endif %}
{%- if m.is_unary() %}
		resp, err := c.{{ s.lower }}.{{ m.name }}(ctx, req)
		if err != nil {
			return err
		}
		return emit(out, resp)
{%- else if m.is_server_streaming() %}
		return c.{{ s.lower }}.{{ m.name }}(ctx, req, func(resp *{{ m.output }}) error {
			return emit(out, resp)
		})
{%- else if m.is_client_streaming() %}
		resp, err := c.{{ s.lower }}.{{ m.name }}(ctx, recvFrom(reqs))
		if err != nil {
			return err
		}
		return emit(out, resp)
{%- else %}
		return c.{{ s.lower }}.{{ m.name }}(ctx, recvFrom(reqs), func(resp *{{ m.output }}) error {
			return emit(out, resp)
		})
{%- endif %}
{%- endfor %}
{%- endfor %}
	default:
		return fmt.Errorf("unknown method %q; known: %s", method, strings.Join(Methods(), ", "))
	}
}

func unmarshalOne(requests []string, msg proto.Message) error {
	switch len(requests) {
	case 0:
		return nil
	case 1:
		return protojson.Unmarshal([]byte(requests[0]), msg)
	default:
		return fmt.Errorf("this method takes one request, got %d", len(requests))
	}
}

{%- if p.has_client_streams() %}

func unmarshalAll[M proto.Message](requests []string, newMessage func() M) ([]M, error) {
	msgs := make([]M, 0, len(requests))
	for _, r := range requests {
		msg := newMessage()
		if err := protojson.Unmarshal([]byte(r), msg); err != nil {
			return nil, err
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// recvFrom returns a recv function that yields msgs, then io.EOF.
func recvFrom[M any](msgs []M) func() (M, error) {
	return func() (M, error) {
		var zero M
		if len(msgs) == 0 {
			return zero, io.EOF
		}
		msg := msgs[0]
		msgs = msgs[1:]
		return msg, nil
	}
}
{%- endif %}

func emit(out func(string), msg proto.Message) error {
	data, err := protojson.Marshal(msg)
	if err != nil {
		return err
	}
	out(string(data))
	return nil
}
