//! The {{ s.full_name }} service: your implementation of [`{{ s.name }}`].
//!
//! This file is yours. `kitgen generate` merges a new RPC's method in and
//! keeps your lines.

{{ s.use_messages() }}{{ s.use_service() }}

/// Implements [`{{ s.name }}`]. Add the dependencies it needs (a database,
/// other clients) as fields.
#[derive(Debug, Default, Clone)]
pub struct {{ s.impl_struct }} {}

{% if s.methods.is_empty() -%}
impl {{ s.name }} for {{ s.impl_struct }} {}
{%- else -%}
impl {{ s.name }} for {{ s.impl_struct }} {
{%- for m in s.methods %}
{%- if !loop.first %}
{% endif %}
{%- if m.doc.is_empty() %}
    /// Implements the {{ m.proto_name }} RPC.
{%- else %}
{%- for line in m.doc %}
    ///{% if !line.is_empty() %} {{ line }}{% endif %}
{%- endfor %}
{%- endif %}
{%- match m.example %}
{%- when Some(Example::Sum) %}
{{ m.impl_signature(4, "request") }}
        let SumRequest { a, b } = request.into_inner();
        let result = a
            .checked_add(b)
            .ok_or_else(|| Status::invalid_argument(format!("{a} + {b} overflows int64")))?;
        Ok(SumResponse { result })
    }
{%- when Some(Example::Concat) %}
{{ m.impl_signature(4, "request") }}
        const MAX_LEN: usize = 10; // as in go-kit's addsvc
        let ConcatRequest { a, b } = request.into_inner();
        let result = a + &b;
        if result.len() > MAX_LEN {
            return Err(Status::invalid_argument(format!(
                "the result is longer than {MAX_LEN} bytes"
            )));
        }
        Ok(ConcatResponse { result })
    }
{%- when None %}
{{ m.impl_signature(4, "_request") }}
{{ m.unimplemented_body() }}
    }
{%- endmatch %}
{%- endfor %}
}
{%- endif %}
{%- if s.has_examples() %}

#[cfg(test)]
mod tests {
    use super::*;
{%- for m in s.methods %}
{%- match m.example %}
{%- when Some(Example::Sum) %}

    #[tokio::test]
    async fn sum() {
        let svc = {{ s.impl_struct }}::default();
        let response = svc.sum(Request::new(SumRequest { a: 1, b: 2 })).await;
        assert_eq!(response.unwrap().result, 3);
        let request = Request::new(SumRequest { a: i64::MAX, b: 1 });
        let err = svc.sum(request).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
    }
{%- when Some(Example::Concat) %}

    #[tokio::test]
    async fn concat() {
        let svc = {{ s.impl_struct }}::default();
        let request = ConcatRequest {
            a: "1".into(),
            b: "2".into(),
        };
        let response = svc.concat(Request::new(request)).await;
        assert_eq!(response.unwrap().result, "12");
        let request = ConcatRequest {
            a: "abcdef".into(),
            b: "ghijkl".into(),
        };
        let err = svc.concat(Request::new(request)).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
    }
{%- when None %}
{%- endmatch %}
{%- endfor %}
}
{%- endif %}
