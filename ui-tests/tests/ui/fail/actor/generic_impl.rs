use distribute::prelude::*;

struct Cache<K> { entries: Vec<K> }

#[actor]
impl<K: Send + 'static> Cache<K> {
    #[message]
    fn len(&self) -> usize { self.entries.len() }
}

fn main() {}
