//! How a request's messages are laid into `SendMessageBatch` calls: a pure function of the
//! messages, their sizes and the queue's limits.

use std::collections::HashMap;

use org_change_core::{GroupBy, Outgoing};

/// The most messages of one FIFO group per request that go one per call. 20 calls in a row
/// take about 1 s at SQS's 20–50 ms a call. A larger group is packed ten to a call, so the
/// request is still acknowledged in time. Its order then breaks only if SQS refuses one
/// entry and stores a later one of the same group.
pub const MAX_CHANGES_ONE_PER_CALL: usize = 20;

/// What one call may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub entries: usize,
    /// Bytes per message, and per call for all its messages, as [`Outgoing::size`] counts
    /// them.
    pub bytes: usize,
    /// How a FIFO queue groups messages. A call then holds at most one message of each
    /// group, so a resent entry is never overtaken by a later one.
    pub fifo: Option<GroupBy>,
}

/// The messages of one call, or of one piece of a unit.
type Call<'a> = Vec<&'a Outgoing>;

/// A chain of calls, sent in order. The chains of a request are sent concurrently.
type Chain<'a> = Vec<Call<'a>>;

/// Whether `call` has room for `piece` within `limits`.
fn has_room(limits: Limits, call: &[&Outgoing], piece: &[&Outgoing]) -> bool {
    let bytes =
        |messages: &[&Outgoing]| messages.iter().map(|message| message.size()).sum::<usize>();
    call.len() + piece.len() <= limits.entries && bytes(call) + bytes(piece) <= limits.bytes
}

/// Lays `messages` into chains of calls within `limits`. Each message fits in one call, as
/// the core refuses one that SQS could never take.
///
/// A unit's messages are cut, in order, into pieces that each fit in one call. Piece k goes
/// into the k-th call of a chain. The unit joins the first chain with room for each of its
/// pieces, or starts one. So units of one piece, nearly all, fill first calls, which are
/// all sent at once. On a FIFO queue a piece holds one message, for a unit changed at most
/// [`MAX_CHANGES_ONE_PER_CALL`] times.
pub(super) fn plan(messages: &[Outgoing], limits: Limits) -> Vec<Chain<'_>> {
    let limits = Limits {
        entries: limits.entries.max(1),
        ..limits
    };
    let mut chains: Vec<Chain<'_>> = Vec::new();
    for unit in units(messages, limits) {
        let pieces = pieces(unit, limits);
        // Past a chain's last call there are empty calls, where `zip` stops.
        let fits = |chain: &Chain<'_>| {
            pieces
                .iter()
                .zip(chain)
                .all(|(piece, call)| has_room(limits, call, piece))
        };
        let index = chains.iter().position(fits).unwrap_or_else(|| {
            chains.push(Vec::new());
            chains.len() - 1
        });
        let chain = &mut chains[index];
        for (position, piece) in pieces.into_iter().enumerate() {
            match chain.get_mut(position) {
                Some(call) => call.extend(piece),
                None => chain.push(piece),
            }
        }
    }
    chains
}

/// The units of `messages` in order of first appearance, each with its messages in order.
fn units(messages: &[Outgoing], limits: Limits) -> Vec<Vec<&Outgoing>> {
    let mut units: Vec<Vec<&Outgoing>> = Vec::new();
    let mut unit_of: HashMap<&str, usize> = HashMap::new();
    // The unit whose messages keep their order: the message group on a FIFO queue, else
    // the changed unit.
    let by = limits.fifo.unwrap_or(GroupBy::Unit);
    for message in messages {
        let index = *unit_of.entry(message.ordering_key(by)).or_insert_with(|| {
            units.push(Vec::new());
            units.len() - 1
        });
        units[index].push(message);
    }
    units
}

/// `unit` cut, in order, into pieces that each fit in one call.
fn pieces(unit: Vec<&Outgoing>, limits: Limits) -> Vec<Call<'_>> {
    let one_per_call = limits.fifo.is_some() && unit.len() <= MAX_CHANGES_ONE_PER_CALL;
    let piece_limits = Limits {
        entries: if one_per_call { 1 } else { limits.entries },
        ..limits
    };
    let mut pieces: Vec<Call<'_>> = Vec::new();
    for message in unit {
        match pieces.last_mut() {
            Some(piece) if has_room(piece_limits, piece, &[message]) => piece.push(message),
            _ => pieces.push(vec![message]),
        }
    }
    pieces
}
