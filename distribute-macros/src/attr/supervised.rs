//! The options of `#[supervised(...)]`: restart type, strategy, restart intensity, shutdown
//! timeout, backoff, pool size and routing.
//!
//! Each value is checked here, alone, and the error spanned on it: a name against the
//! runtime enum's variants (`restart = transient`), a duration string (`within = "5s"`)
//! converted to milliseconds, an integer against its range. Rules between options (`routing`
//! needs `pool`; `max_restarts` and `within` come together) need them all and are in
//! `validate.rs`.
//!
//! Values that are names are matched against a table rather than parsed as custom keywords,
//! so that an unknown one is reported with the name the user wrote and the list of valid ones.

use proc_macro2::{Ident, TokenStream};
use syn::{Attribute, Lit, LitInt};

use super::options::{option, parse_list, Setting};
use crate::ctx::Ctxt;

mod kw {
    syn::custom_keyword!(restart);
    syn::custom_keyword!(strategy);
    syn::custom_keyword!(max_restarts);
    syn::custom_keyword!(within);
    syn::custom_keyword!(shutdown);
    syn::custom_keyword!(backoff);
    syn::custom_keyword!(pool);
    syn::custom_keyword!(routing);
}

/// The complete form of `#[supervised(...)]`, shown in help lines.
const SUPERVISED_FORM: &str = "`#[supervised(restart = transient, strategy = one_for_one, max_restarts = 3, \
     within = \"5s\", shutdown = \"1s\", backoff = \"100ms\", pool = 4, routing = round_robin)]` \
     (every option is optional)";

/// The form of the restart intensity, shown in help lines.
pub(crate) const INTENSITY_FORM: &str =
    "`max_restarts = 3, within = \"5s\"` (at most 3 restarts within 5 seconds)";

/// The largest pool `pool = N` accepts: a sanity bound, far above any useful size.
const MAX_POOL: usize = 65_536;

/// Options of `#[supervised(...)]`; `None` when absent.
#[derive(Default)]
pub(crate) struct SupervisedOptions {
    /// `restart = permanent|transient|temporary`.
    pub(crate) restart: Option<Setting<Choice>>,
    /// `strategy = one_for_one|one_for_all|rest_for_one`.
    pub(crate) strategy: Option<Setting<Choice>>,
    /// `max_restarts = N`.
    pub(crate) max_restarts: Option<Setting<u32>>,
    /// `within = "5s"`, not zero.
    pub(crate) within: Option<Setting<Duration>>,
    /// `shutdown = "1s"`.
    pub(crate) shutdown: Option<Setting<Duration>>,
    /// `backoff = "100ms"`, not zero.
    pub(crate) backoff: Option<Setting<Duration>>,
    /// `pool = N` (a literal in `1..=MAX_POOL`) or `pool = <expression>` (computed at start).
    pub(crate) pool: Option<Setting<PoolSize>>,
    /// `routing = round_robin|random|least_loaded|key_hash`.
    pub(crate) routing: Option<Setting<Choice>>,
}

/// A value chosen by name: `transient` in `restart = transient`.
pub(crate) struct Choice {
    /// The name, as the user wrote it.
    pub(crate) name: &'static str,
    /// The variant of the runtime's enum, `Transient`, spanned on the name as written.
    pub(crate) variant: Ident,
}

/// A duration: `"5s"`.
pub(crate) struct Duration {
    pub(crate) millis: u64,
    /// The string as written, `5s`, for the generated docs.
    pub(crate) text: String,
}

/// The names an option takes, and the runtime enum variant of each.
struct Names {
    option: &'static str,
    /// What a value is, in messages: "restart type".
    what: &'static str,
    values: &'static [(&'static str, &'static str)],
    /// A valid value, for the help line.
    example: &'static str,
}

const RESTART: Names = Names {
    option: "restart",
    what: "restart type",
    values: &[
        ("permanent", "Permanent"),
        ("transient", "Transient"),
        ("temporary", "Temporary"),
    ],
    example: "transient",
};

const STRATEGY: Names = Names {
    option: "strategy",
    what: "strategy",
    values: &[
        ("one_for_one", "OneForOne"),
        ("one_for_all", "OneForAll"),
        ("rest_for_one", "RestForOne"),
    ],
    example: "one_for_all",
};

const ROUTING: Names = Names {
    option: "routing",
    what: "routing",
    values: &[
        ("round_robin", "RoundRobin"),
        ("random", "Random"),
        ("least_loaded", "LeastLoaded"),
        ("key_hash", "KeyHash"),
    ],
    example: "least_loaded",
};

/// Parses the arguments of `#[supervised(...)]`.
pub(crate) fn parse_supervised_options(cx: &Ctxt, args: TokenStream) -> SupervisedOptions {
    let mut options = SupervisedOptions::default();
    parse_list(cx, args, SUPERVISED_FORM, |input, lookahead| {
        if lookahead.peek(kw::restart) {
            option::<kw::restart, _>(cx, input, &mut options.restart, "restart = transient", restart)?;
        } else if lookahead.peek(kw::strategy) {
            option::<kw::strategy, _>(
                cx,
                input,
                &mut options.strategy,
                "strategy = one_for_all",
                strategy,
            )?;
        } else if lookahead.peek(kw::max_restarts) {
            option::<kw::max_restarts, _>(
                cx,
                input,
                &mut options.max_restarts,
                "max_restarts = 3",
                max_restarts,
            )?;
        } else if lookahead.peek(kw::within) {
            option::<kw::within, _>(cx, input, &mut options.within, "within = \"5s\"", within)?;
        } else if lookahead.peek(kw::shutdown) {
            option::<kw::shutdown, _>(cx, input, &mut options.shutdown, "shutdown = \"1s\"", shutdown)?;
        } else if lookahead.peek(kw::backoff) {
            option::<kw::backoff, _>(cx, input, &mut options.backoff, "backoff = \"100ms\"", backoff)?;
        } else if lookahead.peek(kw::pool) {
            option::<kw::pool, _>(cx, input, &mut options.pool, "pool = 4", pool)?;
        } else if lookahead.peek(kw::routing) {
            option::<kw::routing, _>(cx, input, &mut options.routing, "routing = least_loaded", routing)?;
        } else {
            return Ok(false);
        }
        Ok(true)
    });
    options
}

fn restart(cx: &Ctxt, value: TokenStream) -> Option<Choice> {
    choice(cx, &RESTART, value)
}

fn strategy(cx: &Ctxt, value: TokenStream) -> Option<Choice> {
    choice(cx, &STRATEGY, value)
}

fn routing(cx: &Ctxt, value: TokenStream) -> Option<Choice> {
    choice(cx, &ROUTING, value)
}

fn shutdown(cx: &Ctxt, value: TokenStream) -> Option<Duration> {
    duration(cx, "shutdown", "1s", value)
}

/// A name from `names`. A string holding a valid name, or a name in another case
/// (`OneForAll`), gets a help line with the right spelling.
fn choice(cx: &Ctxt, names: &Names, value: TokenStream) -> Option<Choice> {
    let option = names.option;
    let expected = names
        .values
        .iter()
        .map(|(name, _)| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let lookup = |written: &str| names.values.iter().find(|(name, _)| *name == written);
    // `OneForAll`, `ONE_FOR_ALL`, `oneforall` all suggest `one_for_all`.
    let loosely = |written: &str| {
        let squash = |s: &str| s.replace('_', "").to_lowercase();
        names
            .values
            .iter()
            .find(|(name, _)| squash(name) == squash(written))
    };
    let help = |suggestion: Option<&(&str, &str)>| {
        let name = suggestion.map_or(names.example, |(name, _)| *name);
        format!("`{option} = {name}`")
    };
    match syn::parse2::<Ident>(value.clone()) {
        Ok(ident) => {
            let written = ident.to_string();
            if let Some((name, variant)) = lookup(&written) {
                return Some(Choice {
                    name,
                    variant: Ident::new(variant, ident.span()),
                });
            }
            cx.error_help(
                &ident,
                format!("unknown {} `{written}`: expected one of {expected}", names.what),
                help(loosely(&written)),
            );
        }
        Err(_) => match syn::parse2::<Lit>(value.clone()) {
            Ok(Lit::Str(lit)) => cx.error_help(
                &lit,
                format!("`{option}` takes a name, not a string: one of {expected}"),
                help(loosely(&lit.value())),
            ),
            _ => cx.error_help(value, format!("`{option}` takes one of {expected}"), help(None)),
        },
    }
    None
}

/// An integer literal that is not negative, as a `u64` (`None` when it does not fit: the
/// caller reports its own range).
fn unsigned(cx: &Ctxt, option: &str, form: &str, value: TokenStream) -> Option<(Option<u64>, LitInt)> {
    let Ok(Lit::Int(lit)) = syn::parse2::<Lit>(value.clone()) else {
        cx.error_help(value, format!("`{option}` takes an integer literal"), form);
        return None;
    };
    // syn reads `-1` as one literal, spanned on the `-` alone.
    if lit.base10_digits().starts_with('-') {
        cx.error_help(value, format!("`{option}` cannot be negative"), form);
        return None;
    }
    Some((lit.base10_parse::<u64>().ok(), lit))
}

fn max_restarts(cx: &Ctxt, value: TokenStream) -> Option<u32> {
    let (number, lit) = unsigned(cx, "max_restarts", INTENSITY_FORM, value)?;
    match number.map(u32::try_from) {
        Some(Ok(max_restarts)) => Some(max_restarts),
        _ => {
            cx.error_help(
                &lit,
                format!("`max_restarts` out of range: at most {}", u32::MAX),
                INTENSITY_FORM,
            );
            None
        }
    }
}

/// `pool = <expression>`: any expression, which the compiler checks is a `usize`.
fn computed_pool(cx: &Ctxt, value: TokenStream, form: String) -> Option<PoolSize> {
    match syn::parse2::<syn::Expr>(value.clone()) {
        Ok(expr) => Some(PoolSize::Computed(expr)),
        Err(_) => {
            cx.error_help(&value, "`pool` takes a number of workers or an expression", form);
            None
        }
    }
}

/// The size of a pool, as `pool = ...` gives it.
pub(crate) enum PoolSize {
    /// An integer literal, checked here.
    Fixed(usize),
    /// Any other expression of type `usize`, evaluated each time the pool starts (the number
    /// of CPUs times two, say); a size of zero fails that start.
    Computed(syn::Expr),
}

fn pool(cx: &Ctxt, value: TokenStream) -> Option<PoolSize> {
    let form = format!(
        "`pool = 4` (the number of workers, 1 to {MAX_POOL}), or an expression of type `usize` computed when the pool starts: `pool = num_workers()`"
    );
    match syn::parse2::<Lit>(value.clone()) {
        Ok(Lit::Int(_)) => {}
        Ok(other) => {
            cx.error_help(
                other,
                "`pool` takes a number of workers (an integer literal) or an expression of type `usize`",
                form,
            );
            return None;
        }
        Err(_) => return computed_pool(cx, value, form),
    }
    let (number, lit) = unsigned(cx, "pool", &form, value)?;
    match number {
        Some(0) => cx.error_help(&lit, "a pool needs at least one worker", form),
        Some(size) if size <= MAX_POOL as u64 => return Some(PoolSize::Fixed(size as usize)),
        _ => cx.error_help(
            &lit,
            format!("pool size out of range: at most {MAX_POOL} workers"),
            form,
        ),
    }
    None
}

fn within(cx: &Ctxt, value: TokenStream) -> Option<Duration> {
    let within = duration(cx, "within", "5s", value.clone())?;
    if within.millis == 0 {
        cx.error_help(value, "the restart window cannot be zero", INTENSITY_FORM);
        return None;
    }
    Some(within)
}

fn backoff(cx: &Ctxt, value: TokenStream) -> Option<Duration> {
    let backoff = duration(cx, "backoff", "100ms", value.clone())?;
    if backoff.millis == 0 {
        cx.error_help(
            value,
            "a backoff of zero is no backoff",
            "remove the option, or give the first pause: `backoff = \"100ms\"` (it doubles after each restart, up to 30 times the first)",
        );
        return None;
    }
    Some(backoff)
}

/// A duration string, `"<integer><unit>"` with the unit `ms`, `s`, `m` or `h`.
fn duration(cx: &Ctxt, option: &str, example: &str, value: TokenStream) -> Option<Duration> {
    let form = format!("`{option} = \"{example}\"` (an integer and a unit: `ms`, `s`, `m` or `h`)");
    let lit = match syn::parse2::<Lit>(value.clone()) {
        Ok(Lit::Str(lit)) => lit,
        Ok(Lit::Int(lit)) if lit.suffix().is_empty() => {
            cx.error_help(
                &lit,
                format!("`{option}` takes a duration string with a unit"),
                format!(
                    "`{option} = \"{}s\"` for seconds, `\"{0}ms\"` for milliseconds",
                    lit.base10_digits()
                ),
            );
            return None;
        }
        _ => {
            cx.error_help(value, format!("`{option}` takes a duration string"), form);
            return None;
        }
    };
    let text = lit.value();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => 0,
    };
    if number.is_empty() || per_unit == 0 {
        cx.error_help(&lit, format!("invalid duration `{text}`"), form);
        return None;
    }
    match number.parse::<u64>().ok().and_then(|n| n.checked_mul(per_unit)) {
        Some(millis) => Some(Duration { millis, text }),
        None => {
            cx.error_help(
                &lit,
                format!(
                    "duration out of range: `{text}` is more than {} milliseconds",
                    u64::MAX
                ),
                form,
            );
            None
        }
    }
}

/// Whether `attr` is `#[supervised]` or `#[distribute::supervised]`, used to catch the macro
/// applied twice to one item.
pub(crate) fn is_supervised_attr(attr: &Attribute) -> bool {
    let path = attr.path();
    path.segments
        .last()
        .is_some_and(|last| last.ident == "supervised")
        && (path.segments.len() == 1
            || path
                .segments
                .first()
                .is_some_and(|first| first.ident == "distribute"))
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;
    use crate::attr::options::value;

    fn millis(value: TokenStream) -> Option<u64> {
        let cx = Ctxt::new();
        let duration = duration(&cx, "within", "5s", value).map(|duration| duration.millis);
        assert_eq!(
            duration.is_none(),
            cx.check().is_err(),
            "an error exactly when no value"
        );
        duration
    }

    #[test]
    fn durations_are_an_integer_and_a_unit() {
        assert_eq!(millis(quote!("250ms")), Some(250));
        assert_eq!(millis(quote!("5s")), Some(5_000));
        assert_eq!(millis(quote!("2m")), Some(120_000));
        assert_eq!(millis(quote!("1h")), Some(3_600_000));
        assert_eq!(millis(quote!("0s")), Some(0));
        for invalid in [
            quote!("5 parsecs"),
            quote!("5"),
            quote!("s"),
            quote!("1.5s"),
            quote!("-1s"),
            quote!(" 5s"),
            quote!("5S"),
            quote!(5),
            quote!(five),
        ] {
            assert_eq!(millis(invalid.clone()), None, "{invalid}");
        }
    }

    #[test]
    fn durations_that_overflow_are_errors() {
        assert_eq!(millis(quote!("18446744073709551615ms")), Some(u64::MAX));
        assert_eq!(millis(quote!("18446744073709551616ms")), None);
        assert_eq!(millis(quote!("5124095576030432h")), None);
    }

    #[test]
    fn options_parse_to_their_values() {
        let cx = Ctxt::new();
        let options = parse_supervised_options(
            &cx,
            quote!(
                restart = temporary,
                max_restarts = 7,
                within = "1m",
                pool = 65536,
                routing = key_hash,
            ),
        );
        assert!(cx.check().is_ok());
        assert_eq!(
            value(&options.restart)
                .map(|choice| choice.variant.to_string())
                .as_deref(),
            Some("Temporary")
        );
        assert_eq!(value(&options.max_restarts), Some(&7));
        assert_eq!(value(&options.within).map(|within| within.millis), Some(60_000));
        assert!(matches!(value(&options.pool), Some(PoolSize::Fixed(65_536))));
        assert_eq!(
            value(&options.routing).map(|choice| choice.name),
            Some("key_hash")
        );
        assert!(options.strategy.is_none() && options.shutdown.is_none() && options.backoff.is_none());
    }

    #[test]
    fn every_bad_option_is_reported() {
        let cx = Ctxt::new();
        let options = parse_supervised_options(
            &cx,
            quote!(
                pool = 0,
                pool = 2,
                strategy = one_for_none,
                size = 3,
                max_restarts = -1
            ),
        );
        let errors = cx.check().unwrap_err().into_iter().count();
        assert_eq!(errors, 5);
        let pool = options.pool.expect("`pool` was given");
        assert!(
            pool.value.is_none(),
            "the first `pool` counts, and it was invalid"
        );
        assert!(options.strategy.is_some_and(|strategy| strategy.value.is_none()));
    }
}
