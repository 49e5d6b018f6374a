use distribute::prelude::*;

#[actor]
struct Store { items: Vec<String> }

#[actor]
impl Store {
    #[message]
    fn put<T: ToString>(&mut self, item: T) { self.items.push(item.to_string()) }

    #[message]
    fn first<'a>(&'a self) -> Option<String> { self.items.first().cloned() }

    #[message]
    fn show(&self, item: impl ToString) -> String { item.to_string() }
}

fn main() {}
