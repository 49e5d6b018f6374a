//! Rules that need the whole model: no two messages share a variant name, a client method
//! name (`x` and `try_x`) or a wire tag, and
//! each kind of hook appears at most once; of `#[supervised]`'s options, `routing` comes with
//! `pool`, and `max_restarts` with `within`; the name of a registered pool leaves room for
//! its workers' names.

use std::collections::HashMap;

use crate::attr::registered::MAX_NAME_LEN;
use crate::attr::supervised::INTENSITY_FORM;
use crate::ctx::Ctxt;
use crate::model::{ActorImpl, Hook, MessageFn, RegisteredStruct, SupervisedStruct, Supervision};

/// Checks an `#[actor]` impl block's model; each error is reported on the second of the two
/// items that conflict.
pub(crate) fn check_impl(cx: &Ctxt, model: &ActorImpl) {
    check_variants(cx, model);
    check_try_names(cx, model);
    check_tags(cx, model);
    check_hooks(cx, &model.hooks);
}

fn check_variants(cx: &Ctxt, model: &ActorImpl) {
    let mut seen: HashMap<String, &MessageFn> = HashMap::new();
    for message in &model.messages {
        let variant = message.variant.to_string();
        if let Some(first) = seen.get(&variant) {
            cx.error_help(
                &message.method,
                format!(
                    "`{}` and `{}` both become the variant `{variant}` of `{}Msg`",
                    first.name, message.name, model.self_name
                ),
                "rename one of the methods (variant names are the method names in UpperCamelCase)",
            );
        } else {
            seen.insert(variant, message);
        }
    }
}

/// The client trait has a `try_x` for every message `x`: a message named `try_x` beside `x`
/// would be a second method of that name.
fn check_try_names(cx: &Ctxt, model: &ActorImpl) {
    for message in &model.messages {
        let Some(base) = message.name.strip_prefix("try_") else {
            continue;
        };
        if model.messages.iter().any(|other| other.name == base) {
            cx.error_help(
                &message.method,
                format!(
                    "the message `{}` clashes with the client method `{}` that `#[actor]` generates for the message \
                     `{base}` (every message `x` gets a non-blocking `try_x` on `{}Client`)",
                    message.name, message.name, model.self_name
                ),
                format!("rename this method, e.g. `attempt_{base}`, or rename `{base}`"),
            );
        }
    }
}

fn check_tags(cx: &Ctxt, model: &ActorImpl) {
    let mut seen: HashMap<u32, &MessageFn> = HashMap::new();
    for message in &model.messages {
        let Some(first) = seen.get(&message.tag) else {
            seen.insert(message.tag, message);
            continue;
        };
        match &message.explicit_tag {
            Some(lit) => cx.error_help(
                lit,
                format!("tag {} is already used by `{}`", message.tag, first.name),
                "give each message its own tag",
            ),
            None => cx.error_help(
                &message.method,
                format!(
                    "the generated tag {:#010x} of `{}` collides with the generated tag of `{}`",
                    message.tag, message.name, first.name
                ),
                "give one of them an explicit tag: `#[message(tag = 7)]`",
            ),
        }
    }
}

fn check_hooks(cx: &Ctxt, hooks: &[Hook]) {
    for (index, hook) in hooks.iter().enumerate() {
        if let Some(first) = hooks[..index].iter().find(|first| first.kind == hook.kind) {
            let name = hook.kind.attr_name();
            cx.error_help_at(
                hook.attr_span,
                format!("a second `#[{name}]` hook: `{}` is already one", first.method),
                format!("an actor has at most one `#[{name}]` hook: call one method from the other"),
            );
        }
    }
}

/// Checks the options of a `#[supervised]` struct together; each error is reported on the
/// option that lacks its companion.
pub(crate) fn check_supervised(cx: &Ctxt, model: &SupervisedStruct) {
    let options = &model.options;
    if let (Some(routing), None) = (&options.routing, &options.pool) {
        cx.error_help_at(
            routing.key,
            "`routing` needs `pool = N`: it picks one worker of a pool for each message",
            "`pool = 4, routing = least_loaded`",
        );
    }
    match (&options.max_restarts, &options.within) {
        (Some(max_restarts), None) => cx.error_help_at(
            max_restarts.key,
            "`max_restarts` without `within`: the restart intensity is a number of restarts within a time window",
            format!("give both: {INTENSITY_FORM}"),
        ),
        (None, Some(within)) => cx.error_help_at(
            within.key,
            "`within` without `max_restarts`: the restart intensity is a number of restarts within a time window",
            format!("give both: {INTENSITY_FORM}"),
        ),
        _ => {}
    }
}

/// Checks a `#[registered]` struct's name against its supervision: the workers of a pool
/// register as `name_1` to `name_N`, which must be valid names too.
pub(crate) fn check_registered(cx: &Ctxt, model: &RegisteredStruct) {
    let (Some(lit), Supervision::Pool(Some(size))) = (&model.name, model.supervision) else {
        return;
    };
    let suffix = format!("_{size}");
    let longest = lit.value().chars().count() + suffix.len();
    if longest > MAX_NAME_LEN {
        cx.error_help(
            lit,
            format!(
                "the name is too long for a pool of {size}: the workers register as `<name>_1` to \
                 `<name>{suffix}`, and `<name>{suffix}` is {longest} characters long, more than the limit of \
                 {MAX_NAME_LEN}"
            ),
            format!(
                "shorten the name to at most {} characters",
                MAX_NAME_LEN - suffix.len()
            ),
        );
    }
}
