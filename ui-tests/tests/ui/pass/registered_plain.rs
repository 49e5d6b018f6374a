//! `#[registered("name")]` on an unsupervised actor, above or below `#[actor]`: the typed name,
//! `start_registered(&node, actor)` and the typed lookups.
use std::time::Duration;

use distribute::prelude::*;
use distribute::registry::{Name, RegisterError, Registered};
use distribute::RegistryError;

#[actor]
#[registered("billing")]
#[derive(Default)]
struct Billing {
    invoices: u64,
}

#[actor]
impl Billing {
    #[message]
    fn invoice(&mut self) -> u64 {
        self.invoices += 1;
        self.invoices
    }
}

/// `#[registered]` first, and a name with every kind of character allowed.
#[registered("audit_log-v1.2")]
#[actor]
struct Audit;

#[actor]
impl Audit {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    const NAME: Name<Billing> = Billing::REGISTERED_NAME;
    assert_eq!(NAME.as_str(), "billing");
    assert_eq!(<Billing as Registered>::REGISTERED_AS.as_str(), "billing");
    assert_eq!(Audit::REGISTERED_NAME.as_str(), "audit_log-v1.2");

    let node = Node::new();
    let billing: Result<ActorRef<Billing>, RegisterError> =
        Billing::start_registered(&node, Billing::default()).await;
    let billing = billing?;
    let found: Result<ActorRef<Billing>, RegistryError> = Billing::lookup(&node);
    assert_eq!(found?.invoice().await?, 1);
    let waited = Billing::lookup_with_timeout(&node, Duration::from_secs(1)).await?;
    assert_eq!(waited.id(), billing.id());

    let audit = Audit::start_registered(&node, Audit).await?;
    assert_eq!(Audit::lookup(&node)?.id(), audit.id());
    node.shutdown().await;
    Ok(())
}
