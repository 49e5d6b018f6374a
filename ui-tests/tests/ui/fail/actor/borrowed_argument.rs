use distribute::prelude::*;

#[actor]
struct Store { items: Vec<String> }

#[actor]
impl Store {
    #[message]
    fn put(&mut self, item: &str) { self.items.push(item.to_string()) }

    #[message]
    fn put_all(&mut self, items: &[String]) { self.items.extend_from_slice(items) }

    #[message]
    fn put_maybe(&mut self, item: Option<&String>) { self.items.extend(item.cloned()) }

    #[message]
    fn first(&self) -> &str { &self.items[0] }
}

fn main() {}
