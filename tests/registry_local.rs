//! Node-local names: registration, typed lookup, release on stop, survival across restarts.

use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, SupervisorSpec};
use distribute::RegistryError;
use distribute_tests::{Counter, CounterClient, Gate};

#[actor]
#[derive(Default)]
struct Other;

#[actor]
impl Other {}

#[tokio::test]
async fn a_registered_actor_is_found_by_name_with_its_type() {
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.unwrap();
    node.register_local("counter.main", &counter).unwrap();
    let found: ActorRef<Counter> = node.lookup_local("counter.main").unwrap();
    assert_eq!(found, counter);
    found.add(2).await.unwrap();
    assert_eq!(counter.get().await.unwrap(), 2);
    assert_eq!(node.local_names(), ["counter.main"]);
    let err = node.lookup_local::<Other>("counter.main").unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::TypeMismatch {
                expected: "Other",
                found: "Counter",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn bad_names_and_conflicts_are_typed_errors() {
    let node = Node::new();
    let a = node.spawn(Counter::new(Gate::new())).await.unwrap();
    let b = node.spawn(Counter::new(Gate::new())).await.unwrap();
    for bad in ["", "white space", "a/b", &"n".repeat(256)] {
        assert!(
            matches!(
                node.register_local(bad, &a),
                Err(RegistryError::InvalidName { .. })
            ),
            "{bad:?}"
        );
    }
    node.register_local("svc", &a).unwrap();
    assert_eq!(
        node.register_local("svc", &b),
        Err(RegistryError::AlreadyRegistered {
            name: "svc".into(),
            owner: a.id()
        })
    );
    assert_eq!(
        node.unregister_local("svc", b.id()),
        Err(RegistryError::NotOwner {
            name: "svc".into(),
            owner: a.id()
        })
    );
    node.unregister_local("svc", a.id()).unwrap();
    assert_eq!(
        node.unregister_local("svc", a.id()),
        Err(RegistryError::NotFound { name: "svc".into() })
    );
    assert!(matches!(
        node.lookup_local::<Counter>("svc"),
        Err(RegistryError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_name_is_released_when_its_actor_stops() {
    let node = Node::new();
    let counter = node.spawn(Counter::new(Gate::new())).await.unwrap();
    node.register_local("short-lived", &counter).unwrap();
    let _ = counter.boom("bye".into()).await;
    counter.wait_for_stop().await;
    assert!(matches!(
        node.lookup_local::<Counter>("short-lived"),
        Err(RegistryError::NotFound { .. })
    ));
    assert!(matches!(
        node.register_local("again", &counter),
        Err(RegistryError::ActorStopped { .. })
    ));
}

#[tokio::test]
async fn a_name_survives_a_supervised_restart() {
    let node = Node::new();
    let supervisor = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::worker("counter", || Counter::new(Gate::new())))
        .start(&node)
        .await
        .unwrap();
    let counter = supervisor.child::<Counter>("counter").await.unwrap();
    node.register_local("named", &counter).unwrap();
    let _ = counter.boom("restart me".into()).await;
    let found: ActorRef<Counter> = node.lookup_local("named").unwrap();
    assert_eq!(
        found.get().await.unwrap(),
        0,
        "the name reaches the restarted actor"
    );
}

/// Two actor types of the same name, from two modules (as two versions of a service would
/// be): a lookup of one under the other's name names both protocol fingerprints, locally and
/// in the cluster-wide registry, rather than "a `Svc`, not a `Svc`".
mod first {
    use distribute::prelude::*;

    #[actor]
    #[derive(Default)]
    pub(crate) struct Svc;

    #[actor]
    impl Svc {
        #[message]
        pub(crate) fn ping(&mut self) {}
    }
}

mod second {
    use distribute::prelude::*;

    #[actor]
    #[derive(Default)]
    pub(crate) struct Svc;

    #[actor]
    impl Svc {
        #[message]
        pub(crate) fn ping(&mut self, times: u32) -> u32 {
            times
        }
    }
}

#[tokio::test]
async fn a_type_of_the_same_name_is_told_apart_by_its_fingerprint() {
    use distribute::Message;
    let node = Node::new();
    let svc = node.spawn(first::Svc).await.unwrap();
    node.register_local("svc", &svc).unwrap();
    node.register_global("svc", &svc).await.unwrap();
    let (found, expected) = (
        <first::SvcMsg as Message>::FINGERPRINT,
        <second::SvcMsg as Message>::FINGERPRINT,
    );
    assert_ne!(found, expected);
    let said = format!("`Svc of another protocol ({found:#018x}, not {expected:#018x})`, not a `Svc`");
    for err in [
        node.lookup_local::<second::Svc>("svc").unwrap_err(),
        node.lookup::<second::Svc>("svc").unwrap_err(),
    ] {
        assert!(matches!(err, RegistryError::TypeMismatch { .. }), "{err:?}");
        assert!(err.to_string().ends_with(&said), "{err}");
    }
    assert!(node.lookup::<first::Svc>("svc").is_ok());
}
