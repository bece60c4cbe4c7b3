//! The layout shows the architecture: imports inside vap-core go one way, in
//! DESIGN.md's order. This test reads every `crate::` path in the library's
//! code (comments and `#[cfg(test)]` modules left out) and fails when a module
//! uses one above it.
//!
//! Order (a module may use its own level and those below):
//! base utilities (error, text, threads, options, ids, seed, job) → schema →
//! table → io (ingest) → store → align → detect → attribute → replay → report.
//! Beside them: `media` uses only the base, schema and store; `sim` only the
//! base and schema; `live` sits on top and nothing uses it; `fuzzing` (feature
//! `testing`) may use anything and nothing uses it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

const BASE: &[&str] = &["error", "text", "threads", "options", "ids", "seed", "job"];
const ORDER: &[&str] = &[
    "schema",
    "table",
    "io",
    "ingest",
    "store",
    "align",
    "detect",
    "attribute",
    "replay",
    "report",
];

/// The modules `from` may use, or `None` for "anything" (the crate root).
fn allowed(from: &str) -> Option<BTreeSet<&'static str>> {
    let mut ok: BTreeSet<&'static str> = BASE.iter().copied().collect();
    match from {
        // `cli`, like `live`, sits on top: it may use any module and
        // nothing imports it.
        // `plan` is a facade: it re-exports the run-sheet's types (schema),
        // their reading (ingest) and the comparison (replay); nothing uses it.
        "lib" | "live" | "cli" | "plan" | "fuzzing" | "bin" => return None,
        "media" => ok.extend(["schema", "store", "media"]),
        // `media` is a leaf beside the order, used by replay and report for
        // clips and stills.
        "replay" | "report" => {
            let level = ORDER.iter().position(|x| *x == from)?;
            ok.extend(ORDER[..=level].iter().copied());
            ok.insert("media");
        }
        "sim" => ok.extend(["schema", "sim"]),
        m if BASE.contains(&m) => {
            // Base utilities use each other and the schema's plain types
            // (`Ms`), nothing else.
            ok.insert("schema");
        }
        m => {
            let level = ORDER.iter().position(|x| *x == m)?;
            ok.extend(ORDER[..=level].iter().copied());
        }
    }
    Some(ok)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module a file belongs to: `src/align/build.rs` → `align`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The library code of a file: comments dropped, and everything from a
/// `#[cfg(test)]` module on.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]")
            && lines
                .peek()
                .is_some_and(|n| n.trim_start().starts_with("mod tests"))
        {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(line.split(" // ").next().unwrap_or(""));
        out.push('\n');
    }
    out
}

/// Every module named by a `crate::` path in `code`, with `use crate::{a, b}`
/// groups expanded.
fn used_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if rest[..i].ends_with('$') {
            // `$crate::` in a macro of the module itself.
            rest = after;
            continue;
        }
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
        rest = &rest[i + "crate::".len()..];
    }
    out
}

/// Names defined at the crate root (re-exports of schema types, the error
/// type, `Result`, ...): a `crate::SessionData` path means the schema.
fn root_item_module(name: &str) -> Option<&'static str> {
    match name {
        "Result" | "VapError" | "ErrorKind" | "Problem" => Some("error"),
        "Store" => Some("store"),
        n if n.chars().next().is_some_and(|c| c.is_uppercase()) || n == "Ms" => Some("schema"),
        _ => None,
    }
}

fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    for f in &files {
        let from = module_of(src, f);
        let Some(ok) = allowed(&from) else { continue };
        let code = code_of(&fs::read_to_string(f).unwrap());
        for used in used_modules(&code) {
            let target = root_item_module(&used).map(str::to_string).unwrap_or(used);
            if target == from || ok.contains(target.as_str()) {
                continue;
            }
            bad.push(format!(
                "{} ({from}) uses crate::{target}",
                f.strip_prefix(src).unwrap().display()
            ));
        }
    }
    bad
}

#[test]
fn imports_follow_the_design_order() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    assert_eq!(violations(&src), Vec::<String>::new());
}

#[test]
fn nothing_imports_the_test_hooks() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for f in files {
        if module_of(&src, &f) == "fuzzing" {
            continue;
        }
        let code = code_of(&fs::read_to_string(&f).unwrap());
        assert!(
            !used_modules(&code).contains("fuzzing"),
            "{} uses the fuzzing hooks",
            f.display()
        );
    }
}

#[test]
fn the_checker_sees_a_backward_import() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    fs::create_dir_all(src.join("schema")).unwrap();
    fs::write(
        src.join("schema/mod.rs"),
        "//! uses crate::attribute in a comment only\nuse crate::error::Result;\nuse crate::{attribute::fit, text};\n#[cfg(test)]\nmod tests {\n    use crate::store::Store;\n}\n",
    )
    .unwrap();
    fs::write(
        src.join("sim.rs"),
        "fn f() { crate::store::check_id(\"x\"); }\n",
    )
    .unwrap();
    fs::write(
        src.join("media.rs"),
        "use crate::align::Timeline;\nuse crate::SessionData;\n",
    )
    .unwrap();
    let v = violations(src);
    assert_eq!(
        v,
        vec![
            "media.rs (media) uses crate::align".to_string(),
            "schema/mod.rs (schema) uses crate::attribute".to_string(),
            "sim.rs (sim) uses crate::store".to_string(),
        ]
    );
}

/// The file of module `name` under `dir`: `name.rs` or `name/mod.rs`.
fn module_file(dir: &Path, name: &str) -> Option<PathBuf> {
    [
        dir.join(format!("{name}.rs")),
        dir.join(name).join("mod.rs"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// Public modules declared in `file` (`pub mod x;`, hidden ones left out),
/// with the directory their files live in.
fn public_modules(file: &Path) -> Vec<(String, PathBuf)> {
    let text = fs::read_to_string(file).unwrap();
    let dir = if file.ends_with("mod.rs") || file.ends_with("lib.rs") {
        file.parent().unwrap().to_path_buf()
    } else {
        file.with_extension("")
    };
    let mut out = Vec::new();
    let mut hidden = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("#[doc(hidden)]") {
            hidden = true;
            continue;
        }
        if let Some(rest) = t.strip_prefix("pub mod ") {
            if let Some(name) = rest.strip_suffix(';') {
                if !hidden {
                    out.push((name.to_string(), dir.clone()));
                }
            }
        }
        if !t.starts_with("#[") {
            hidden = false;
        }
    }
    out
}

/// Whether the `//!` docs at the top of `file` hold a code block that rustdoc
/// runs (not ```text, ```ignore or ```no_run).
fn opens_with_runnable_example(file: &Path) -> bool {
    let text = fs::read_to_string(file).unwrap();
    let fences = text
        .lines()
        .take_while(|l| l.starts_with("//!") || l.trim().is_empty() || l.starts_with("#!"))
        .filter_map(|l| l.trim_start_matches("//!").trim().strip_prefix("```"));
    // Fences alternate: an opening one (with its info string), a closing one.
    fences.step_by(2).any(|info| {
        let info = info.trim();
        info.is_empty()
            || info == "rust"
            || (info.starts_with("rust,") && !info.contains("ignore") && !info.contains("no_run"))
    })
}

#[test]
fn every_public_module_opens_with_a_runnable_example() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    let mut seen = 0;
    let mut todo = public_modules(&src.join("lib.rs"));
    while let Some((name, dir)) = todo.pop() {
        let file = module_file(&dir, &name).unwrap_or_else(|| panic!("no file for module {name}"));
        seen += 1;
        if !opens_with_runnable_example(&file) {
            missing.push(file.strip_prefix(&src).unwrap().display().to_string());
        }
        todo.extend(public_modules(&file));
    }
    assert!(seen >= 12, "only {seen} public modules found");
    assert_eq!(missing, Vec::<String>::new());
}
