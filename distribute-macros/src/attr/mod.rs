//! Attribute parsing: the options of `#[actor(...)]` on a struct and of `#[message(...)]` on a
//! method, and recognition of the helper attributes (`#[message]`, `#[on_start]`, ...) that
//! mark messages and hooks inside an `#[actor]` impl block.
//!
//! The options of `#[supervised(...)]` are in `supervised.rs`, the name of `#[registered(...)]` in
//! `registered.rs`.
//!
//! Options are parsed with custom keywords and `lookahead1`, so an unknown option is reported
//! as "expected one of `mailbox`, `name`, `codec`". Parsing recovers at the next comma after a
//! bad option, so every bad option of one attribute is reported at once. How a list of options
//! is parsed is the same for every attribute and written once, in `options.rs`; each attribute
//! only lists its keywords and checks its values.

use proc_macro2::{Span, TokenStream};
use syn::parse::discouraged::Speculative;
use syn::parse::ParseStream;
use syn::{Attribute, Lit, LitInt, LitStr, Meta, Token, Type};

use crate::ctx::Ctxt;
use crate::hash::MAX_EXPLICIT_TAG;
use options::skip_value;

pub(crate) mod options;
pub(crate) mod registered;
pub(crate) mod supervised;

mod kw {
    syn::custom_keyword!(mailbox);
    syn::custom_keyword!(name);
    syn::custom_keyword!(codec);
    syn::custom_keyword!(tag);
    syn::custom_keyword!(remote_spawn);
}

/// The complete form of `#[actor(...)]` on a struct, shown in help lines.
const ACTOR_FORM: &str =
    "`#[actor(mailbox = 64, name = \"counter\", codec = my::Codec, remote_spawn)]` (every option is optional)";

/// The form of the `remote_spawn` option, shown in help lines.
const REMOTE_SPAWN_FORM: &str = "`remote_spawn` (the struct itself is the start arguments) or `remote_spawn = Args` (a type the actor is made `From`)";

/// The form of `#[message(...)]`, shown in help lines.
const MESSAGE_FORM: &str = "`#[message]`, or `#[message(tag = 7)]` for an explicit wire tag";

/// Options of `#[actor(...)]` on a struct. An option that is absent or invalid is `None`
/// (invalid ones have been reported).
#[derive(Default)]
pub(crate) struct ActorOptions {
    /// `mailbox = N`: the mailbox capacity, at least 1, as an unsuffixed literal.
    pub(crate) mailbox: Option<LitInt>,
    /// `name = "..."`: the actor's name in logs, not empty.
    pub(crate) name: Option<LitStr>,
    /// `codec = Path`: the wire codec.
    pub(crate) codec: Option<Type>,
    /// `remote_spawn` or `remote_spawn = Args`: other nodes may start it.
    pub(crate) remote_spawn: Option<RemoteSpawnArgs>,
}

/// What another node sends to start an actor declared `remote_spawn`.
pub(crate) struct RemoteSpawnArgs {
    /// Where the option is written, for the errors of the code generated from it.
    pub(crate) span: Span,
    /// `remote_spawn = Args`; `None` for `remote_spawn`, where the struct itself travels.
    pub(crate) args: Option<Type>,
}

/// Parses the arguments of `#[actor(...)]` on a struct.
pub(crate) fn parse_actor_options(cx: &Ctxt, args: TokenStream) -> ActorOptions {
    let (mut mailbox, mut name, mut codec, mut remote_spawn) = (None, None, None, None);
    options::parse_list(cx, args, ACTOR_FORM, |input, lookahead| {
        if lookahead.peek(kw::mailbox) {
            options::option::<kw::mailbox, _>(cx, input, &mut mailbox, "mailbox = 64", mailbox_value)?;
        } else if lookahead.peek(kw::name) {
            options::option::<kw::name, _>(cx, input, &mut name, "name = \"counter\"", name_value)?;
        } else if lookahead.peek(kw::codec) {
            options::option_with(cx, input, &mut codec, codec_value, |_, ty| Some(ty))?;
        } else if lookahead.peek(kw::remote_spawn) {
            options::option_with(cx, input, &mut remote_spawn, remote_spawn_value, |_, args| {
                Some(args)
            })?;
        } else {
            return Ok(false);
        }
        Ok(true)
    });
    ActorOptions {
        mailbox: options::into_value(mailbox),
        name: options::into_value(name),
        codec: options::into_value(codec),
        remote_spawn: options::into_value(remote_spawn),
    }
}

fn mailbox_value(cx: &Ctxt, value: TokenStream) -> Option<LitInt> {
    let Ok(Lit::Int(lit)) = syn::parse2::<Lit>(value.clone()) else {
        cx.error_help(value, "`mailbox` takes an integer literal", "`mailbox = 64`");
        return None;
    };
    match lit.base10_parse::<usize>() {
        Ok(0) => {
            cx.error_help(
                &lit,
                "a mailbox holds at least one message",
                "`mailbox = 64` (the capacity, 1 or more)",
            );
            None
        }
        // Normalised to an unsuffixed literal: `64u8` would not be a `usize`.
        Ok(capacity) => Some(LitInt::new(&capacity.to_string(), lit.span())),
        Err(_) => {
            cx.error_help(
                &lit,
                "mailbox capacity out of range",
                "`mailbox = 64` (the capacity, 1 or more)",
            );
            None
        }
    }
}

fn name_value(cx: &Ctxt, value: TokenStream) -> Option<LitStr> {
    let Ok(Lit::Str(lit)) = syn::parse2::<Lit>(value.clone()) else {
        cx.error_help(value, "`name` takes a string literal", "`name = \"counter\"`");
        return None;
    };
    if lit.value().is_empty() {
        cx.error_help(&lit, "the actor's name cannot be empty", "`name = \"counter\"`");
        return None;
    }
    Some(lit)
}

/// Parses `= Type` after `codec`. A type may contain commas (`my::Codec<A, B>`), so it is
/// parsed as a type rather than cut at the next comma.
fn codec_value(cx: &Ctxt, input: ParseStream<'_>, key: &kw::codec) -> syn::Result<Option<Type>> {
    const FORM: &str = "`codec = my::Codec` (a type implementing `distribute::codec::Codec`)";
    if input.parse::<Option<Token![=]>>()?.is_none() {
        cx.error_help(key, "expected `=` and a value after the option name", FORM);
        skip_value(input)?;
        return Ok(None);
    }
    type_value(cx, input, key, "`codec` takes a type", FORM)
}

/// Parses what follows `remote_spawn`: nothing, or `= Type`.
fn remote_spawn_value(
    cx: &Ctxt,
    input: ParseStream<'_>,
    key: &kw::remote_spawn,
) -> syn::Result<Option<RemoteSpawnArgs>> {
    let span = key.span;
    if input.parse::<Option<Token![=]>>()?.is_none() {
        if !(input.is_empty() || input.peek(Token![,])) {
            let value = skip_value(input)?;
            cx.error_help(
                value,
                "expected `=` and a type, or nothing, after `remote_spawn`",
                REMOTE_SPAWN_FORM,
            );
            return Ok(None);
        }
        return Ok(Some(RemoteSpawnArgs { span, args: None }));
    }
    let args = type_value(cx, input, key, "`remote_spawn` takes a type", REMOTE_SPAWN_FORM)?;
    Ok(args.map(|ty| RemoteSpawnArgs { span, args: Some(ty) }))
}

/// Parses a type after an option's `=`, up to the next comma; a literal or anything else
/// that is not a type is reported as `what`, with `form` as the help line.
fn type_value(
    cx: &Ctxt,
    input: ParseStream<'_>,
    key: &impl quote::ToTokens,
    what: &str,
    form: &str,
) -> syn::Result<Option<Type>> {
    if input.peek(Lit) {
        let value = skip_value(input)?;
        cx.error_help(value, what, form);
        return Ok(None);
    }
    let fork = input.fork();
    match fork.parse::<Type>() {
        Ok(ty) if fork.is_empty() || fork.peek(Token![,]) => {
            input.advance_to(&fork);
            Ok(Some(ty))
        }
        _ => {
            let value = skip_value(input)?;
            if value.is_empty() {
                cx.error_help(key, "missing value", form);
            } else {
                cx.error_help(value, what, form);
            }
            Ok(None)
        }
    }
}

/// Options of `#[message(...)]`.
#[derive(Default)]
pub(crate) struct MessageOptions {
    /// `tag = N`, already checked to be in `0..=0x7FFF_FFFF`.
    pub(crate) tag: Option<(u32, LitInt)>,
}

/// Parses a `#[message]` or `#[message(tag = N)]` attribute.
pub(crate) fn parse_message_options(cx: &Ctxt, attr: &Attribute) -> MessageOptions {
    let list = match &attr.meta {
        Meta::Path(_) => return MessageOptions::default(),
        Meta::List(list) => list,
        Meta::NameValue(_) => {
            cx.error_help(attr, "malformed `#[message]` attribute", MESSAGE_FORM);
            return MessageOptions::default();
        }
    };
    let mut tag = None;
    options::parse_list(cx, list.tokens.clone(), MESSAGE_FORM, |input, lookahead| {
        if !lookahead.peek(kw::tag) {
            return Ok(false);
        }
        options::option::<kw::tag, _>(cx, input, &mut tag, "tag = 7", tag_value)?;
        Ok(true)
    });
    MessageOptions {
        tag: options::into_value(tag),
    }
}

fn tag_value(cx: &Ctxt, value: TokenStream) -> Option<(u32, LitInt)> {
    let Ok(Lit::Int(lit)) = syn::parse2::<Lit>(value.clone()) else {
        cx.error_help(value, "`tag` takes an integer literal", "`#[message(tag = 7)]`");
        return None;
    };
    match lit.base10_parse::<u64>() {
        Ok(tag) if tag <= u64::from(MAX_EXPLICIT_TAG) => Some((tag as u32, lit)),
        _ => {
            cx.error_help(
                &lit,
                format!(
                    "tag out of range: explicit tags are 0..={MAX_EXPLICIT_TAG}; the upper half is reserved for generated tags"
                ),
                "pick a smaller tag, e.g. `#[message(tag = 7)]`, or remove the option to use a generated tag",
            );
            None
        }
    }
}

/// A lifecycle hook of an actor, marked in its `#[actor]` impl block.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum HookKind {
    /// `#[on_start]`, forwarded from `Actor::started`.
    Start,
    /// `#[on_stop]`, forwarded from `Actor::stopped`.
    Stop,
    /// `#[on_exit]`, forwarded from `Actor::on_exit`.
    Exit,
    /// `#[on_down]`, forwarded from `Actor::on_down`.
    Down,
}

impl HookKind {
    /// The attribute's name.
    pub(crate) fn attr_name(self) -> &'static str {
        match self {
            HookKind::Start => "on_start",
            HookKind::Stop => "on_stop",
            HookKind::Exit => "on_exit",
            HookKind::Down => "on_down",
        }
    }

    /// The signature the hook must have, shown in help lines.
    pub(crate) fn form(self) -> &'static str {
        match self {
            HookKind::Start => {
                "`#[on_start] fn init(&mut self, ctx: &mut Context<Self>) -> Result<(), E>` (the `ctx` parameter and the `Result` are optional; the hook may be `async`)"
            }
            HookKind::Stop => {
                "`#[on_stop] fn stopped(&mut self, ctx: &mut Context<Self>, reason: &ExitReason)` (the `ctx` parameter is optional; the hook may be `async`)"
            }
            HookKind::Exit => {
                "`#[on_exit] fn exited(&mut self, ctx: &mut Context<Self>, signal: ExitSignal)` (the `ctx` parameter is optional; the hook may be `async`)"
            }
            HookKind::Down => {
                "`#[on_down] fn down(&mut self, ctx: &mut Context<Self>, down: Down)` (the `ctx` parameter is optional; the hook may be `async`)"
            }
        }
    }

    /// What the hook receives besides `self` and the context, for error messages.
    pub(crate) fn payload(self) -> Option<&'static str> {
        match self {
            HookKind::Start => None,
            HookKind::Stop => Some("the exit reason, `reason: &ExitReason`"),
            HookKind::Exit => Some("the exit signal, `signal: ExitSignal`"),
            HookKind::Down => Some("the DOWN notification, `down: Down`"),
        }
    }

    /// How many parameters the hook takes besides `self` and the context.
    pub(crate) fn payloads(self) -> usize {
        match self {
            HookKind::Start => 0,
            HookKind::Stop | HookKind::Exit | HookKind::Down => 1,
        }
    }
}

/// What a helper attribute marks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    /// `#[message]` or `#[message(...)]`.
    Message,
    /// `#[on_start]`, `#[on_stop]`, `#[on_exit]` or `#[on_down]`.
    Hook(HookKind),
}

impl Marker {
    pub(crate) fn attr_name(self) -> &'static str {
        match self {
            Marker::Message => "message",
            Marker::Hook(kind) => kind.attr_name(),
        }
    }
}

fn marker_of(attr: &Attribute) -> Option<Marker> {
    let ident = attr.path().get_ident()?;
    Some(match ident.to_string().as_str() {
        "message" => Marker::Message,
        "on_start" => Marker::Hook(HookKind::Start),
        "on_stop" => Marker::Hook(HookKind::Stop),
        "on_exit" => Marker::Hook(HookKind::Exit),
        "on_down" => Marker::Hook(HookKind::Down),
        _ => return None,
    })
}

/// Removes the helper attributes from `attrs` and returns them. They are not real
/// attributes: left in place, the compiler would reject them.
pub(crate) fn take_markers(attrs: &mut Vec<Attribute>) -> Vec<(Marker, Attribute)> {
    let mut markers = Vec::new();
    attrs.retain(|attr| match marker_of(attr) {
        Some(marker) => {
            markers.push((marker, attr.clone()));
            false
        }
        None => true,
    });
    markers
}

/// Checks that a hook attribute has no arguments (`#[on_start]`, not `#[on_start(...)]`).
pub(crate) fn check_hook_attr(cx: &Ctxt, kind: HookKind, attr: &Attribute) {
    if !matches!(attr.meta, Meta::Path(_)) {
        let name = kind.attr_name();
        cx.error_help(
            attr,
            format!("`#[{name}]` takes no arguments"),
            format!("write `#[{name}]`"),
        );
    }
}

/// Whether `attr` is `#[actor]` or `#[distribute::actor]`, used to catch the macro applied
/// twice to one item.
pub(crate) fn is_actor_attr(attr: &Attribute) -> bool {
    let path = attr.path();
    path.segments.last().is_some_and(|last| last.ident == "actor")
        && (path.segments.len() == 1
            || path
                .segments
                .first()
                .is_some_and(|first| first.ident == "distribute"))
}

/// Whether `attr` is `#[cfg(...)]` or `#[cfg_attr(...)]`.
pub(crate) fn is_cfg_attr(attr: &Attribute) -> bool {
    attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr")
}

/// The span of an attribute's path (`message` in `#[message(tag = 1)]`).
pub(crate) fn path_span(attr: &Attribute) -> Span {
    use syn::spanned::Spanned;
    attr.path().span()
}
