//! Sample values for generated tests and docs, target-neutral: which fields
//! of a method's request and response a sample sets, and to what, so that
//! every target's tests hit a real route and its docs show the same values.
//! A target only writes them in its own syntax.

use super::path_template::{PathTemplate, Segment};
use super::{Api, Cardinality, FieldType, Message, Method, Scalar};

/// What a sample field is set to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sample {
    /// A value typical of the field's type (see [`scalar`]).
    Default,
    /// A string that matches a path variable's segments.
    PathValue(String),
}

/// A sample scalar value, for a target to write in its syntax.
#[derive(Debug, Clone, PartialEq)]
pub enum ScalarValue {
    String(String),
    /// The bytes of `sample`.
    Bytes(&'static str),
    Bool(bool),
    /// 1.5
    Float(f64),
    /// 7
    Int(i64),
}

/// The value of scalar field `field` of type `s` set to `sample`.
pub fn scalar(s: Scalar, sample: &Sample, field: &str) -> ScalarValue {
    match (s, sample) {
        (Scalar::Bytes, _) => ScalarValue::Bytes("sample"),
        (Scalar::String, Sample::PathValue(v)) => ScalarValue::String(v.clone()),
        (Scalar::String, Sample::Default) => ScalarValue::String(format!("{field} sample")),
        (Scalar::Bool, _) => ScalarValue::Bool(true),
        (Scalar::Double | Scalar::Float, _) => ScalarValue::Float(1.5),
        _ => ScalarValue::Int(7),
    }
}

/// The fields a sample request of `method` sets: the path variables of
/// `route` (its first non-default route), so that a test hits a real route,
/// plus one plain field. Dotted paths of proto field names.
pub fn request(api: &Api, method: &Method, route: Option<&PathTemplate>) -> Vec<(String, Sample)> {
    let mut assignments: Vec<(String, Sample)> = Vec::new();
    for seg in route.map(|t| t.segments.as_slice()).unwrap_or_default() {
        if let Segment::Variable { field, segments } = seg {
            // A well-known message (StringValue, Timestamp, …) is set
            // through its own field.
            let mut value = sample_segments(segments);
            let path = match field_type_at(api, &method.input, field) {
                Some(FieldType::Message(wkt)) => match wkt.as_str() {
                    "google.protobuf.Timestamp" | "google.protobuf.Duration" => {
                        format!("{field}.seconds")
                    }
                    "google.protobuf.FieldMask" => {
                        // A mask's paths are field names.
                        if matches!(segments.as_slice(), [Segment::Wildcard]) {
                            value = "name".into();
                        }
                        format!("{field}.paths")
                    }
                    _ => format!("{field}.value"),
                },
                _ => field.clone(),
            };
            assignments.push((path, Sample::PathValue(value)));
        }
    }
    if let Some(field) = api
        .message(&method.input)
        .and_then(|m| first_plain_field(m, &assignments))
    {
        assignments.push((field, Sample::Default));
    }
    assignments
}

/// The fields a sample response of `method` sets: one plain field.
pub fn response(api: &Api, method: &Method) -> Vec<(String, Sample)> {
    api.message(&method.output)
        .and_then(|m| first_plain_field(m, &[]))
        .map(|f| vec![(f, Sample::Default)])
        .unwrap_or_default()
}

/// A concrete URL path matching `t`, for tests and docs: wildcards become
/// 1, 2, … in order.
pub fn path(t: &PathTemplate) -> String {
    let mut out = format!("/{}", sample_segments(&t.segments));
    if let Some(verb) = &t.verb {
        out.push(':');
        out.push_str(verb);
    }
    out
}

/// A concrete value for path segments: wildcards become 1, 2, … in order.
fn sample_segments(segments: &[Segment]) -> String {
    let mut counter = 0;
    sample_segments_from(segments, &mut counter)
}

fn sample_segments_from(segments: &[Segment], counter: &mut usize) -> String {
    segments
        .iter()
        .map(|s| match s {
            Segment::Literal(l) => l.clone(),
            Segment::Wildcard => {
                *counter += 1;
                counter.to_string()
            }
            Segment::DeepWildcard => {
                *counter += 2;
                format!("{}/{}", *counter - 1, *counter)
            }
            Segment::Variable { segments, .. } => sample_segments_from(segments, counter),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A field with a simple scalar type not already assigned, for sample
/// literals: a plain one if there is one, else one with explicit presence or
/// in a oneof none of `taken` is in.
fn first_plain_field(msg: &Message, taken: &[(String, Sample)]) -> Option<String> {
    let oneof_of = |name: &str| {
        msg.fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.oneof)
    };
    let free = |f: &&super::Field| {
        f.cardinality != Cardinality::Repeated
            && matches!(f.ty, FieldType::Scalar(s) if s != Scalar::Bytes)
            && !taken.iter().any(|(p, _)| {
                let head = p.split('.').next().unwrap_or(p);
                head == f.name || (f.oneof.is_some() && oneof_of(head) == f.oneof)
            })
    };
    msg.fields
        .iter()
        .filter(free)
        .find(|f| f.oneof.is_none() && f.cardinality == Cardinality::Single)
        .or_else(|| msg.fields.iter().find(|f| free(f)))
        .map(|f| f.name.clone())
}

/// The type of the field at a dotted path of a message.
fn field_type_at<'a>(api: &'a Api, message: &str, path: &str) -> Option<&'a FieldType> {
    let mut msg = api.message(message)?;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let field = msg.fields.iter().find(|f| f.name == part)?;
        if parts.peek().is_none() {
            return Some(&field.ty);
        }
        match &field.ty {
            FieldType::Message(inner) => msg = api.message(inner)?,
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::path_template::parse;

    #[test]
    fn sample_paths_fill_wildcards_in_order() {
        assert_eq!(
            path(&parse("/v1/{name=shelves/*}:merge").unwrap()),
            "/v1/shelves/1:merge"
        );
        assert_eq!(
            path(&parse("/v1/{parent=projects/*/docs/**}/{id}").unwrap()),
            "/v1/projects/1/docs/2/3/4"
        );
    }

    #[test]
    fn scalar_samples() {
        assert_eq!(
            scalar(Scalar::String, &Sample::Default, "title"),
            ScalarValue::String("title sample".into())
        );
        assert_eq!(
            scalar(
                Scalar::String,
                &Sample::PathValue("shelves/1".into()),
                "name"
            ),
            ScalarValue::String("shelves/1".into())
        );
        assert_eq!(
            scalar(Scalar::Sint64, &Sample::Default, "n"),
            ScalarValue::Int(7)
        );
        assert_eq!(
            scalar(Scalar::Bytes, &Sample::Default, "b"),
            ScalarValue::Bytes("sample")
        );
    }
}
