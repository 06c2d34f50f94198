//! A small XML well-formedness checker for the SVG figures (no XML crate needed).

/// A small well-formedness check of XML: every tag closes in order, one root element,
/// attributes quoted, no stray `<` or `&` in text, entities known.
pub(crate) fn well_formed(xml: &str) {
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut rest = xml.trim();
    while !rest.is_empty() {
        let Some(open) = rest.find('<') else {
            check_text(rest);
            break;
        };
        check_text(&rest[..open]);
        if !rest[..open].trim().is_empty() {
            assert!(
                !stack.is_empty(),
                "text outside the root: {:?}",
                &rest[..open]
            );
        }
        let close = open + rest[open..].find('>').expect("unclosed tag");
        let tag = &rest[open + 1..close];
        assert!(!tag.contains('<'), "`<` inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name.trim()), "mismatched </{name}>");
        } else {
            let empty = tag.ends_with('/');
            let body = tag.trim_end_matches('/');
            let name = body.split_whitespace().next().expect("tag name");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':'),
                "{name}"
            );
            check_attributes(&body[name.len()..]);
            if stack.is_empty() {
                roots += 1;
            }
            if !empty {
                stack.push(name);
            }
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    assert_eq!(roots, 1);
}

fn check_attributes(mut a: &str) {
    loop {
        a = a.trim_start();
        if a.is_empty() {
            return;
        }
        let eq = a
            .find('=')
            .unwrap_or_else(|| panic!("attribute without value: {a}"));
        let name = a[..eq].trim();
        assert!(
            !name.is_empty() && !name.contains(char::is_whitespace),
            "{a}"
        );
        let v = &a[eq + 1..];
        let q = v.chars().next().expect("value");
        assert!(q == '"' || q == '\'', "unquoted value: {a}");
        let end = 1 + v[1..].find(q).expect("unterminated value");
        check_text(&v[1..end]);
        a = &v[end + 1..];
    }
}

fn check_text(t: &str) {
    assert!(!t.contains('<'), "{t}");
    for (i, _) in t.match_indices('&') {
        let ent = &t[i..i + t[i..].find(';').expect("entity")];
        assert!(
            ["&amp", "&lt", "&gt", "&quot", "&apos"].contains(&ent) || ent.starts_with("&#"),
            "{ent}"
        );
    }
}
