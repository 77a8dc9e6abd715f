package transport

import (
{{ imports() }}
)

// GRPCErrorHandler makes a gRPC server answer a call of a service or
// method it does not have UNIMPLEMENTED, as grpc-go does, and tell refused
// first: endpoints.Instrumentation.TransportError logs and counts it, as
// it does the HTTP transport's refusals (see HTTPErrorHandler).
func GRPCErrorHandler(refused func(ctx context.Context, err error)) grpc.ServerOption {
	return grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		err := service.Errorf(service.CodeUnimplemented, "unknown method %s", bounded(method))
		if refused != nil {
			refused(stream.Context(), err)
		}
		return grpcError(err)
	})
}

// GRPCDecodeErrorHandler makes a gRPC server tell refused of each request
// message it cannot decode, which no endpoint sees, as HTTPErrorHandler
// does of undecodable bodies: endpoints.Instrumentation.TransportError
// logs and counts it. grpc-go answers such a call INTERNAL; it is counted
// so. The server's codec stays the protobuf one, wrapped
// (grpc.ForceServerCodecV2).
func GRPCDecodeErrorHandler(refused func(ctx context.Context, err error)) grpc.ServerOption {
	return grpc.ForceServerCodecV2(decodeErrorCodec{CodecV2: encoding.GetCodecV2("proto"), refused: refused})
}

// decodeErrorCodec is a codec that tells refused of what it cannot decode.
type decodeErrorCodec struct {
	encoding.CodecV2
	refused func(ctx context.Context, err error)
}

func (c decodeErrorCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err != nil && c.refused != nil {
		// A codec is given no context: the call's is out of reach here.
		c.refused(context.Background(), service.Errorf(service.CodeInternal, "undecodable request message: %w", err))
	}
	return err
}
{% if p.has_unary() %}
// passThrough is every gRPC codec of this package: the service takes and
// returns the protobuf messages themselves, so there is nothing to convert.
func passThrough(_ context.Context, msg any) (any, error) {
	return msg, nil
}

// grpcServerOptions apply to every gRPC endpoint server.
var grpcServerOptions = []grpctransport.ServerOption{
	grpctransport.ServerBefore(credentialsFromGRPC),
}

// grpcClientEndpoint calls method of the remote service over conn. reply is
// the zero response message, from which go-kit allocates each response.
func grpcClientEndpoint(conn *grpc.ClientConn, serviceName, method string, reply any) endpoint.Endpoint {
	call := grpctransport.NewClient(conn, serviceName, method, passThrough, passThrough, reply,
		grpctransport.ClientBefore(credentialsToGRPC),
	).Endpoint()
	return func(ctx context.Context, request any) (any, error) {
		response, err := call(ctx, request)
		if err != nil {
			return nil, fromGRPCError(err)
		}
		return response, nil
	}
}
{% endif %}
{%- for s in p.services %}
// New{{ s.base }}GRPCServer serves the {{ s.full_name }} gRPC service from e.
func New{{ s.base }}GRPCServer(e endpoints.{{ s.endpoints }}) {{ s.pb.name }}.{{ s.grpc_name }}Server {
	return &{{ s.lower }}GRPCServer{
{%- for m in s.unary_methods() %}
		{{ pad(m.lower.clone() + ":", s.pad_handler_fields + 1) }} grpctransport.NewServer(e.{{ m.field }}, passThrough, passThrough, grpcServerOptions...),
{%- endfor %}
{%- if s.has_streams() %}
		{{ pad(s.streams_field.clone() + ":", s.pad_handler_fields + 1) }} e,
{%- endif %}
	}
}

type {{ s.lower }}GRPCServer struct {
	{{ s.pb.name }}.Unimplemented{{ s.grpc_name }}Server

{%- if s.has_unary() || s.has_streams() %}
{% endif %}
{%- for m in s.unary_methods() %}
	{{ pad(m.lower.clone(), s.pad_handler_fields) }} grpctransport.Handler
{%- endfor %}
{%- if s.has_streams() %}
	{{ pad(s.streams_field.clone(), s.pad_handler_fields) }} endpoints.{{ s.endpoints }}
{%- endif %}
}
{% for m in s.methods %}
// {{ m.name }} serves the {{ m.kind_doc() }} {{ m.proto_name }} RPC.
{%- if m.is_unary() %}
func (s *{{ s.lower }}GRPCServer) {{ m.name }}(ctx context.Context, req *{{ m.input }}) (*{{ m.output }}, error) {
	_, resp, err := s.{{ m.lower }}.ServeGRPC(ctx, req)
	if err != nil {
		return nil, grpcError(err)
	}
	return resp.(*{{ m.output }}), nil
}
{%- else if m.is_server_streaming() %}
func (s *{{ s.lower }}GRPCServer) {{ m.name }}(req *{{ m.input }}, stream grpc.ServerStreamingServer[{{ m.output }}]) error {
	return grpcError(s.{{ s.streams_field }}.{{ m.field }}(streamContext(stream.Context()), req, stream.Send))
}
{%- else if m.is_client_streaming() %}
func (s *{{ s.lower }}GRPCServer) {{ m.name }}(stream grpc.ClientStreamingServer[{{ m.input }}, {{ m.output }}]) error {
	resp, err := s.{{ s.streams_field }}.{{ m.field }}(streamContext(stream.Context()), stream.Recv)
	if err != nil {
		return grpcError(err)
	}
	return stream.SendAndClose(resp)
}
{%- else %}
func (s *{{ s.lower }}GRPCServer) {{ m.name }}(stream grpc.BidiStreamingServer[{{ m.input }}, {{ m.output }}]) error {
	return grpcError(s.{{ s.streams_field }}.{{ m.field }}(streamContext(stream.Context()), stream.Recv, stream.Send))
}
{%- endif %}
{% endfor %}
// New{{ s.base }}GRPCClient returns a service.{{ s.iface }} that calls the
// remote {{ s.full_name }} over conn.
func New{{ s.base }}GRPCClient(conn *grpc.ClientConn) service.{{ s.iface }} {
	return New{{ s.base }}GRPCEndpoints(conn)
}

// New{{ s.base }}GRPCEndpoints returns the endpoints of the remote
// {{ s.full_name }} over conn, for clients that add middleware per endpoint.
func New{{ s.base }}GRPCEndpoints(conn *grpc.ClientConn) endpoints.{{ s.endpoints }} {
{%- if s.has_streams() %}
	streams := {{ s.lower }}GRPCStreams{client: {{ s.pb.name }}.New{{ s.grpc_name }}Client(conn)}
{%- endif %}
	return endpoints.{{ s.endpoints }}{
{%- for m in s.methods %}
{%- if m.is_unary() %}
		{{ pad(m.field.clone() + ":", s.pad_literal_keys) }} grpcClientEndpoint(conn, "{{ s.full_name }}", "{{ m.proto_name }}", {{ m.output }}{}),
{%- else %}
		{{ pad(m.field.clone() + ":", s.pad_literal_keys) }} streams.{{ m.lower }},
{%- endif %}
{%- endfor %}
	}
}
{%- if s.has_streams() %}

// {{ s.lower }}GRPCStreams adapts the streaming methods of the gRPC client to
// the send and recv functions of service.{{ s.iface }}.
type {{ s.lower }}GRPCStreams struct {
	client {{ s.pb.name }}.{{ s.grpc_name }}Client
}
{%- for m in s.stream_methods() %}
{%- if m.is_server_streaming() %}

func (c {{ s.lower }}GRPCStreams) {{ m.lower }}(ctx context.Context, req *{{ m.input }}, send func(*{{ m.output }}) error) error {
	stream, err := c.client.{{ m.name }}(outgoingCredentials(ctx), req)
	if err != nil {
		return fromGRPCError(err)
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fromGRPCError(err)
		}
		if err := send(resp); err != nil {
			return err
		}
	}
}
{%- else if m.is_client_streaming() %}

func (c {{ s.lower }}GRPCStreams) {{ m.lower }}(ctx context.Context, recv func() (*{{ m.input }}, error)) (*{{ m.output }}, error) {
	stream, err := c.client.{{ m.name }}(outgoingCredentials(ctx))
	if err != nil {
		return nil, fromGRPCError(err)
	}
	for {
		req, err := recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := stream.Send(req); err != nil {
			// The server ended the call; CloseAndRecv reports why.
			break
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, fromGRPCError(err)
	}
	return resp, nil
}
{%- else %}

func (c {{ s.lower }}GRPCStreams) {{ m.lower }}(ctx context.Context, recv func() (*{{ m.input }}, error), send func(*{{ m.output }}) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.{{ m.name }}(outgoingCredentials(ctx))
	if err != nil {
		return fromGRPCError(err)
	}
	sent := make(chan error, 1)
	go func() {
		for {
			req, err := recv()
			if errors.Is(err, io.EOF) {
				sent <- stream.CloseSend()
				return
			}
			if err != nil {
				sent <- err
				cancel()
				return
			}
			if err := stream.Send(req); err != nil {
				// The server ended the call; Recv reports why.
				sent <- nil
				return
			}
		}
	}()
	for {
		resp, err := stream.Recv()
		if err != nil {
			// A failure of recv ends the call too: report it rather than
			// the cancellation it caused.
			select {
			case sendErr := <-sent:
				if sendErr != nil {
					return sendErr
				}
			default:
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fromGRPCError(err)
		}
		if err := send(resp); err != nil {
			return err
		}
	}
}
{%- endif %}
{%- endfor %}
{%- endif %}
{% endfor -%}
