//! Sync message methods on `&self` and `&mut self`: tells, asks, several arguments, and the
//! client methods on an `ActorRef` and on a `with_timeout` view of it.
use std::time::Duration;

use distribute::prelude::*;

#[actor]
#[derive(Default)]
struct Account {
    balance: i64,
    history: Vec<String>,
}

#[actor]
impl Account {
    #[message]
    fn deposit(&mut self, amount: i64) {
        self.balance += amount;
    }

    #[message]
    fn transfer(&mut self, amount: i64, to: String, note: Option<String>) -> i64 {
        self.balance -= amount;
        self.history.push(format!(
            "{amount} to {to}{}",
            note.map(|n| format!(" ({n})")).unwrap_or_default()
        ));
        self.balance
    }

    #[message]
    fn balance(&self) -> i64 {
        self.balance
    }

    #[message]
    fn history(&self) -> Vec<String> {
        self.history.clone()
    }

    /// Not a message: an ordinary method, left alone.
    fn audit(&self) -> bool {
        self.balance >= 0
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::new();
    let account: ActorRef<Account> = node.spawn(Account::default()).await?;
    account.deposit(100).await?;
    assert_eq!(
        account
            .transfer(30, "bob".to_string(), Some("rent".to_string()))
            .await?,
        70
    );
    assert_eq!(account.transfer(5, "eve".to_string(), None).await?, 65);
    assert_eq!(account.balance().await?, 65);
    assert_eq!(
        account.history().await?,
        vec!["30 to bob (rent)".to_string(), "5 to eve".to_string()]
    );
    assert_eq!(account.with_timeout(Duration::from_secs(1)).balance().await?, 65);
    assert!(Account::default().audit());
    node.shutdown().await;
    Ok(())
}
