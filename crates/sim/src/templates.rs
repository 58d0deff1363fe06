//! Fresh events for `trigger`, made from the samples in `events/`.
//! The relay itself reads each sample's change and entity id, so nothing here repeats them.

use org_change_core::{
    Action, Delivery, Endpoint, Entity, Inbound, Message, Source, VerificationToken, receive,
};
use serde_json::{Value, json};

/// `[(Source, sample body)]` from `Source "folder/file.json"` pairs under `events/`.
macro_rules! samples {
    ($($source:ident $file:literal),* $(,)?) => {
        [$((Source::$source, include_str!(concat!("../../../events/", $file)))),*]
    };
}

/// One sample per relayed event type; the unit tests check both ways.
const SAMPLES: [(Source, &str); 14] = samples![
    Feishu "feishu/corehr.department.created_v1.json",
    Feishu "feishu/corehr.department.created_v2.json",
    Feishu "feishu/corehr.department.updated_v1.json",
    Feishu "feishu/corehr.department.updated_v2.json",
    Feishu "feishu/corehr.department.deleted_v1.json",
    Feishu "feishu/corehr.custom_org.created_v2.json",
    Feishu "feishu/corehr.custom_org.updated_v2.json",
    Feishu "feishu/corehr.custom_org.deleted_v2.json",
    Feishu "feishu/contact.department.created_v3.json",
    Feishu "feishu/contact.department.updated_v3.json",
    Feishu "feishu/contact.department.deleted_v3.json",
    Feilian "feilian/department.v1.create.json",
    Feilian "feilian/department.v1.update.json",
    Feilian "feilian/department.v1.delete.json",
];

/// The token the samples are read with; `Sender::with_token` puts the real one in.
const SAMPLE_TOKEN: &str = "sample";

/// What `trigger` can send: one event type of one source.
#[derive(Debug)]
pub struct Template {
    pub source: Source,
    pub event_type: String,
    pub entity: Entity,
    pub action: Action,
    /// The sample, cut down to one change.
    sample: Value,
    /// The sample's entity id, as the relay reads it.
    entity_id: String,
}

impl Template {
    /// A template for every sample, in the order of `SAMPLES`.
    pub fn all() -> Result<Vec<Template>, String> {
        SAMPLES
            .iter()
            .map(|&(source, text)| Template::new(source, text))
            .collect()
    }

    fn new(source: Source, text: &str) -> Result<Template, String> {
        let mut sample: Value =
            serde_json::from_str(text).map_err(|err| format!("a sample is not JSON: {err}"))?;
        // Every sample is an object: the unit tests read each one.
        sample["header"]["token"] = json!(SAMPLE_TOKEN);
        // A trigger is one change.
        if let Some(events) = sample
            .pointer_mut("/data/events")
            .and_then(Value::as_array_mut)
        {
            events.truncate(1);
        }
        let endpoint = Endpoint::new(source, VerificationToken::new(SAMPLE_TOKEN), None);
        let body = sample.to_string();
        let inbound = Inbound {
            body: body.as_bytes(),
            signature: None,
        };
        let delivery = receive(&endpoint, inbound, std::time::SystemTime::now());
        let message = match &delivery {
            Ok(Delivery::Changes(batch)) if batch.messages().len() == 1 => &batch.messages()[0],
            other => return Err(format!("a sample is not one relayed change: {other:?}")),
        };
        let message: Message<'_> = serde_json::from_str(message.body())
            .map_err(|err| format!("the relay's message is not a message: {err}"))?;
        Ok(Template {
            source,
            event_type: message.event_type.into_owned(),
            entity: message.entity,
            action: message.action,
            sample,
            entity_id: message.entity_id.into_owned(),
        })
    }

    /// A new id for the changed unit, shaped like the sample's.
    pub fn new_entity_id(&self, random: &[u8]) -> String {
        shaped_like(&self.entity_id, random)
    }

    /// A new event of this type with these ids, and `create_time_ms` as a string, as both
    /// platforms send it. `entity_id` replaces the sample's wherever it appears.
    pub fn event(&self, event_id: &str, entity_id: &str, create_time_ms: u128) -> Value {
        let mut event = self.sample.clone();
        let mut header = event["header"].take();
        replace_string(&mut event, &self.entity_id, entity_id);
        header["event_id"] = json!(event_id);
        header["create_time"] = json!(create_time_ms.to_string());
        event["header"] = header;
        event
    }
}

/// A new event id in the platform's format: Feishu's 32 hex digits, or Feilian's UUID v4.
pub fn new_event_id(source: Source, random: [u8; 16]) -> String {
    match source {
        Source::Feilian => uuid::Builder::from_random_bytes(random)
            .into_uuid()
            .to_string(),
        _ => hex::encode(random),
    }
}

/// `sample`'s prefix up to its first `-` or `_`, then each later digit or letter replaced by a
/// random one of its kind. Takes one byte of `random` per character.
fn shaped_like(sample: &str, random: &[u8]) -> String {
    let prefix = sample.find(['-', '_']).map_or(0, |at| at + 1);
    let (prefix, rest) = sample.split_at(prefix);
    let fresh = rest.chars().zip(random.iter().chain(std::iter::repeat(&0)));
    let fresh = fresh.enumerate().map(|(at, (kind, &byte))| match kind {
        // No leading zero: the ids that are all digits are large numbers.
        '0'..='9' if at == 0 => char::from(b'1' + byte % 9),
        '0'..='9' => char::from(b'0' + byte % 10),
        'a'..='z' => char::from(b'a' + byte % 26),
        'A'..='Z' => char::from(b'A' + byte % 26),
        other => other,
    });
    prefix.chars().chain(fresh).collect()
}

/// Replaces every string equal to `from` in `value` by `to`.
fn replace_string(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::String(text) if text == from => *text = to.to_owned(),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| replace_string(item, from, to)),
        Value::Object(object) => object
            .values_mut()
            .for_each(|item| replace_string(item, from, to)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The event types the relay relays for `source`, with the change each reports.
    pub fn relayed(source: Source) -> &'static [(&'static str, Entity, Action)] {
        org_change_core::event_types(source)
    }

    fn templates() -> Vec<Template> {
        Template::all().expect("every sample is relayed")
    }

    #[test]
    fn every_relayed_type_has_a_template_and_every_template_is_relayed() {
        let templates = templates();
        for source in Source::ALL {
            let relayed: BTreeSet<_> = relayed(source).iter().map(|(t, ..)| *t).collect();
            let triggered: BTreeSet<_> = templates
                .iter()
                .filter(|template| template.source == source)
                .map(|template| template.event_type.as_str())
                .collect();
            assert_eq!(triggered, relayed, "{}", source.as_str());
        }
    }

    #[test]
    fn every_sample_in_events_is_a_template() {
        let templates = templates();
        for source in Source::ALL {
            let folder = format!(
                "{}/../../events/{}",
                env!("CARGO_MANIFEST_DIR"),
                source.as_str()
            );
            let files: BTreeSet<String> = std::fs::read_dir(&folder)
                .expect("the samples folder")
                .map(|entry| entry.expect("a folder entry").file_name())
                .filter_map(|name| name.to_str()?.strip_suffix(".json").map(String::from))
                .collect();
            let triggered: BTreeSet<String> = templates
                .iter()
                .filter(|template| template.source == source)
                .map(|template| template.event_type.clone())
                .collect();
            assert_eq!(triggered, files, "{folder}");
        }
    }

    /// What the relay makes of `event`, sent in plaintext with the sample token.
    fn relay(source: Source, event: &Value) -> Vec<Value> {
        let endpoint = Endpoint::new(source, VerificationToken::new(SAMPLE_TOKEN), None);
        let body = event.to_string();
        let inbound = Inbound {
            body: body.as_bytes(),
            signature: None,
        };
        match receive(&endpoint, inbound, std::time::SystemTime::now()) {
            Ok(Delivery::Changes(batch)) => batch
                .messages()
                .iter()
                .map(|message| serde_json::from_str(message.body()).unwrap())
                .collect(),
            other => panic!("not relayed: {other:?}"),
        }
    }

    #[test]
    fn a_fresh_event_becomes_one_message_with_the_new_ids_and_time() {
        for template in templates() {
            let event_id = new_event_id(template.source, [0xab; 16]);
            let event = template.event(&event_id, "unit-42", 1_700_000_000_123);
            let messages = relay(template.source, &event);
            assert_eq!(messages.len(), 1, "{}", template.event_type);
            let message = &messages[0];
            let id = match template.source {
                Source::Feilian => format!("feilian:{event_id}:0"),
                _ => format!("feishu:{event_id}"),
            };
            assert_eq!(message["id"], json!(id));
            assert_eq!(message["event_id"], json!(event_id));
            assert_eq!(message["event_type"], json!(template.event_type));
            assert_eq!(message["entity_id"], json!("unit-42"));
            assert_eq!(message["occurred_at"], json!("2023-11-14T22:13:20.123Z"));
            // The sample's id is gone from the whole body (contact v3 and Feilian
            // deletions carry it in both snapshots).
            assert!(
                !event.to_string().contains(&template.entity_id),
                "{}: {event}",
                template.event_type
            );
        }
    }

    #[test]
    fn event_ids_have_the_platforms_formats() {
        let random = [
            0x5e, 0x37, 0x02, 0xa8, 0x4e, 0x84, 0x75, 0x82, 0xbe, 0x8d, 0xb7, 0xfb, 0x73, 0x28,
            0x3c, 0x02,
        ];
        assert_eq!(
            new_event_id(Source::Feishu, random),
            "5e3702a84e847582be8db7fb73283c02"
        );
        assert_eq!(
            new_event_id(Source::Feilian, random),
            "5e3702a8-4e84-4582-be8d-b7fb73283c02"
        );
    }

    #[test]
    fn fresh_entity_ids_keep_the_samples_prefix_length_and_kinds_of_characters() {
        let random: Vec<u8> = (0..64u8)
            .map(|n| n.wrapping_mul(37).wrapping_add(11))
            .collect();
        let kinds = |id: &str| -> String {
            id.chars()
                .map(|c| match c {
                    '0'..='9' => '9',
                    'a'..='z' => 'a',
                    'A'..='Z' => 'A',
                    other => other,
                })
                .collect()
        };
        for (sample, prefix) in [
            ("7043711774159341101", ""),
            ("od-64242a18099d3a31acd24d8fce8dxxxx", "od-"),
            ("od_Ab12Cd34xxxx", "od_"),
        ] {
            let fresh = shaped_like(sample, &random);
            assert_ne!(fresh, sample);
            assert!(fresh.starts_with(prefix), "{fresh}");
            assert_eq!(
                kinds(&fresh[prefix.len()..]),
                kinds(&sample[prefix.len()..])
            );
        }
        assert!(shaped_like("7043711774159341101", &[0; 19]).starts_with('1'));
    }
}
