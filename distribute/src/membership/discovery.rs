//! [`Discovery`]: where a node finds the other nodes of its cluster.
//!
//! A node asks its discovery for addresses when it starts and again now and then (see
//! [`NodeBuilder::seed`](crate::NodeBuilder::seed)): until one of them answers, with
//! backoff, and later at a slower pace, so that nodes that came up since are found. Two are built in: [`StaticSeeds`], a
//! fixed list of addresses, and [`DnsSeeds`], `host:port` names resolved on every ask (a
//! Kubernetes headless service name gives the address of every pod behind it). Implement
//! the trait for anything else: a file, a service registry, a cloud provider's API.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

/// What [`Discovery::discover`] returns.
pub type DiscoverFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<SocketAddr>, DiscoveryError>> + Send + 'a>>;

/// A source of addresses where other nodes of the cluster may listen.
///
/// The addresses need not all be up, nor all be other nodes: the node skips its own
/// address, the nodes it is connected to already, and those that do not answer, and asks
/// again later.
pub trait Discovery: Send + Sync + 'static {
    /// The addresses to try now.
    fn discover(&self) -> DiscoverFuture<'_>;
}

/// Why a discovery found no addresses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// A seed is not of the form `host:port` (`[v6]:port` for an IPv6 literal).
    #[error("seed {seed:?} is not host:port ({why}); for example \"db-0.cluster.local:4369\" or \"127.0.0.1:4369\"")]
    InvalidSeed {
        /// The seed as given.
        seed: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// No seed resolved; the first failure.
    #[error("cannot resolve seed {seed:?}: {error}")]
    Resolve {
        /// The seed.
        seed: String,
        /// The resolver's error.
        error: String,
    },
    /// A discovery of the user's failed.
    #[error("discovery failed: {0}")]
    Failed(String),
}

/// A fixed list of addresses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaticSeeds {
    addrs: Vec<SocketAddr>,
}

impl StaticSeeds {
    /// These addresses, every time.
    pub fn new(addrs: impl IntoIterator<Item = SocketAddr>) -> Self {
        StaticSeeds {
            addrs: addrs.into_iter().collect(),
        }
    }
}

impl Discovery for StaticSeeds {
    fn discover(&self) -> DiscoverFuture<'_> {
        let addrs = self.addrs.clone();
        Box::pin(async move { Ok(addrs) })
    }
}

/// `host:port` names, resolved through the system's resolver (DNS, `/etc/hosts`) on every
/// ask, every address of every name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSeeds {
    seeds: Vec<String>,
}

impl DnsSeeds {
    /// These names; each must be `host:port` (checked here, resolved later).
    pub fn new<S: Into<String>>(seeds: impl IntoIterator<Item = S>) -> Result<Self, DiscoveryError> {
        let seeds: Vec<String> = seeds.into_iter().map(Into::into).collect();
        for seed in &seeds {
            check_seed(seed)?;
        }
        Ok(DnsSeeds { seeds })
    }

    /// The names, as given.
    pub fn seeds(&self) -> &[String] {
        &self.seeds
    }
}

impl Discovery for DnsSeeds {
    fn discover(&self) -> DiscoverFuture<'_> {
        Box::pin(async move {
            let mut found: Vec<SocketAddr> = Vec::new();
            let mut first_failure = None;
            for seed in &self.seeds {
                match tokio::net::lookup_host(seed.as_str()).await {
                    Ok(addrs) => found.extend(addrs.filter(|addr| !found.contains(addr)).collect::<Vec<_>>()),
                    Err(error) => {
                        first_failure.get_or_insert_with(|| DiscoveryError::Resolve {
                            seed: seed.clone(),
                            error: error.to_string(),
                        });
                    }
                }
            }
            match (found.is_empty(), first_failure) {
                (true, Some(failure)) => Err(failure),
                _ => Ok(found),
            }
        })
    }
}

/// Checks that `seed` reads as `host:port`.
fn check_seed(seed: &str) -> Result<(), DiscoveryError> {
    let invalid = |why| DiscoveryError::InvalidSeed {
        seed: seed.to_owned(),
        why,
    };
    let (host, port) = seed.rsplit_once(':').ok_or_else(|| invalid("no port"))?;
    if port.parse::<u16>().map_or(true, |port| port == 0) {
        return Err(invalid("the port is not a number from 1 to 65535"));
    }
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.strip_suffix(']').ok_or_else(|| invalid("an unclosed '['"))?,
        None if host.contains(':') => return Err(invalid("an IPv6 address must be in brackets")),
        None => host,
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    match host {
        "" => Err(invalid("no host")),
        _ if host.len() > 253 => Err(invalid("a host name is at most 253 characters")),
        _ if !host.chars().all(allowed) => Err(invalid("a host is letters, digits, '.', '-' and '_'")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_read_as_host_and_port() {
        for good in [
            "localhost:4369",
            "db-0.db.default.svc.cluster.local:1",
            "127.0.0.1:80",
            "[::1]:9000",
        ] {
            assert_eq!(check_seed(good), Ok(()), "{good}");
        }
        let why = |seed: &str| match check_seed(seed) {
            Err(DiscoveryError::InvalidSeed { why, .. }) => why,
            other => panic!("{seed}: {other:?}"),
        };
        assert_eq!(why("localhost"), "no port");
        assert_eq!(why("localhost:0"), "the port is not a number from 1 to 65535");
        assert_eq!(why("localhost:http"), "the port is not a number from 1 to 65535");
        assert_eq!(why(":4369"), "no host");
        assert_eq!(why("::1:4369"), "an IPv6 address must be in brackets");
        assert_eq!(why("[::1:4369"), "an unclosed '['");
        assert_eq!(why("a b:1"), "a host is letters, digits, '.', '-' and '_'");
    }

    #[tokio::test]
    async fn names_resolve_to_every_address_once() {
        let seeds = DnsSeeds::new(["localhost:4369", "127.0.0.1:4369"]).unwrap();
        let found = seeds.discover().await.unwrap();
        assert!(
            found.contains(&SocketAddr::from(([127, 0, 0, 1], 4369))),
            "{found:?}"
        );
        let unique: std::collections::BTreeSet<_> = found.iter().collect();
        assert_eq!(unique.len(), found.len(), "{found:?}");
    }
}
