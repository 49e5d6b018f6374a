//! The handshake state machine under arbitrary messages and under a tampering relay.

use super::{check, Input, Outcome, Violation};
use crate::transport::handshake::{Handshake, HandshakeConfig, HandshakeError, Step, NONCE_LEN};

const COOKIE: &[u8] = b"fuzz cookie";

/// Input `mode | ...`. An even mode feeds arbitrary messages to one node; an odd mode runs two
/// honest nodes through a relay that may alter each message (see `relayed`).
pub fn handshake(data: &[u8]) -> Outcome {
    let mut input = Input(data);
    if input.byte() % 2 == 0 {
        arbitrary_messages(input)
    } else {
        relayed(input)
    }
}

fn config(name: String, incarnation: u64, capabilities: u64) -> HandshakeConfig {
    HandshakeConfig {
        name,
        incarnation,
        capabilities,
        cookie: COOKIE.to_vec(),
    }
}

/// Messages `len u16 | bytes`, one after the other, to a node that holds the cookie: none
/// panics, none but a valid proof (which the fuzzer cannot forge) establishes the peer, and
/// after an error every later message is refused with that same error.
fn arbitrary_messages(mut input: Input<'_>) -> Outcome {
    let (mut node, _hello) = Handshake::new(config("victim".into(), 1, u64::MAX), [7; NONCE_LEN])
        .map_err(|e| Violation::new(format!("a valid config is refused: {e}")))?;
    let mut failed: Option<HandshakeError> = None;
    while !input.0.is_empty() {
        let len = usize::from(input.u16());
        let message = input.take(len);
        let result = node.receive(message);
        if let Some(first) = &failed {
            check(result.as_ref().err() == Some(first), || {
                format!("after {first:?} the handshake answered {result:?}")
            })?;
            continue;
        }
        match result {
            Ok(Step::Established(peer, _)) => {
                return Err(Violation::new(format!("established {peer:?} without the cookie")))
            }
            Ok(Step::Send(_)) => {}
            Err(error) => {
                check(node.error() == Some(&error), || {
                    format!("{error:?} not kept as the state")
                })?;
                failed = Some(error);
            }
        }
    }
    Ok(())
}

/// A valid node name from fuzzer bytes (1 to 16 characters of the allowed alphabet).
fn name(input: &mut Input<'_>) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-";
    let len = usize::from(input.byte() % 16) + 1;
    (0..len)
        .map(|_| {
            let at = usize::from(input.byte()) % ALPHABET.len();
            char::from(ALPHABET.get(at).copied().unwrap_or(b'a'))
        })
        .collect()
}

fn node(input: &mut Input<'_>) -> Result<(Handshake, Vec<u8>, HandshakeConfig), Violation> {
    let config = config(name(input), input.u64(), input.u64());
    let mut nonce = [0; NONCE_LEN];
    nonce.iter_mut().for_each(|b| *b = input.byte());
    let (machine, hello) = Handshake::new(config.clone(), nonce)
        .map_err(|e| Violation::new(format!("a valid config is refused: {e}")))?;
    Ok((machine, hello, config))
}

/// What the relay does to one message: `flag | position u16 | xor mask`. Flag bit 0 alters.
fn relay(input: &mut Input<'_>, message: Vec<u8>) -> (Vec<u8>, bool) {
    let alter = input.byte() & 1 == 1;
    let position = usize::from(input.u16());
    let mask = input.byte();
    if !alter || message.is_empty() || mask == 0 {
        return (message, false);
    }
    let mut altered = message;
    let at = position % altered.len();
    if let Some(byte) = altered.get_mut(at) {
        *byte ^= mask;
    }
    (altered, true)
}

/// Two honest nodes `a` and `b`, each message passing a relay that may flip bits in it. A node
/// that establishes must have authenticated exactly the other node's name, incarnation and
/// shared capabilities; when the relay altered nothing (and the nodes differ) both establish.
fn relayed(mut input: Input<'_>) -> Outcome {
    let (mut a, hello_a, config_a) = node(&mut input)?;
    let (mut b, hello_b, config_b) = node(&mut input)?;
    let (hello_a, altered_hello_a) = relay(&mut input, hello_a);
    let (hello_b, altered_hello_b) = relay(&mut input, hello_b);
    let step_b = b.receive(&hello_a);
    let step_a = a.receive(&hello_b);
    let mut tampered = altered_hello_a || altered_hello_b;
    let mut outcomes = [None, None];
    if let (Ok(Step::Send(proof_a)), Ok(Step::Send(proof_b))) = (step_a, step_b) {
        let (proof_a, altered_proof_a) = relay(&mut input, proof_a);
        let (proof_b, altered_proof_b) = relay(&mut input, proof_b);
        tampered |= altered_proof_a || altered_proof_b;
        outcomes = [Some(a.receive(&proof_b)), Some(b.receive(&proof_a))];
    }
    let capabilities = config_a.capabilities & config_b.capabilities;
    for (outcome, other) in outcomes.iter().zip([&config_b, &config_a]) {
        if let Some(Ok(Step::Established(peer, _))) = outcome {
            check(
                peer.name == other.name
                    && peer.incarnation == other.incarnation
                    && peer.capabilities == capabilities,
                || format!("established {peer:?}, but the other node is {other:?}"),
            )?;
        }
    }
    if let [Some(Ok(Step::Established(_, keys_a))), Some(Ok(Step::Established(_, keys_b)))] = &mut outcomes {
        super::session::keys_pair(keys_a, keys_b, input.rest())?;
    }
    let nonce = |hello: &[u8]| {
        hello
            .get(hello.len().saturating_sub(NONCE_LEN)..)
            .map(<[u8]>::to_vec)
    };
    let distinct = config_a.name != config_b.name && nonce(&hello_a) != nonce(&hello_b);
    let both = outcomes
        .iter()
        .all(|outcome| matches!(outcome, Some(Ok(Step::Established(..)))));
    check(tampered || !distinct || both, || {
        format!("an untouched handshake between {config_a:?} and {config_b:?} failed: {outcomes:?}")
    })
}
