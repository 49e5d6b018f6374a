//! Registry patterns: how actors find each other across a cluster, one numbered step each.
//!
//! Three nodes, a, b and c, run inside this process on 127.0.0.1 (insecure local mode) and
//! connect into a full mesh. Each step registers on one node and shows the result on another:
//!
//! 1. The cluster.
//! 2. Manual registration: spawn, then `register_global`; looked up from another node.
//! 3. Start and register in one call: `#[registered("svc.mail")]` generates
//!    `Mail::start_registered` and the typed `Mail::lookup`.
//! 4. Supervised and registered: with `#[supervised]` too, `Billing::start_registered` starts
//!    the supervisor and registers the child once it is confirmed; the child is killed,
//!    restarts, and its name keeps working from another node.
//! 5. A service directory: the names under `svc.`, listed, looked up and called.
//! 6. Asynchronous registration: a lookup that waits for a name registered after it began.
//! 7. `register_with_retry`: taking over a name from an owner on its way out.
//! 8. `watch`: the changes of a name, as another node sees them.
//! 9. Process groups: members on two nodes, a broadcast, a member that dies.
//! 10. Pitfall: register only once supervision is confirmed, and leave no orphan when the
//!     registration fails.
//! 11. Pitfall: look up once and keep the ref, not a lookup per call; a wrong type is an
//!     error, not a bad cast.
//! 12. A node leaves: its names and its group members disappear from the others.
//!
//! Run with `cargo run --example registry_patterns`.

use std::error::Error;
use std::time::Duration;

use distribute::prelude::*;
use distribute::registry::{NameChange, NameWatch, RegisterError, RetryPolicy};
use distribute::RegistryError;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// How long any one step may wait for the cluster before the example gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(5);

/// A plain actor with no registered name of its own: the manual patterns use it.
#[actor]
#[derive(Default)]
struct Greeter {
    greeted: u64,
}

#[actor]
impl Greeter {
    /// Greets `who`; the count shows which incarnation answers.
    #[message]
    fn greet(&mut self, who: String) -> String {
        self.greeted += 1;
        format!("hello {who} (#{})", self.greeted)
    }
}

/// A billing service: supervised, and registered as `svc.billing`. `#[registered]` goes above
/// `#[supervised]`, which it reads to generate the right `start_registered`.
#[actor]
#[registered("svc.billing")]
#[supervised(max_restarts = 3, within = "5s")]
#[derive(Default)]
struct Billing {
    /// Invoices issued by this incarnation; a restart starts over.
    issued: u64,
    /// Makes the `started` hook fail (step 10).
    broken: bool,
}

#[actor]
impl Billing {
    #[on_start]
    fn started(&mut self) -> Result<(), String> {
        if self.broken {
            return Err("billing database unreachable".into());
        }
        Ok(())
    }

    /// Issues an invoice; returns its number within this incarnation.
    #[message]
    fn invoice(&mut self, cents: u64) -> u64 {
        let _ = cents;
        self.issued += 1;
        self.issued
    }
}

/// A mail service, registered as `svc.mail`.
#[actor]
#[registered("svc.mail")]
#[derive(Default)]
struct Mail {
    sent: u64,
}

#[actor]
impl Mail {
    /// Sends a mail to `to`; returns how many were sent.
    #[message]
    fn send(&mut self, to: String) -> u64 {
        let _ = to;
        self.sent += 1;
        self.sent
    }
}

/// An audit log, registered as `svc.audit`.
#[actor]
#[registered("svc.audit")]
#[derive(Default)]
struct Audit {
    entries: Vec<String>,
}

#[actor]
impl Audit {
    /// Records `event`; returns how many entries the log holds.
    #[message]
    fn record(&mut self, event: String) -> usize {
        self.entries.push(event);
        self.entries.len()
    }
}

/// A member of a process group: counts the pings it received.
#[actor]
#[derive(Default)]
struct Worker {
    pings: u64,
}

#[actor]
impl Worker {
    #[message]
    fn ping(&mut self) {
        self.pings += 1;
    }

    #[message]
    fn pings(&self) -> u64 {
        self.pings
    }
}

/// The demo's nodes by id, to print `actor 7 on a` instead of a full actor id.
struct Nodes(Vec<(NodeId, String)>);

impl Nodes {
    fn who(&self, actor: ActorId) -> String {
        let node = self
            .0
            .iter()
            .find(|(id, _)| *id == actor.node())
            .map_or("another node", |(_, name)| name.as_str());
        format!("actor {} on {node}", actor.local())
    }

    fn change(&self, change: &NameChange) -> String {
        match change.owner {
            Some(owner) => format!("`{}` -> {}", change.name, self.who(owner)),
            None => format!("`{}` released", change.name),
        }
    }
}

async fn start(name: &str) -> Result<Node, distribute::StartError> {
    Node::builder().name(name).insecure_local().start().await
}

/// Waits on the node's events until it is connected to `n` other nodes.
async fn wait_for_peers(node: &Node, n: usize) -> Result<(), Box<dyn Error>> {
    let mut events = node.events();
    tokio::time::timeout(STEP_TIMEOUT, async {
        while node.connected_nodes().len() < n {
            events.recv().await;
        }
    })
    .await?;
    Ok(())
}

/// The next change a watch reports, within the step timeout.
async fn next_change(watch: &mut NameWatch) -> Result<NameChange, Box<dyn Error>> {
    let change = tokio::time::timeout(STEP_TIMEOUT, watch.next()).await?;
    Ok(change.ok_or("the watching node is gone")?)
}

/// Whether `node`'s replica of the registry holds `name`.
fn has_name(node: &Node, name: &str) -> bool {
    node.registered_names(name).iter().any(|found| found == name)
}

/// Waits, on `node`'s name events, until `name` is gone from its replica.
async fn wait_released(node: &Node, name: &str) -> Result<(), Box<dyn Error>> {
    let mut watch = node.watch(name)?;
    while has_name(node, name) {
        next_change(&mut watch).await?;
    }
    Ok(())
}

/// Waits until `done` holds. Group membership has no change stream (unlike names), so this
/// checks it every few milliseconds, within the step timeout.
async fn until(what: &str, mut done: impl FnMut() -> bool) -> Result<(), Box<dyn Error>> {
    let deadline = Instant::now() + STEP_TIMEOUT;
    while !done() {
        if Instant::now() >= deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Waits for the NodeDown of the node called `name` on an event stream.
async fn wait_node_down(events: &mut distribute::NodeEvents, name: &str) -> Result<(), Box<dyn Error>> {
    tokio::time::timeout(STEP_TIMEOUT, async {
        while let Some(event) = events.recv().await {
            if matches!(&event, NodeEvent::NodeDown { name: down, .. } if down == name) {
                return Ok(());
            }
        }
        Err("the event stream ended")
    })
    .await??;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let a = start("a").await?;
    let b = start("b").await?;
    let c = start("c").await?;
    b.connect(a.listen_addr().ok_or("node a does not listen")?)
        .await?;
    c.connect(b.listen_addr().ok_or("node b does not listen")?)
        .await?;
    for node in [&a, &b, &c] {
        wait_for_peers(node, 2).await?;
    }
    let nodes = Nodes(
        [&a, &b, &c]
            .iter()
            .map(|node| (node.id(), node.name().to_owned()))
            .collect(),
    );
    println!("1. Nodes a, b and c run in this process; each is connected to the other two.");

    // (a) Manual registration: two steps, spawn then register.
    let greeter = a.spawn(Greeter::default()).await?;
    a.register_global("greeter", &greeter).await?;
    let from_c: ActorRef<Greeter> = c.lookup("greeter")?;
    println!(
        "\n2. Manual registration: a spawned a Greeter ({}), then registered it as `greeter`.\n   \
         register_global returned once every node had the name, so c's lookup is a local read: \
         {} (is_local: {}).\n   c asks greet(\"c\"): {:?}",
        nodes.who(greeter.id()),
        nodes.who(from_c.id()),
        from_c.is_local(),
        from_c.greet("c".into()).await?
    );

    // (b) Start and register in one call.
    let mail = Mail::start_registered(&b, Mail::default()).await?;
    let mail_from_a = Mail::lookup(&a)?;
    println!(
        "\n3. Start and register in one call: Mail::start_registered(&b, ..) runs {} as `{}`.\n   \
         a finds it with the typed Mail::lookup(&a): {}; send(ops@example.com) -> {} sent.",
        nodes.who(mail.id()),
        Mail::REGISTERED_NAME,
        nodes.who(mail_from_a.id()),
        mail_from_a.send("ops@example.com".into()).await?
    );

    // (c) Supervised and registered: the supervisor confirms the child, then the name is taken.
    let (billing_supervisor, billing) = Billing::start_registered(&a, Billing::default).await?;
    let billing_from_c = Billing::lookup(&c)?;
    billing_from_c.invoice(1200).await?;
    println!(
        "\n4. Supervised and registered: Billing::start_registered(&a, Billing::default) runs {} \
         under supervisor {}\n   as `svc.billing`. c calls it twice: invoice #{}.",
        nodes.who(billing.id()),
        nodes.who(billing_supervisor.id()),
        billing_from_c.invoice(800).await?
    );
    billing.kill();
    let again = Billing::lookup(&c)?;
    println!(
        "   a kills the child; its supervisor restarts it behind the same ref. c looks the name up \
         again:\n   {} (same actor: {}), and the new incarnation answers: invoice #{}.",
        nodes.who(again.id()),
        again.id() == billing.id(),
        again.invoice(500).await?
    );

    // (d) A service directory: every service under one prefix.
    let audit = Audit::start_registered(&c, Audit::default()).await?;
    println!(
        "\n5. A service directory: c also starts {} as `svc.audit`. b lists `svc.`:",
        nodes.who(audit.id())
    );
    for name in b.registered_names("svc.") {
        let (owner, answer) = if name == Billing::REGISTERED_NAME.as_str() {
            let service = Billing::lookup(&b)?;
            (
                service.id(),
                format!("invoice -> #{}", service.invoice(300).await?),
            )
        } else if name == Mail::REGISTERED_NAME.as_str() {
            let service = Mail::lookup(&b)?;
            (
                service.id(),
                format!("send -> {} sent", service.send("b@example.com".into()).await?),
            )
        } else if name == Audit::REGISTERED_NAME.as_str() {
            let service = Audit::lookup(&b)?;
            (
                service.id(),
                format!("record -> {} in the log", service.record("listed".into()).await?),
            )
        } else {
            println!("   {name:<12} (a service b does not know how to call)");
            continue;
        };
        println!("   {name:<12} {:<14} called from b: {answer}", nodes.who(owner));
    }

    // (e) Asynchronous registration: the lookup starts before the registration.
    println!(
        "\n6. Asynchronous registration: c looks up `greeter.late` now: {}",
        c.lookup::<Greeter>("greeter.late")
            .err()
            .ok_or("`greeter.late` exists too early")?
    );
    let (began_tx, began_rx) = oneshot::channel();
    let waiting = tokio::spawn({
        let c = c.clone();
        async move {
            let _ = began_tx.send(());
            c.lookup_with_timeout::<Greeter>("greeter.late", STEP_TIMEOUT)
                .await
        }
    });
    began_rx.await?;
    // The service takes a while to come up; the lookup waits on registry events meanwhile.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let late = a.spawn(Greeter::default()).await?;
    a.register_global("greeter.late", &late).await?;
    let found = waiting.await??;
    println!(
        "   A task on c calls lookup_with_timeout(`greeter.late`, 5 s); 50 ms later a registers {}.\n   \
         The waiting lookup returns {}: greet -> {:?}",
        nodes.who(late.id()),
        nodes.who(found.id()),
        found.greet("whoever waited".into()).await?
    );
    match c
        .lookup_with_timeout::<Greeter>("greeter.never", Duration::from_millis(100))
        .await
    {
        Err(err @ RegistryError::LookupTimeout { .. }) => println!("   A name nobody registers: {err}."),
        other => return Err(format!("unexpected lookup of `greeter.never`: {other:?}").into()),
    }

    // (f) register_with_retry: the current owner is on its way out.
    let old = a.spawn(Greeter::default()).await?;
    a.register_global("leader", &old).await?;
    let new = b.spawn(Greeter::default()).await?;
    println!(
        "\n7. register_with_retry: `leader` belongs to {}.",
        nodes.who(old.id())
    );
    match b.register_global("leader", &new).await {
        Err(RegistryError::AlreadyRegistered { owner, .. }) => println!(
            "   b's plain register_global for {} fails: AlreadyRegistered, owner {}.",
            nodes.who(new.id()),
            nodes.who(owner)
        ),
        other => return Err(format!("unexpected registration of `leader`: {other:?}").into()),
    }
    // The old leader stops in 100 ms; register_with_retry (5 tries, 50 ms to 1 s apart) waits it out.
    let retiring = tokio::spawn({
        let old = old.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            old.stop(ExitReason::Normal).await
        }
    });
    b.register_with_retry("leader", &new, RetryPolicy::default())
        .await?;
    let leader: ActorRef<Greeter> = c.lookup("leader")?;
    println!(
        "   The old leader retires 100 ms later ({}); b's register_with_retry retried until the \
         name was free.\n   c now finds `leader` at {}.",
        retiring.await?,
        nodes.who(leader.id())
    );

    // (g) watch: the changes of one name, seen from another node.
    println!("\n8. watch: c watches `on-call` while a and b take and release it:");
    let mut watch = c.watch("on-call")?;
    let first = a.spawn(Greeter::default()).await?;
    a.register_global("on-call", &first).await?;
    println!(
        "   a registers it:          {}",
        nodes.change(&next_change(&mut watch).await?)
    );
    a.unregister_global("on-call", first.id()).await?;
    println!(
        "   a unregisters it:        {}",
        nodes.change(&next_change(&mut watch).await?)
    );
    // Unlike a registration, a release is announced without waiting for the other nodes. Before
    // b takes the name, wait until every node has seen it go: the node that orders registrations
    // (any of the three) must know the name is free, or b gets AlreadyRegistered.
    for node in [&a, &b, &c] {
        wait_released(node, "on-call").await?;
    }
    let second = b.spawn(Greeter::default()).await?;
    b.register_global("on-call", &second).await?;
    println!(
        "   b registers another:     {}",
        nodes.change(&next_change(&mut watch).await?)
    );
    second.stop(ExitReason::Normal).await;
    println!(
        "   b's actor stops for good: {}",
        nodes.change(&next_change(&mut watch).await?)
    );

    // (h) Process groups: many members under one group name.
    let workers = [
        a.spawn(Worker::default()).await?,
        a.spawn(Worker::default()).await?,
        b.spawn(Worker::default()).await?,
    ];
    a.join("workers", &workers[0])?;
    a.join("workers", &workers[1])?;
    b.join("workers", &workers[2])?;
    // Joins are announced to the other nodes without waiting for them.
    until("c to see the 3 workers", || {
        c.members::<Worker>("workers").len() == 3
    })
    .await?;
    println!(
        "\n9. Process groups: two workers on a and one on b join `workers`; c sees groups {:?}.",
        c.groups()
    );
    let reached = c.broadcast::<Worker>("workers", || WorkerMsg::Ping {}).await;
    let mut counts = Vec::new();
    for member in c.members::<Worker>("workers") {
        counts.push(format!("{}: {}", nodes.who(member.id()), member.pings().await?));
    }
    println!(
        "   c broadcasts a ping: it reached {reached} members. Pings per member: {}.",
        counts.join(", ")
    );
    workers[0].kill();
    for node in [&a, &b, &c] {
        until("the killed worker to leave", || {
            node.members::<Worker>("workers").len() == 2
        })
        .await?;
    }
    println!(
        "   a kills {}: it leaves the group, and a, b and c each see {} members.",
        nodes.who(workers[0].id()),
        c.members::<Worker>("workers").len()
    );

    // (i) Pitfall: a name for an actor whose supervision is not confirmed, or an orphan.
    println!("\n10. Pitfall: register only once supervision is confirmed.");
    let children = billing_supervisor.which_children().await?;
    let confirmed = children.first().ok_or("the billing supervisor has no child")?;
    println!(
        "   In step 4 the name was taken only after the supervisor confirmed its child `{}` ({:?}, {}).",
        confirmed.id,
        confirmed.state,
        confirmed.actor.map_or("-".into(), |id| nodes.who(id))
    );
    let before = b.actor_count();
    match Billing::start_registered(&b, Billing::default).await {
        Err(RegisterError::Registry(RegistryError::AlreadyRegistered { owner, .. })) => println!(
            "   A second Billing started on b cannot take the name, which {} holds.\n   b runs {before} \
             actors before and {} after: the second supervisor and its child were stopped, no orphan.",
            nodes.who(owner),
            b.actor_count()
        ),
        Ok(_) => return Err("a second Billing took `svc.billing`".into()),
        Err(other) => return Err(other.into()),
    }
    let broken = || Billing {
        broken: true,
        ..Billing::default()
    };
    match Billing::start_registered(&b, broken).await {
        Err(RegisterError::Spawn(err)) => {
            println!("   A Billing whose start fails never reaches the registration:\n     {err}.")
        }
        other => return Err(format!("unexpected start of a broken Billing: {other:?}").into()),
    }
    let by_hand = b.spawn(Billing::default()).await?;
    if b.register_global(Billing::REGISTERED_NAME.as_str(), &by_hand)
        .await
        .is_ok()
    {
        return Err("a hand-started Billing took `svc.billing`".into());
    }
    println!(
        "   By hand (spawn, then register_global), the failed registration leaves {} running \
         (alive: {}),\n   serving nobody, until you stop it: {}.",
        nodes.who(by_hand.id()),
        by_hand.is_alive(),
        by_hand.stop(ExitReason::Shutdown).await
    );

    // (j) Pitfall: a lookup per call in a hot path. Look up once; keep the ref.
    let cached = Billing::lookup(&c)?;
    let mut numbers = Vec::new();
    for round in 1..=6 {
        if round == 4 {
            billing.kill();
        }
        numbers.push(cached.invoice(100).await?);
    }
    println!(
        "\n11. Pitfall: don't look up a name for every call. c looks `svc.billing` up once and keeps \
         the ref;\n    6 calls, with the child killed before the 4th: invoices {numbers:?}. A cached \
         ref survives restarts;\n    look the name up again only when a call fails with \
         ActorStopped or NodeDown."
    );
    match c.lookup::<Mail>(Billing::REGISTERED_NAME.as_str()) {
        Err(err @ RegistryError::TypeMismatch { .. }) => {
            println!("    Looking a name up as the wrong type is a typed error: {err}.");
        }
        other => return Err(format!("unexpected lookup of `svc.billing` as Mail: {other:?}").into()),
    }

    // A node leaves: its names and members go everywhere else.
    println!("\n12. b leaves the cluster.");
    println!("    Before: a sees names {:?}", a.registered_names(""));
    let mut a_events = a.events();
    let mut c_events = c.events();
    b.shutdown().await;
    wait_node_down(&mut a_events, "b").await?;
    wait_node_down(&mut c_events, "b").await?;
    println!(
        "    After:  a sees names {:?}\n            c sees names {:?}",
        a.registered_names(""),
        c.registered_names("")
    );
    println!(
        "    `svc.mail` and `leader` lived on b and are gone; `workers` has {} member left on a, {} on c.",
        a.members::<Worker>("workers").len(),
        c.members::<Worker>("workers").len()
    );
    match mail_from_a.send("anyone@example.com".into()).await {
        Err(err @ CallError::NodeDown { .. }) => println!("    a's old ref to the mail service: {err}."),
        other => return Err(format!("unexpected answer from a service on a stopped node: {other:?}").into()),
    }

    // A name whose actor stopped goes too, not only those of a node that left.
    greeter.stop(ExitReason::Normal).await;
    wait_released(&c, "greeter").await?;
    c.shutdown().await;
    a.shutdown().await;
    println!(
        "\nThe first greeter stopped, and c saw `greeter` released. a and c shut down. Done.\n\
         See also `cargo run --example supervision` (restarts behind the same ref, a named service)."
    );
    Ok(())
}
