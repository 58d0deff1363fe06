use super::*;

fn raw(json: &str) -> Box<RawValue> {
    RawValue::from_string(json.to_owned()).unwrap()
}

/// The ids a contact v3 `old_object` carries only when it is full.
const CONTACT: OldObject = OldObject::PartialUnlessItHas(&["open_department_id", "department_id"]);

/// The changed keys of a partial `old_object` (without the ids).
fn changed(before: &str, after: &str) -> Vec<String> {
    changed_by(CONTACT, before, after)
}

fn changed_by(old_object: OldObject, before: &str, after: &str) -> Vec<String> {
    let (before, after) = (raw(before), raw(after));
    changed_keys(&before, &after, old_object)
        .into_iter()
        .map(Cow::into_owned)
        .collect()
}

#[test]
fn values_deeper_than_serde_json_reads_are_compared_as_text() {
    let nested =
        |depth: usize, leaf: &str| format!("{}{leaf}{}", "[".repeat(depth), "]".repeat(depth));
    // serde_json reads 128 levels; past that a value is compared by its text.
    for depth in [127, 128, 129, 10_000] {
        let deep = nested(depth, r#"{"a":"]\"}"}"#);
        let other = nested(depth, r#"{"a":"]\"!"}"#);
        let before = format!(r#"{{"id":"x","deep":{deep},"same":{deep}}}"#);
        let after = format!(r#"{{"id":"y","deep":{other},"same":{deep}}}"#);
        assert_eq!(changed(&before, &after), ["deep", "id"], "depth {depth}");
    }
    let before = format!(r#"{{"n":{},"t":1}}"#, nested(200, "12.5e3"));
    let after = format!(r#"{{"n":{},"t":2}}"#, nested(200, "12.5e3"));
    assert_eq!(changed(&before, &after), ["t"]);
}

#[test]
fn a_string_member_is_read_whatever_else_the_object_holds() {
    let member = |object: &str| {
        string_member(&raw(object), "open_id").map(|text| text.map(|t| t.0.into_owned()))
    };
    for (object, expected) in [
        (r#"{"open_id":"od_1"}"#, Ok(Some("od_1"))),
        (
            r#"{"name":"n","open_id":"od_1","x":[1,{"y":null}]}"#,
            Ok(Some("od_1")),
        ),
        // A lone surrogate in another key or value, or in the id itself.
        (
            r#"{"\ud83d":"x","open_id":"od_1","n":"\udc00"}"#,
            Ok(Some("od_1")),
        ),
        (r#"{"open_id":"od_\ud83d"}"#, Ok(Some(r"od_\ud83d"))),
        // The key is compared decoded.
        (r#"{"open\u005fid":"od_1"}"#, Ok(Some("od_1"))),
        (r#"{"name":"n"}"#, Ok(None)),
        (r#"{"open_id":null}"#, Ok(None)),
        (r#"{"open_ids":"od_1","open_i":"x"}"#, Ok(None)),
        (r#"{"open_id":7}"#, Err(NotOneString)),
        (r#"{"open_id":["od_1"]}"#, Err(NotOneString)),
        (r#"{"open_id":"a","open_id":"b"}"#, Err(NotOneString)),
        (r#"{"open_id":null,"open_id":"b"}"#, Err(NotOneString)),
        (r#"["open_id","od_1"]"#, Err(NotOneString)),
    ] {
        assert_eq!(
            member(object),
            expected.map(|id| id.map(str::to_owned)),
            "{object}"
        );
    }
}

#[test]
fn lists_the_keys_of_before_that_differ_or_are_gone_sorted_not_keys_only_in_after() {
    assert_eq!(
        changed(
            r#"{"name":"A","seq":0,"parent_id":"p1","gone":1}"#,
            r#"{"seq":0,"name":"B","parent_id":"p2","new":true}"#
        ),
        ["gone", "name", "parent_id"]
    );
}

#[test]
fn a_full_old_object_lists_a_field_set_for_the_first_time() {
    // Feilian omits a field without a value: `update_time` appears, `name` changes.
    assert_eq!(
        changed_by(
            OldObject::Full,
            r#"{"open_id":"od_1","name":"A","seq":1}"#,
            r#"{"open_id":"od_1","name":"B","seq":1,"update_time":1740385174}"#
        ),
        ["name", "update_time"]
    );
    // A contact v3 old_object with the department's own id is full: a first chat.
    let before = r#"{"open_department_id":"od-1","name":"Platform"}"#;
    let after = r#"{"open_department_id":"od-1","name":"Platform","chat_id":"oc_1"}"#;
    assert_eq!(changed(before, after), ["chat_id"]);
    let before = r#"{"department_id":"D1","name":"Platform"}"#;
    let after = r#"{"department_id":"D1","name":"Platform","chat_id":"oc_1"}"#;
    assert_eq!(changed(before, after), ["chat_id"]);
    // The id's key is compared decoded, like every key.
    let before = r#"{"open\u005fdepartment_id":"od-1"}"#;
    assert_eq!(
        changed(before, r#"{"open_department_id":"od-1","x":1}"#),
        ["x"]
    );
}

#[test]
fn a_partial_old_object_lists_only_its_own_changed_keys() {
    // contact.department.updated_v3: `old_object` holds only the previous values.
    let after = r#"{"name":"Platform Engineering","open_department_id":"od-1","order":"100","status":{"is_deleted":false}}"#;
    assert_eq!(changed(r#"{"name":"Platform"}"#, after), ["name"]);
    // A key whose previous value equals the current one did not change.
    assert_eq!(
        changed(r#"{"name":"Platform","order":"100"}"#, after),
        ["name"]
    );
    assert!(changed("{}", after).is_empty());
}

#[test]
fn compares_values_not_spelling() {
    assert!(
        changed(
            r#"{"a": {"x": 1, "y": [1, 2]}, "b": "A", "c": "😀", "d": 1.0, "e": "\/"}"#,
            r#"{"a":{"y":[1,2],"x":1},"b":"\u0041","c":"\ud83d\ude00","d":1.00,"e":"/"}"#
        )
        .is_empty()
    );
    // As serde_json::Number compares: an integer is not a float.
    assert_eq!(changed(r#"{"n": 1}"#, r#"{"n": 1.0}"#), ["n"]);
    assert!(changed(r#"{"n": 1e2}"#, r#"{"n": 100.0}"#).is_empty());
    assert_eq!(changed(r#"{"n": 1e400}"#, r#"{"n": 1e401}"#), ["n"]);
    assert!(changed(r#"{"n": 1e400}"#, r#"{"n": 1e400}"#).is_empty());
    // Integers beyond 64 bits, which an f64 cannot tell apart.
    let (big, next) = ("18446744073709551616", "18446744073709551617");
    assert_eq!(
        changed(
            &format!(r#"{{"n": {big}}}"#),
            &format!(r#"{{"n": {next}}}"#)
        ),
        ["n"]
    );
    assert_eq!(
        changed(
            r#"{"n": -9223372036854775809}"#,
            r#"{"n": -9223372036854775810}"#
        ),
        ["n"]
    );
    assert!(changed(&format!(r#"{{"n": {big}}}"#), &format!(r#"{{"n":{big}}}"#)).is_empty());
    assert_eq!(
        changed(
            &format!(r#"{{"n": {big}}}"#),
            r#"{"n": 18446744073709551616.0}"#
        ),
        ["n"]
    );
    // The largest integers serde_json holds exactly are still compared by value.
    assert_eq!(
        changed(
            r#"{"n": 18446744073709551615}"#,
            r#"{"n": 18446744073709551614}"#
        ),
        ["n"]
    );
    assert!(
        changed(
            r#"{"n": -9223372036854775808}"#,
            r#"{"n":-9223372036854775808}"#
        )
        .is_empty()
    );
    // Of duplicate keys the last counts.
    assert!(changed(r#"{"k": 1, "k": 2}"#, r#"{"k": 2}"#).is_empty());
    // null is a value: a key holding null is not an absent key.
    assert_eq!(changed(r#"{"k": null}"#, r#"{}"#), ["k"]);
    assert!(changed(r#"{"k": null}"#, r#"{"k": null}"#).is_empty());
}

#[test]
fn a_value_with_a_lone_surrogate_is_compared_by_its_text() {
    let cut = r#"{"name":"Growth \ud83d","seq":1}"#;
    assert!(changed(cut, r#"{"seq":1,"name":"Growth \ud83d"}"#).is_empty());
    // Another spelling of the same code unit: reported, never hidden.
    assert_eq!(
        changed(cut, r#"{"seq":1,"name":"Growth \uD83D"}"#),
        ["name"]
    );
    assert_eq!(changed(cut, r#"{"name":"Growth 😀","seq":1}"#), ["name"]);
    assert_eq!(changed(r#"{"name":"Growth"}"#, cut), ["name"]);
    // A lone high surrogate followed by a character is not a pair.
    assert_eq!(
        changed(r#"{"a":"\ud83dx"}"#, r#"{"a":"\ud83d\u0078 "}"#),
        ["a"]
    );
    // A key with a lone surrogate is listed as its escape.
    assert_eq!(changed(r#"{"k\udc00":1}"#, r#"{}"#), [r"k\udc00"]);
}

#[test]
fn a_snapshot_that_is_not_an_object_has_no_keys() {
    // The platforms refuse one before comparing (the feishu and feilian tests).
    assert!(!is_object(&raw("[1]")) && is_object(&raw("{}")));
    for old_object in [OldObject::Full, CONTACT] {
        assert!(changed_by(old_object, "[1]", "{}").is_empty());
        assert_eq!(changed_by(old_object, r#"{"a":1}"#, r#""x""#), ["a"]);
    }
}

#[test]
fn the_rule_per_action() {
    let before = raw(r#"{"open_id":"od_1","name":"Old","seq":3}"#);
    let after = raw(r#"{"open_id":"od_1","delete_time":1740471574}"#);
    let fields = |action, listed: Option<Vec<Cow<'static, str>>>| {
        changed_fields(action, listed, Some(&before), Some(&after), OldObject::Full)
    };
    assert_eq!(
        fields(Action::Updated, None),
        ["delete_time", "name", "seq"]
    );
    assert!(fields(Action::Created, None).is_empty());
    assert!(fields(Action::Deleted, None).is_empty());
    // A list the platform sends is taken as received, unsorted, for every action.
    let listed = || Some(vec![Cow::Borrowed("seq"), Cow::Borrowed("name")]);
    assert_eq!(fields(Action::Deleted, listed()), ["seq", "name"]);
    assert_eq!(fields(Action::Updated, listed()), ["seq", "name"]);
    // An update with one snapshot only: nothing to compare.
    assert!(changed_fields(Action::Updated, None, None, Some(&after), OldObject::Full).is_empty());
}

#[test]
fn text_keeps_lone_surrogates_as_their_escape() {
    fn text(json: &str) -> Cow<'_, str> {
        serde_json::from_str::<Text<'_>>(json).unwrap().into_cow()
    }
    assert!(matches!(text(r#""od-1""#), Cow::Borrowed("od-1")));
    assert_eq!(text(r#""\u0041\n\"""#), "A\n\"");
    assert_eq!(text(r#""\ud83d\ude00""#), "😀");
    assert_eq!(text(r#""od-\uD83D""#), r"od-\ud83d");
    assert_eq!(text(r#""\ude00\ud83d""#), r"\ude00\ud83d");
    // Inside a struct, as an option, in a list.
    #[derive(serde::Deserialize)]
    struct Body<'a> {
        #[serde(borrow)]
        id: Option<Text<'a>>,
        #[serde(borrow)]
        fields: Vec<Text<'a>>,
    }
    let body: Body =
        serde_json::from_str(r#"{"id": "a\udc00", "fields": ["x", "\ud800"]}"#).unwrap();
    assert_eq!(body.id, Some(Text(Cow::Borrowed(r"a\udc00"))));
    assert_eq!(body.fields[1].0, r"\ud800");
    let null: Body = serde_json::from_str(r#"{"id": null, "fields": []}"#).unwrap();
    assert_eq!(null.id, None);
    assert!(serde_json::from_str::<Body>(r#"{"id": 7, "fields": []}"#).is_err());
    assert!(serde_json::from_str::<Body>(r#"{"id": "x", "fields": [{}]}"#).is_err());
}
