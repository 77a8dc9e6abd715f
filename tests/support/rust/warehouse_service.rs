//! The inventory implementation the Rust end-to-end test writes over
//! kitgen's stub: written against the user's own Warehouse trait and types
//! (src/inventory.rs), knowing nothing of protobuf. Ping is left as
//! kitgen wrote it, answering UNIMPLEMENTED.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use tonic::Status;

use crate::inventory::{Error, Item, State, Warehouse};

/// Implements [`Warehouse`]. Add the dependencies it needs (a database,
/// other clients) as fields.
#[derive(Debug, Default, Clone)]
pub struct WarehouseService {}

fn apple() -> Item {
    Item {
        sku: "apple".into(),
        quantity: 3,
        state: State::InStock,
        tags: vec!["fruit".into()],
        bins: HashMap::from([("a1".to_string(), 2)]),
        photo: b"jpg".to_vec(),
        weight: 0.25,
        fragile: false,
        updated: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        note: Some("crisp".into()),
    }
}

impl Warehouse for WarehouseService {
    /// Get returns one item.
    async fn get(&self, sku: String) -> Result<Item, Error> {
        match sku.as_str() {
            "apple" => Ok(apple()),
            _ => Err(Error::NotFound(sku)),
        }
    }

    /// Adjust changes the stock of an item and says when it may be restocked.
    async fn adjust(
        &self,
        sku: String,
        delta: i32,
        reason: String,
    ) -> Result<(Item, Duration), Error> {
        if reason.is_empty() {
            return Err(Error::Rejected("say why".into()));
        }
        let mut item = self.get(sku).await?;
        item.quantity += i64::from(delta);
        Ok((item, Duration::from_millis(90_500)))
    }

    /// List returns the items in a state.
    async fn list(&self, state: State, limit: u32) -> Result<Vec<Item>, Error> {
        match state {
            State::InStock if limit > 0 => Ok(vec![apple()]),
            _ => Ok(Vec::new()),
        }
    }

    /// Ping checks that the service answers.
    async fn ping(&self) -> Result<(), Error> {
        Err(Status::unimplemented("ping is not implemented yet").into())
    }
}
