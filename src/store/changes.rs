//! The PostgreSQL side of the change channel (`crate::changes`): `LISTEN` on its channel.

use async_trait::async_trait;

use super::StoreError;
use crate::changes::{ChangeListener, Heard};

/// PostgreSQL `LISTEN` on [`CHANNEL`].
#[derive(Debug)]
pub(crate) struct PgChanges(pub(crate) sqlx::postgres::PgListener);

#[async_trait]
impl ChangeListener for PgChanges {
    async fn next(&mut self) -> Result<Heard, StoreError> {
        match self.0.try_recv().await.map_err(super::query_err("listen for changes"))? {
            Some(n) => Ok(Heard::Payload(n.payload().to_owned())),
            None => Ok(Heard::Reconnected),
        }
    }
}
