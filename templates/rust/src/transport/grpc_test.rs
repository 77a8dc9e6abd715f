#[cfg(test)]
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
        let services = Services {
{%- for s in p.services %}
            {{ s.field }}: Fake,
{%- endfor %}
        };
        let endpoints = Endpoints::new(&Instrumentation::default(), services);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
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
}
