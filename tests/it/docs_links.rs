//! No dead links in the documentation: every relative link in README.md and docs/*.md, and every
//! `docs/*.md` path named in a doc comment under `*/src`, points at an existing file, and every
//! `#anchor` at a heading of its target (GitHub's slugs).

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The repository root (the root package's directory).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The lines of `md` outside fenced code blocks, with their 1-based numbers.
fn prose(md: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut out = Vec::new();
    for (i, line) in md.lines().enumerate() {
        let t = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| t.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(f), Some(m)) if f == m => fence = None,
            (None, None) => out.push((i + 1, line)),
            _ => {}
        }
    }
    out
}

/// `line` without its inline code spans (text between backticks).
fn without_code(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// GitHub's anchor of a heading: link text kept, lowercase, letters, digits, `-` and `_` kept,
/// spaces turned into `-`, everything else dropped.
fn slug(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    // `[text](target)` renders as `text`.
    while let Some(open) = rest.find('[') {
        let Some(mid) = rest[open..].find("](").map(|m| open + m) else {
            break;
        };
        let Some(close) = rest[mid..].find(')').map(|c| mid + c) else {
            break;
        };
        text.push_str(&rest[..open]);
        text.push_str(&rest[open + 1..mid]);
        rest = &rest[close + 1..];
    }
    text.push_str(rest);
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a markdown text: its headings' slugs, repeats numbered `-1`, `-2`, ...
fn anchors(md: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    for (_, line) in prose(md) {
        let hashes = line.len() - line.trim_start_matches('#').len();
        if !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = slug(line[hashes..].trim().trim_end_matches('#'));
        let mut name = base.clone();
        let mut n = 0;
        while !seen.insert(name.clone()) {
            n += 1;
            name = format!("{base}-{n}");
        }
    }
    seen
}

/// The link targets of a markdown text with their line numbers: inline links and images
/// (`[text](target)`) and reference definitions (`[id]: target`), outside code.
fn links(md: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in prose(md) {
        let line = without_code(line);
        let t = line.trim_start();
        if t.starts_with('[')
            && let Some(end) = t.find("]:")
        {
            let target = t[end + 2..].split_whitespace().next().unwrap_or("");
            out.push((n, target.trim_matches(['<', '>']).to_owned()));
            continue;
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or("");
            out.push((n, target.trim_matches(['<', '>']).to_owned()));
            rest = &after[end..];
        }
    }
    out
}

/// Whether `anchor` names a heading of the markdown file `path`; files of other kinds (and
/// directories) accept any anchor.
fn has_anchor(path: &Path, anchor: &str) -> bool {
    if path.extension().is_none_or(|e| e != "md") {
        return true;
    }
    fs::read_to_string(path).is_ok_and(|md| anchors(&md).contains(anchor))
}

/// Whether the relative link `target` (`path#anchor`, `path` or `#anchor`) from a file in `dir`
/// whose own text is `md` resolves. Absolute URLs are not checked.
fn resolves(dir: &Path, md: &str, target: &str) -> bool {
    if target.contains("://") || target.starts_with("mailto:") {
        return true;
    }
    let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
    if path.is_empty() {
        return anchors(md).contains(anchor);
    }
    let file = dir.join(path);
    file.exists() && (anchor.is_empty() || has_anchor(&file, anchor))
}

/// The dead links of the markdown text `md` of `file`, as `file:line: target`.
fn dead_links(file: &Path, md: &str) -> Vec<String> {
    let dir = file.parent().unwrap_or(Path::new("."));
    links(md)
        .into_iter()
        .filter(|(_, target)| target.is_empty() || !resolves(dir, md, target))
        .map(|(n, target)| format!("{}:{n}: dead link `{target}`", file.display()))
        .collect()
}

/// The `docs/*.md` paths (with any `#anchor`) that the doc comments (`///`, `//!`) of a Rust
/// source name, with their line numbers.
fn doc_comment_paths(source: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let t = line.trim_start();
        if !(t.starts_with("///") || t.starts_with("//!")) {
            continue;
        }
        let mut rest = t;
        while let Some(at) = rest.find("docs/") {
            let tail = &rest[at..];
            let len = tail
                .find(|c: char| !(c.is_alphanumeric() || "/-_.#".contains(c)))
                .unwrap_or(tail.len());
            let path = tail[..len].trim_end_matches('.');
            let (file, _) = path.split_once('#').unwrap_or((path, ""));
            if file.ends_with(".md") {
                out.push((i + 1, path.to_owned()));
            }
            rest = &tail[len..];
        }
    }
    out
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn readme_and_docs_have_no_dead_links() {
    let root = root();
    let mut files = vec![root.join("README.md")];
    let mut pages: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    assert!(pages.len() >= 10, "docs/ holds {} pages", pages.len());
    files.extend(pages);
    let mut dead = Vec::new();
    let mut checked = 0;
    for file in &files {
        let md = fs::read_to_string(file).unwrap();
        checked += links(&md).len();
        dead.extend(dead_links(file, &md));
    }
    assert!(checked > 20, "only {checked} links found");
    assert!(dead.is_empty(), "{}", dead.join("\n"));
}

#[test]
fn every_docs_page_is_linked_from_the_readme() {
    let root = root();
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    let linked: HashSet<String> = links(&readme).into_iter().map(|(_, t)| t).collect();
    for entry in fs::read_dir(root.join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let target = format!("docs/{name}");
        assert!(linked.contains(&target), "README.md does not link {target}");
    }
}

#[test]
fn docs_paths_in_doc_comments_exist() {
    let root = root();
    let mut sources = Vec::new();
    for entry in fs::read_dir(&root).unwrap().map(Result::unwrap) {
        let src = if entry.file_name() == "src" {
            entry.path()
        } else {
            entry.path().join("src")
        };
        if src.is_dir() {
            rust_files(&src, &mut sources);
        }
    }
    assert!(sources.len() > 20, "only {} sources found", sources.len());
    let mut named = 0;
    let mut dead = Vec::new();
    for file in &sources {
        let text = fs::read_to_string(file).unwrap();
        for (n, path) in doc_comment_paths(&text) {
            named += 1;
            let (page, anchor) = path.split_once('#').unwrap_or((&path, ""));
            let page = root.join(page);
            if !page.exists() || !(anchor.is_empty() || has_anchor(&page, anchor)) {
                dead.push(format!("{}:{n}: dead path `{path}`", file.display()));
            }
        }
    }
    assert!(named >= 2, "only {named} docs paths found in doc comments");
    assert!(dead.is_empty(), "{}", dead.join("\n"));
}

#[test]
fn the_check_finds_dead_links_in_a_small_text() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("b.md"),
        "# Real heading\n\n## Again\n## Again\n",
    )
    .unwrap();
    let md = "# Top: the `one`\n\
              [ok](b.md) [gone](missing.md) [h](b.md#real-heading) [bad](b.md#no-such)\n\
              [twice](b.md#again-1) [self](#top-the-one) [nope](#nope) [web](https://x.invalid/y)\n\
              `[code](in-code.md)`\n\
              ```text\n[fenced](in-fence.md)\n```\n\
              [ref]: gone-too.md\n";
    let dead = dead_links(&tmp.path().join("a.md"), md);
    let targets: Vec<&str> = dead.iter().map(|d| d.split('`').nth(1).unwrap()).collect();
    assert_eq!(
        targets,
        ["missing.md", "b.md#no-such", "#nope", "gone-too.md"],
        "{dead:?}"
    );
    assert!(
        dead[0].ends_with("a.md:2: dead link `missing.md`"),
        "{}",
        dead[0]
    );
}

#[test]
fn doc_comment_paths_are_found() {
    let source = "//! See docs/run-database.md.\n/// and `docs/tams.md#costs`\n// docs/plain.md\n";
    assert_eq!(
        doc_comment_paths(source),
        [
            (1, "docs/run-database.md".to_owned()),
            (2, "docs/tams.md#costs".to_owned())
        ]
    );
}

#[test]
fn slugs_follow_github() {
    assert_eq!(
        slug("Driving a solver: the `Revolver`"),
        "driving-a-solver-the-revolver"
    );
    assert_eq!(
        slug("MPI adjoint (feature `mpi`)"),
        "mpi-adjoint-feature-mpi"
    );
    assert_eq!(slug("Schema (format version 3)"), "schema-format-version-3");
    assert_eq!(slug("[Linked](x.md) heading_1"), "linked-heading_1");
    assert_eq!(
        slug("Planning a run: `retrace plan`"),
        "planning-a-run-retrace-plan"
    );
}
