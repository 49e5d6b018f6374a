//! The names of the items generated from an `#[actor]` impl block, which every generator
//! (`message.rs`, `dispatch.rs`, `client.rs`) refers to.

use proc_macro2::Ident;
use quote::format_ident;
use syn::Visibility;

use crate::model::{ActorImpl, MessageFn};

/// The names of the generated items, shared by the generators.
pub(super) struct Names {
    /// The message enum, `CounterMsg`.
    pub(super) msg: Ident,
    /// The client trait, `CounterClient`.
    pub(super) client: Ident,
    /// The visibility of both.
    pub(super) vis: Visibility,
}

impl Names {
    /// The names generated for the actor of `model`: its name without `r#`, suffixed.
    pub(super) fn of(model: &ActorImpl) -> Self {
        let base = model.self_name.to_string();
        let base = base.trim_start_matches("r#");
        Names {
            msg: format_ident!("{}Msg", base),
            client: format_ident!("{}Client", base),
            vis: visibility(&model.messages),
        }
    }
}

/// The most visible of the message methods' visibilities (`pub` > `pub(crate)` > other
/// restricted forms > private), and at least `pub(crate)`.
///
/// The floor exists because `impl Actor for Counter` names the enum (`type Msg = CounterMsg`),
/// and the compiler rejects an enum less visible than the actor struct (E0446), which this
/// macro cannot see. `pub(crate)` covers every struct that is not `pub`; a `pub` actor needs
/// a `pub` message method, which is what its users outside the crate need anyway.
fn visibility(messages: &[MessageFn]) -> Visibility {
    fn rank(vis: &Visibility) -> u8 {
        match vis {
            Visibility::Public(_) => 2,
            Visibility::Restricted(restricted)
                if restricted.path.is_ident("crate") && restricted.in_token.is_none() =>
            {
                1
            }
            _ => 0,
        }
    }
    match messages
        .iter()
        .map(|message| &message.vis)
        .max_by_key(|vis| rank(vis))
    {
        Some(vis) if rank(vis) > 0 => vis.clone(),
        _ => syn::parse_quote!(pub(crate)),
    }
}
