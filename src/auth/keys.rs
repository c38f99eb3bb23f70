//! API keys: made from 192 random bits, stored as their SHA-256 only, checked per request through a short-lived
//! cache so a revocation anywhere (CLI, another replica) takes effect within [`Keyring::FRESH`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::KeyStore;
use super::{Caller, Role, Scope};
use crate::store_error::StoreError;

/// What every key starts with, so a leaked key is recognisable (secret scanners, logs).
pub const KEY_PREFIX: &str = "gmk_";

/// A key to store.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Who or what holds it.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Where its view is restricted to.
    pub scope: Option<Scope>,
    /// SHA-256 of the secret, hex.
    pub hash: String,
    /// The secret's first characters, to tell keys apart in listings.
    pub prefix: String,
}

/// A stored key (never the secret).
#[derive(Debug, Clone, Serialize)]
pub struct StoredKey {
    /// Id (for `keys revoke`).
    pub id: i64,
    /// Holder.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Restriction.
    pub scope: Option<Scope>,
    /// First characters of the secret.
    pub prefix: String,
    /// When made (RFC 3339).
    pub created_at: String,
    /// When revoked (RFC 3339), if it was.
    pub revoked_at: Option<String>,
}

/// Makes a new secret and the record to store for it.
pub fn generate(name: &str, role: Role, scope: Option<Scope>) -> (String, NewKey) {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{KEY_PREFIX}{}", hex(&bytes));
    let key = NewKey {
        name: name.to_owned(),
        role,
        scope,
        hash: hash(&secret),
        prefix: secret[..KEY_PREFIX.len() + 8].to_owned(),
    };
    (secret, key)
}

/// SHA-256 of a secret, hex. Keys carry 192 random bits, so a fast hash is enough: there is nothing to guess.
pub fn hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Resolves presented keys to callers.
#[derive(Debug)]
pub struct Keyring {
    store: Arc<dyn KeyStore>,
    cache: Mutex<HashMap<String, (Instant, Option<Caller>)>>,
}

impl Keyring {
    /// How long a check is reused before the store is asked again.
    pub const FRESH: Duration = Duration::from_secs(2);
    const MAX_CACHED: usize = 10_000;

    /// A keyring over the store's keys.
    pub fn new(store: Arc<dyn KeyStore>) -> Self {
        Self { store, cache: Mutex::new(HashMap::new()) }
    }

    /// The caller a presented secret stands for; `None` for an unknown or revoked key.
    pub async fn caller(&self, secret: &str) -> Result<Option<Caller>, StoreError> {
        let digest = hash(secret);
        if let Some((at, caller)) = self.lock().get(&digest)
            && at.elapsed() < Self::FRESH
        {
            return Ok(caller.clone());
        }
        let found = match self.store.key_by_hash(&digest).await {
            Ok(found) => found,
            // The database is unreachable: the last answer for this key stands (no revocation can be written
            // meanwhile), so callers already seen keep working through an outage.
            Err(e) if e.is_unavailable() => match self.lock().get(&digest) {
                Some((_, caller)) => return Ok(caller.clone()),
                None => return Err(e),
            },
            Err(e) => return Err(e),
        };
        let caller = found.filter(|k| k.revoked_at.is_none()).map(|k| Caller::Key {
            id: k.id,
            name: k.name,
            role: k.role,
            scope: k.scope,
        });
        let mut cache = self.lock();
        if cache.len() >= Self::MAX_CACHED {
            cache.clear();
        }
        cache.insert(digest, (Instant::now(), caller.clone()));
        Ok(caller)
    }

    /// Drops every cached check (after a revocation through this process).
    pub fn forget(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Option<Caller>)>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_only_hashed() {
        let (a, ka) = generate("a", Role::Viewer, None);
        let (b, _) = generate("b", Role::Viewer, None);
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_PREFIX) && a.len() == KEY_PREFIX.len() + 48);
        assert_eq!(ka.hash, hash(&a));
        assert!(!ka.hash.contains(&a[KEY_PREFIX.len()..]) && a.starts_with(&ka.prefix));
        // A known vector: SHA-256("abc").
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
