#[cfg(test)]
// A deprecated RPC (`option deprecated = true`) is still served and
// tested here, through the client method tonic marks #[deprecated].
#[allow(deprecated)]
mod tests {
    //! Every method over gRPC on loopback, against a fake service: requests
    //! and responses cross tonic and the endpoints intact, errors keep
    //! their code.

    use super::*;
    use crate::endpoint::{Endpoints, Instrumentation, Services};
    use crate::service::Code;

    /// Answers every method with a default message (streams: one), or
    /// INVALID_ARGUMENT when the request carries `x-fail` metadata.
    struct Fake;

    fn fail<T>(request: &Request<T>) -> Result<(), Status> {
        match request.metadata().get("x-fail") {
            Some(_) => Err(Status::invalid_argument("asked to fail")),
            None => Ok(()),
        }
    }
{%- for s in p.services %}

    impl crate::service::{{ s.name }} for Fake {
{%- for m in s.methods %}
        async fn {{ m.name }}(&self, request: Request<{{ m.request_type() }}>) -> Result<{{ m.response_type() }}, Status> {
            fail(&request)?;
{%- if m.client_streaming %}
            let mut stream = request.into_inner();
            while let Some(message) = tokio_stream::StreamExt::next(&mut stream).await {
                message?;
            }
{%- endif %}
{%- if m.server_streaming %}
            Ok(Box::pin(tokio_stream::iter(vec![Ok({{ m.output_default() }})])))
{%- else %}
            Ok({{ m.output_default() }})
{%- endif %}
        }
{%- endfor %}
    }
{%- endfor %}

    /// Serves the fake on a loopback port and connects to it.
    async fn serve() -> tonic::transport::Channel {
        serve_with(&Instrumentation::default()).await
    }

    async fn serve_with(instrumentation: &Instrumentation) -> tonic::transport::Channel {
        let services = Services {
{%- for s in p.services %}
            {{ s.field }}: Fake,
{%- endfor %}
        };
        let endpoints = Endpoints::new(instrumentation, services);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let incoming = crate::server::grpc_connections(listener);
        tokio::spawn(tonic::transport::Server::builder().add_routes(routes(&endpoints)).serve_with_incoming(incoming));
        tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap()
    }
{%- for s in p.services %}
{%- for m in s.methods %}

    #[tokio::test]
    async fn {{ m.test_name }}() {
        // Called by its path: tonic's client is `Clone`, and an RPC named
        // like a method of a prelude trait (`Clone`, `Into`) would call that.
        use {{ s.pb_module }}::{{ s.client_mod }}::{{ s.name }}Client as Client;
        let mut client = Client::new(serve().await);
{%- if m.client_streaming %}
        let request = || Request::new(tokio_stream::iter(vec![{{ m.input_default() }}]));
{%- else %}
        let request = || Request::new({{ m.input_default() }});
{%- endif %}
{%- if m.server_streaming %}
        let mut stream = Client::{{ m.name }}(&mut client, request()).await.unwrap().into_inner();
        assert_eq!(stream.message().await.unwrap(), Some({{ m.output_default() }}));
        assert_eq!(stream.message().await.unwrap(), None);
{%- else %}
        let response = Client::{{ m.name }}(&mut client, request()).await.unwrap();
{%- if m.output_is_unit() %}
        let () = response.into_inner();
{%- else %}
        assert_eq!(response.into_inner(), {{ m.output_default() }});
{%- endif %}
{%- endif %}
        let mut failing = request();
        failing.metadata_mut().insert("x-fail", "1".parse().unwrap());
        let err = Client::{{ m.name }}(&mut client, failing).await.expect_err("the fake fails");
        assert_eq!(err.code(), Code::InvalidArgument);
    }
{%- endfor %}
{%- endfor %}

    /// Request and response bytes as they are, to send what no message
    /// encodes to.
    struct Raw;

    impl tonic::codec::Codec for Raw {
        type Encode = Vec<u8>;
        type Decode = Vec<u8>;
        type Encoder = Raw;
        type Decoder = Raw;

        fn encoder(&mut self) -> Raw {
            Raw
        }

        fn decoder(&mut self) -> Raw {
            Raw
        }
    }

    impl tonic::codec::Encoder for Raw {
        type Item = Vec<u8>;
        type Error = Status;

        fn encode(&mut self, item: Vec<u8>, dst: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), Status> {
            prost::bytes::BufMut::put_slice(dst, &item);
            Ok(())
        }
    }

    impl tonic::codec::Decoder for Raw {
        type Item = Vec<u8>;
        type Error = Status;

        fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
            use prost::bytes::Buf;
            Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
        }
    }

    /// Calls that no endpoint sees answer as grpc-go answers them, and
    /// count as gRPC transport errors as in Go (a message over the size
    /// limit is refused before that, uncounted, as grpc-go does).
    #[tokio::test]
    async fn calls_refused_before_an_endpoint_answer_as_go_and_are_counted() {
        let registry = prometheus::Registry::new();
        let metrics = crate::endpoint::Metrics::new(&registry, "test").unwrap();
        let channel = serve_with(&Instrumentation { metrics: Some(metrics), ..Default::default() }).await;
        let call = |path: String, body: Vec<u8>| {
            let mut grpc = tonic::client::Grpc::new(channel.clone());
            async move {
                grpc.ready().await.unwrap();
                grpc.unary(Request::new(body), path.parse().unwrap(), Raw).await.expect_err(&path)
            }
        };
        let mut unknown = vec!["/x.Y/Z".to_string()];
{%- for s in p.services %}
        unknown.push("/{{ s.full_name }}/Nope".to_string());
{%- endfor %}
        for path in &unknown {
            let err = call(path.clone(), vec![]).await;
            assert_eq!((err.code(), err.message()), (Code::Unimplemented, &*format!("unknown method {path}")));
        }
        // Every method that decodes its request before its endpoint runs.
        let undecodable: &[&str] = &[
{%- for s in p.services %}
{%- for m in s.methods %}
{%- if !m.client_streaming %}
            "/{{ s.full_name }}/{{ m.proto_name }}",
{%- endif %}
{%- endfor %}
{%- endfor %}
        ];
        for path in undecodable {
            let err = call(path.to_string(), vec![0xff, 0xff, 0xff]).await;
            assert_eq!(err.code(), Code::Internal, "{path}: {err:?}");
            let err = call(path.to_string(), vec![0; 4 * 1024 * 1024 + 1]).await;
            assert_eq!(err.code(), Code::ResourceExhausted, "{path}: {err:?}");
        }
        let mut text = String::new();
        prometheus::TextEncoder::new().encode_utf8(&registry.gather(), &mut text).unwrap();
        let counted: Vec<&str> = text.lines().filter(|l| l.starts_with("test_") && !l.starts_with("test_request_duration")).collect();
        let mut want = vec![format!("{}{}", r#"test_transport_errors_total{code="UNIMPLEMENTED",transport="gRPC"} "#, unknown.len())];
        if !undecodable.is_empty() {
            want.insert(0, format!("{}{}", r#"test_transport_errors_total{code="INTERNAL",transport="gRPC"} "#, undecodable.len()));
        }
        assert_eq!(counted, want);
    }
}
