//! Codec benchmarks: encoding and decoding one small message with each built-in codec.

use std::hint::black_box;
use std::time::Instant;

use distribute::codec::{Bincode, Codec, Postcard, DEFAULT_LIMIT};
use serde::{Deserialize, Serialize};

use crate::report;

/// A small message as an application would send it: a few integers, a short string, a flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    customer: u32,
    quantity: u16,
    item: String,
    express: bool,
}

/// Encodes and decodes `rounds` times with each codec; prints the mean time of each.
pub(crate) fn codecs(rounds: u64) -> Result<(), crate::BoxError> {
    let order = Order {
        id: 1_234_567,
        customer: 42,
        quantity: 3,
        item: String::from("widget-xl"),
        express: true,
    };
    measure("bincode", &Bincode::<DEFAULT_LIMIT>, &order, rounds)?;
    measure("postcard", &Postcard::<DEFAULT_LIMIT>, &order, rounds)?;
    Ok(())
}

fn measure<C: Codec>(name: &str, codec: &C, order: &Order, rounds: u64) -> Result<(), crate::BoxError> {
    let mut out = Vec::with_capacity(64);
    codec.encode(order, &mut out)?;
    let encoded = out.clone();
    if codec.decode::<Order>(&encoded)? != *order {
        return Err(format!("{name} did not round-trip the message").into());
    }

    // The buffer is reused, as the transport reuses its frame buffer.
    let start = Instant::now();
    for _ in 0..rounds {
        out.clear();
        codec.encode(black_box(order), &mut out)?;
        black_box(&out);
    }
    report(
        &format!("codec.{name}.encode_ns"),
        start.elapsed().as_secs_f64() * 1e9 / rounds as f64,
        "ns",
    );

    let start = Instant::now();
    for _ in 0..rounds {
        black_box(codec.decode::<Order>(black_box(&encoded))?);
    }
    report(
        &format!("codec.{name}.decode_ns"),
        start.elapsed().as_secs_f64() * 1e9 / rounds as f64,
        "ns",
    );
    report(&format!("codec.{name}.bytes"), encoded.len() as f64, "bytes");
    Ok(())
}
