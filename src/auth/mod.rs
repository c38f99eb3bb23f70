//! Access control: API keys with roles, an optional street/community scope, and which role may do what.
//!
//! Keys are random 192-bit secrets shown once; only their SHA-256 is stored ([`keys`]). Each endpoint declares the
//! [`Access`] level it needs in the HTTP contract (`http::contract`); a [`Role`] grants a set of levels. Reading
//! boundaries is open to anonymous callers; everything about people, positions, events and imports needs a key.

mod storage;
pub use storage::KeyStore;

pub mod keys;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

pub use keys::{Keyring, NewKey, StoredKey};

/// Whether and how requests are checked.
#[derive(Debug)]
pub struct AccessControl {
    /// Off: every caller may do everything (loopback development); on: keys and roles apply.
    pub enabled: bool,
    /// The stored keys.
    pub keyring: Keyring,
}

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything (incidents, responders and positions, heatmaps), writes nothing.
    Viewer,
    /// Reads, reports, and dispatches: assigns and releases responders, manages the roster's status.
    Dispatcher,
    /// Everything, including boundary imports, activation, rollback, bulk loads and the audit log.
    GisAdmin,
    /// Another module of the platform: reads and reports (positions, incidents, hazards, patrols), no dispatch.
    Service,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Dispatcher, Role::GisAdmin, Role::Service];

    /// The name used in the API, the CLI and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Dispatcher => "dispatcher",
            Role::GisAdmin => "gis_admin",
            Role::Service => "service",
        }
    }

    /// Whether the role grants an access level.
    pub fn allows(self, access: Access) -> bool {
        match access {
            Access::Public | Access::Read => true,
            Access::Report => self != Role::Viewer,
            Access::Dispatch => matches!(self, Role::Dispatcher | Role::GisAdmin),
            Access::Admin => self == Role::GisAdmin,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of the four.
#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?}: use viewer, dispatcher, gis_admin or service")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// The access level a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Anyone, without a key: boundaries, lookups, boundary tiles, OGC API, health, the console's files.
    Public,
    /// Any key: incidents, hazards, resources, responders and positions, heatmaps, statistics, live events.
    Read,
    /// Field reports: positions, patrols, incidents and hazards and their status.
    Report,
    /// Dispatch: assignments and the responder roster.
    Dispatch,
    /// Boundary imports, activation, rollback, bulk loads, the audit log.
    Admin,
}

impl Access {
    /// Who may make a request at this level, for messages and the API description.
    pub fn needs(self) -> &'static str {
        match self {
            Access::Public => "open (no key needed)",
            Access::Read => "any API key",
            Access::Report => "a service, dispatcher or gis_admin key",
            Access::Dispatch => "a dispatcher or gis_admin key",
            Access::Admin => "a gis_admin key",
        }
    }
}

/// Where a key's view is restricted to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "layer", content = "code", rename_all = "snake_case")]
pub enum Scope {
    /// One street (街道) and everything inside it.
    Street(String),
    /// One community (社区) and everything inside it.
    Community(String),
}

/// A `--scope` value that is not `street:CODE` or `community:CODE`.
#[derive(Debug, thiserror::Error)]
#[error("invalid scope {0:?}: use street:CODE or community:CODE")]
pub struct InvalidScope(pub String);

impl FromStr for Scope {
    type Err = InvalidScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            Some(("street", code)) if !code.trim().is_empty() => Ok(Scope::Street(code.trim().to_owned())),
            Some(("community", code)) if !code.trim().is_empty() => Ok(Scope::Community(code.trim().to_owned())),
            _ => Err(InvalidScope(s.to_owned())),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Street(c) => write!(f, "street:{c}"),
            Scope::Community(c) => write!(f, "community:{c}"),
        }
    }
}

impl Scope {
    /// Whether an item geocoded to these codes lies inside the scope.
    pub fn contains(&self, street_code: Option<&str>, community_code: Option<&str>) -> bool {
        match self {
            Scope::Street(c) => street_code == Some(c.as_str()),
            Scope::Community(c) => community_code == Some(c.as_str()),
        }
    }

    /// Narrows a list filter's street/community to the scope; `false` when the filter asks for something outside it
    /// (the answer is then empty).
    pub fn narrow(&self, street: &mut Option<String>, community: &mut Option<String>) -> bool {
        let (slot, code) = match self {
            Scope::Street(c) => (street, c),
            Scope::Community(c) => (community, c),
        };
        match slot {
            Some(asked) if asked != code => false,
            _ => {
                *slot = Some(code.clone());
                true
            }
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Access control is off: the caller may do everything and names itself (the `actor` of a request body).
    Unchecked,
    /// No key, with access control on: public endpoints only.
    Anonymous,
    /// A valid key.
    Key {
        /// The key's id.
        id: i64,
        /// Its name.
        name: String,
        /// Its role.
        role: Role,
        /// Where its view is restricted to.
        scope: Option<Scope>,
    },
}

impl Caller {
    /// The name written to the audit log and to event histories; `claimed` is what the request body said, used
    /// only when access control is off.
    pub fn actor(&self, claimed: Option<&str>) -> String {
        match self {
            Caller::Unchecked => claimed.filter(|c| !c.trim().is_empty()).unwrap_or("anonymous").to_owned(),
            Caller::Anonymous => "anonymous".to_owned(),
            Caller::Key { id, name, .. } => format!("key:{id}:{name}"),
        }
    }

    /// The scope the caller's view is restricted to, if any.
    pub fn scope(&self) -> Option<&Scope> {
        match self {
            Caller::Key { scope, .. } => scope.as_ref(),
            _ => None,
        }
    }

    /// Whether the caller may make a request needing `access`.
    pub fn allows(&self, access: Access) -> bool {
        match self {
            Caller::Unchecked => true,
            Caller::Anonymous => access == Access::Public,
            Caller::Key { role, .. } => role.allows(access),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_nested_levels() {
        use Access::*;
        let grants = |r: Role| [Read, Report, Dispatch, Admin].map(|a| r.allows(a));
        assert_eq!(grants(Role::Viewer), [true, false, false, false]);
        assert_eq!(grants(Role::Service), [true, true, false, false]);
        assert_eq!(grants(Role::Dispatcher), [true, true, true, false]);
        assert_eq!(grants(Role::GisAdmin), [true, true, true, true]);
        assert!(!Caller::Anonymous.allows(Read) && Caller::Anonymous.allows(Public));
    }

    #[test]
    fn scope_narrows_filters() {
        let s: Scope = "street:S01".parse().expect("scope");
        let (mut street, mut community) = (None, Some("C9".to_owned()));
        assert!(s.narrow(&mut street, &mut community));
        assert_eq!(street.as_deref(), Some("S01"));
        let mut other = Some("S02".to_owned());
        assert!(!s.narrow(&mut other, &mut community));
        assert!(s.contains(Some("S01"), None) && !s.contains(Some("S02"), Some("C9")));
        assert!("street:".parse::<Scope>().is_err() && "grid:G1".parse::<Scope>().is_err());
    }
}
