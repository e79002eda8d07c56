//! Each function links the core and its own family alone: no SDK crate of another family is
//! in its dependency tree (cargo features on one crate could not promise this: one
//! `cargo lambda build` unifies them). The CLI links every family. Read from `cargo tree` and
//! `cargo metadata`, so a dependency added anywhere shows here.

use logmend::FAMILIES;
use logmend_integration::repo_root;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

fn cargo(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo).args(args).current_dir(repo_root()).output().expect("cargo runs");
    assert!(out.status.success(), "cargo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The SDK crates (`aws-sdk-*`) in a package's normal and build dependency tree.
fn sdk_crates_in_tree(package: &str) -> BTreeSet<String> {
    let tree = cargo(&["tree", "--locked", "-p", package, "-e", "normal,build", "--prefix", "none", "-f", "{p}"]);
    tree.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| name.starts_with("aws-sdk-"))
        .map(str::to_owned)
        .collect()
}

/// The SDK crates a package depends on directly (its Cargo.toml), from `cargo metadata`.
fn direct_sdk_crates(metadata: &Value, package: &str) -> BTreeSet<String> {
    let p = metadata["packages"].as_array().unwrap().iter().find(|p| p["name"] == package).unwrap();
    p["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"].is_null())
        .filter_map(|d| d["name"].as_str())
        .filter(|n| n.starts_with("aws-sdk-"))
        .map(str::to_owned)
        .collect()
}

/// What a function's tree holds beyond the core's and its family's SDK crates, in words.
fn foreign_sdk_crates(
    function: &str,
    tree: &BTreeSet<String>,
    core: &BTreeSet<String>,
    family: &BTreeSet<String>,
) -> Vec<String> {
    tree.iter()
        .filter(|c| !core.contains(*c) && !family.contains(*c))
        .map(|c| format!("{function} links {c}, an SDK crate of another family"))
        .collect()
}

#[test]
fn every_function_links_only_the_core_and_its_own_family() {
    let metadata: Value =
        serde_json::from_str(&cargo(&["metadata", "--locked", "--format-version", "1", "--no-deps"])).unwrap();
    let core = sdk_crates_in_tree("logmend-core");
    let mut problems = Vec::new();
    for family in FAMILIES {
        let crate_name = format!("logmend-{}", family.name);
        let own = direct_sdk_crates(&metadata, &crate_name);
        assert!(!own.is_empty(), "{crate_name} declares no SDK crate");
        let tree = sdk_crates_in_tree(family.function);
        problems.extend(foreign_sdk_crates(family.function, &tree, &core, &own));
        for c in own.iter().chain(&core) {
            if !tree.contains(c) {
                problems.push(format!("{}: {c} missing from its tree", family.function));
            }
        }
        let logmend_deps: BTreeSet<String> = metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == family.function)
            .unwrap()["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            // Normal dependencies: a function's tests may use the harness (dev-dependencies).
            .filter(|d| d["kind"].is_null())
            .filter_map(|d| d["name"].as_str())
            .filter(|n| n.starts_with("logmend"))
            .map(str::to_owned)
            .collect();
        assert_eq!(logmend_deps, BTreeSet::from(["logmend-core".to_owned(), crate_name]), "{}", family.function);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The CLI links them all.
    let cli = sdk_crates_in_tree("logmend");
    for family in FAMILIES {
        let own = direct_sdk_crates(&metadata, &format!("logmend-{}", family.name));
        assert!(own.is_subset(&cli), "the CLI lacks {}'s SDK crates", family.name);
    }
}

#[test]
fn another_familys_sdk_crate_in_a_tree_is_reported() {
    let core: BTreeSet<String> = ["aws-sdk-sqs", "aws-sdk-sts"].map(String::from).into();
    let logs: BTreeSet<String> = ["aws-sdk-cloudwatchlogs"].map(String::from).into();
    let tree: BTreeSet<String> =
        ["aws-sdk-sqs", "aws-sdk-sts", "aws-sdk-cloudwatchlogs", "aws-sdk-rds"].map(String::from).into();
    assert_eq!(
        foreign_sdk_crates("log-retention", &tree, &core, &logs),
        ["log-retention links aws-sdk-rds, an SDK crate of another family"]
    );
}

#[test]
fn the_function_folders_are_the_registrys_functions() {
    let folders: BTreeSet<String> = std::fs::read_dir(repo_root().join("functions"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let registry: BTreeSet<String> = FAMILIES.iter().map(|f| f.function.to_owned()).collect();
    assert_eq!(folders, registry, "functions/ and shared/src/lib.rs FAMILIES differ");
}

/// aws-sdk-ec2 is the heaviest SDK crate (about 7 minutes of a cold dev build, 15 in
/// release): the network family's function alone links it.
#[test]
fn only_the_network_function_links_aws_sdk_ec2() {
    for family in FAMILIES {
        let links = sdk_crates_in_tree(family.function).contains("aws-sdk-ec2");
        assert_eq!(links, family.name == "network", "{} and aws-sdk-ec2", family.function);
    }
}

/// The SSO and credential_process providers are for a person at a terminal: the CLI links
/// them, no function does (a function's credentials come from its environment).
#[test]
fn only_the_cli_links_the_sso_credential_providers() {
    let sso = ["aws-sdk-sso", "aws-sdk-ssooidc"];
    let cli = sdk_crates_in_tree("logmend");
    assert!(sso.iter().all(|c| cli.contains(*c)), "the CLI lost {sso:?}: {cli:?}");
    for family in FAMILIES {
        let tree = sdk_crates_in_tree(family.function);
        let linked: Vec<_> = sso.iter().filter(|c| tree.contains(**c)).collect();
        assert!(linked.is_empty(), "{} links {linked:?}", family.function);
    }
}
