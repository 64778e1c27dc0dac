//! docs/triage-rules.md holds the permission matrix as a markdown table.
//! This test parses it and compares it with `permissions::can`, cell by cell,
//! both ways: every (role, action) row appears exactly once, every category
//! column is present, and every cell agrees with the code.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::type_complexity)]

use std::collections::BTreeMap;

use sealbox_model::category::Category;
use sealbox_model::permissions::{can, Action};
use sealbox_model::role::Role;

fn doc() -> String {
    // Read where cargo runs the test from, not a path baked in at build
    // time: a shared target dir may hold a binary built in another checkout.
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
    let path = std::path::Path::new(&dir).join("../../docs/triage-rules.md");
    std::fs::read_to_string(path).expect("docs/triage-rules.md is readable")
}

fn cells(line: &str) -> Vec<String> {
    line.trim().trim_matches('|').split('|').map(|c| c.trim().to_string()).collect()
}

/// (role key, action key) -> category key -> allowed.
fn parse_matrix(doc: &str) -> (Vec<String>, BTreeMap<(String, String), BTreeMap<String, bool>>) {
    let start = doc.find("<!-- permissions-matrix:start -->").expect("start marker");
    let end = doc.find("<!-- permissions-matrix:end -->").expect("end marker");
    let table: Vec<&str> = doc[start..end].lines().filter(|l| l.trim_start().starts_with('|')).collect();
    let header = cells(table[0]);
    assert_eq!(&header[..2], &["role".to_string(), "action".to_string()]);
    let columns: Vec<String> = header[2..].to_vec();
    let mut rows = BTreeMap::new();
    for line in &table[2..] {
        let c = cells(line);
        assert_eq!(c.len(), header.len(), "row has wrong number of cells: {line}");
        let mut row = BTreeMap::new();
        for (col, v) in columns.iter().zip(&c[2..]) {
            let allowed = match v.as_str() {
                "yes" => true,
                "no" => false,
                other => panic!("cell must be yes or no, got {other:?} in {line}"),
            };
            row.insert(col.clone(), allowed);
        }
        let key = (c[0].clone(), c[1].clone());
        assert!(rows.insert(key.clone(), row).is_none(), "duplicate row {key:?}");
    }
    (columns, rows)
}

#[test]
fn documented_matrix_equals_code_cell_by_cell() {
    let (columns, rows) = parse_matrix(&doc());
    let expected_columns: Vec<String> = Category::ALL.iter().map(|c| c.key().to_string()).collect();
    assert_eq!(columns, expected_columns, "category columns differ");
    // Code -> doc: every cell the code knows is in the doc with the same value.
    let mut checked = 0;
    for role in Role::ALL {
        for action in Action::ALL {
            let row = rows
                .get(&(role.key().to_string(), action.key().to_string()))
                .unwrap_or_else(|| panic!("doc lacks row {role} / {action}"));
            for category in Category::ALL {
                let documented = row[category.key()];
                assert_eq!(documented, can(role, action, category), "{role} / {action} / {category}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, Role::ALL.len() * Action::ALL.len() * Category::ALL.len());
    // Doc -> code: no row names a role or action the code does not have.
    assert_eq!(rows.len(), Role::ALL.len() * Action::ALL.len(), "doc has extra rows");
    for (role, action) in rows.keys() {
        assert!(Role::ALL.iter().any(|r| r.key() == role), "unknown role {role}");
        assert!(Action::ALL.iter().any(|a| a.key() == action), "unknown action {action}");
    }
}

#[test]
fn the_parser_notices_a_wrong_cell() {
    let doc = doc();
    // Flip the pharmacist's read_attachment on repeat prescriptions to "yes".
    let row = "| pharmacist | read_attachment | no |";
    assert!(doc.contains(row));
    let tampered = doc.replacen(row, "| pharmacist | read_attachment | yes |", 1);
    let (_, rows) = parse_matrix(&tampered);
    let cell = rows[&("pharmacist".to_string(), "read_attachment".to_string())]["repeat_prescription"];
    assert_ne!(cell, can(Role::Pharmacist, Action::ReadAttachment, Category::RepeatPrescription));
}

#[test]
fn documented_transitions_equal_code() {
    use sealbox_model::thread_state::{documented_next, ActionKind, StateKind, TRANSITIONS};
    let doc = doc();
    for (from, action, to) in TRANSITIONS {
        // Every legal move is documented in section 4 (from may be grouped with others).
        assert!(doc.contains(&format!("| {action} | ")), "action {action} not documented");
        assert_eq!(documented_next(*from, *action), Some(*to));
    }
    // And every (state, action) pair not listed is rejected by the table.
    let listed = StateKind::ALL.iter().flat_map(|s| ActionKind::ALL.iter().map(move |a| (*s, *a)));
    let legal = listed.filter(|(s, a)| documented_next(*s, *a).is_some()).count();
    assert_eq!(legal, TRANSITIONS.len());
}
