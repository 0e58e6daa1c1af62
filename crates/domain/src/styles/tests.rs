use std::collections::HashMap;

use super::{Library, StyleKey, popular_first, shares};
use crate::{Credits, Gender, Language};

#[test]
fn the_shipped_library_is_valid_and_large_enough() {
    let library = Library::builtin().unwrap();
    assert!(library.categories().len() >= 8);
    for category in library.categories() {
        assert!(category.styles.len() >= 5, "{}", category.key);
    }
    assert!(!library.packs().is_empty());
    for style in library.styles() {
        let prompt = style.prompt("TOK person", Gender::Female);
        assert!(prompt.contains("TOK person"), "{}", style.key);
        assert!(!prompt.contains('{') && !prompt.contains('}'), "{prompt}");
        assert!(!style.name.get(Language::Ru).is_empty());
    }
}

#[test]
fn prompts_fill_trigger_and_person_in_one_pass() {
    let library = Library::builtin().unwrap();
    let style = library.styles().next().unwrap();
    let prompt = style.prompt("{person}", Gender::Male);
    assert!(
        prompt.contains("{person}"),
        "a trigger is inserted as written"
    );
}

#[test]
fn shares_add_up_to_the_price() {
    let parts = shares(Credits::new(20), 6);
    assert_eq!(parts.len(), 6);
    assert_eq!(parts.iter().map(|c| c.get()).sum::<u32>(), 20);
    assert_eq!(parts[0], Credits::new(4));
    assert_eq!(parts[5], Credits::new(3));
    assert!(shares(Credits::new(5), 0).is_empty());
}

#[test]
fn popular_styles_come_first_and_ties_keep_their_order() {
    let key = |k| StyleKey::parse(k).unwrap();
    let mut styles = vec![key("a.one"), key("a.two"), key("a.three")];
    let uses = HashMap::from([(key("a.three"), 5), (key("a.two"), 5)]);
    popular_first(&mut styles, &uses);
    assert_eq!(styles, vec![key("a.two"), key("a.three"), key("a.one")]);
}
