//! The echo implementation the Rust end-to-end test writes over kitgen's
//! stub: every value back as it came, through the user's own types.

use std::collections::HashMap;
use tonic::Status;

use crate::echo::{Echo, Level, Point, Shape};

/// Implements [`Echo`]. Add the dependencies it needs (a database,
/// other clients) as fields.
#[derive(Debug, Default, Clone)]
pub struct EchoService {}

impl Echo for EchoService {
    /// Shape echoes a shape.
    async fn shape(&self, shape: Shape) -> Result<Shape, Status> {
        Ok(shape)
    }

    /// Many echoes shapes, and counts them.
    async fn many(
        &self,
        shapes: Vec<Shape>,
        by_name: HashMap<String, Shape>,
    ) -> Result<(Vec<Shape>, HashMap<String, Shape>, u32), Status> {
        let count = u32::try_from(shapes.len() + by_name.len())
            .map_err(|_| Status::invalid_argument("too many shapes"))?;
        Ok((shapes, by_name, count))
    }

    /// Levels echoes levels, synchronously.
    fn levels(&self, level: Level, more: Vec<Level>) -> Result<(Level, Vec<Level>), Status> {
        Ok((level, more))
    }

    /// Maybe echoes what may be absent.
    async fn maybe(
        &self,
        point: Option<Point>,
        _level: Option<Level>,
    ) -> Result<Option<Point>, Status> {
        Ok(point)
    }
}
