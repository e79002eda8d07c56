//! The CDK construct (infra/cdk/): `cdk synth` of its example app runs offline, passes cfn-lint,
//! and holds the SAM template's resources: the same functions with the same rules, roles,
//! managed policies, queues and alarms. It includes the generated template, so the only
//! differences allowed are the parameters' defaults (the props) and the code location.

use logmend_integration::repo_root;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// `tsc` once per test run: the tests of this module run at once, and a second compile would
/// rewrite dist/ under the other's feet.
fn compiled() -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    let cdk = repo_root().join("infra/cdk");
    BUILT.get_or_init(|| {
        npx(&cdk, &["tsc"], &[]);
    });
    cdk
}

fn npx(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let out = Command::new("npx")
        .args(args)
        .current_dir(dir)
        .env("CDK_DISABLE_VERSION_CHECK", "1")
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("npx: {e} (make test installs infra/cdk's packages)"));
    assert!(
        out.status.success(),
        "npx {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn cdk_synth_of_the_example_app_matches_the_sam_template_and_passes_cfn_lint() {
    let cdk = compiled();
    let out = std::env::temp_dir().join(format!("logmend-cdk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    npx(
        &cdk,
        &["cdk", "synth", "--no-notices", "--no-version-reporting", "--quiet", "-o", out.to_str().unwrap()],
        &[("LOGMEND_CODE_BUCKET", "code-bucket/logmend")],
    );
    let synthed = out.join("LogmendExample.template.json");
    let cdk_template: Value = serde_json::from_str(&std::fs::read_to_string(&synthed).unwrap()).unwrap();
    let sam = logmend::template::sam_template(&logmend::FAMILIES);

    // The example's props (infra/cdk/bin/example.ts) are the defaults of the template's parameters.
    let defaults = json!({ "Mode": "remediate", "RetentionDays": 400, "SecurityHub": "on" });
    let got = &cdk_template["Resources"];
    let expected = &sam["Resources"];
    let ids = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<std::collections::BTreeSet<_>>();
    assert_eq!(ids(got), ids(expected), "the same resources, by logical id");
    for (id, want) in expected.as_object().unwrap() {
        let mut have = got[id].clone();
        let mut want = want.clone();
        assert_eq!(have["Type"], want["Type"], "{id}");
        if want["Type"] == "AWS::Serverless::Function" {
            let name = want["Properties"]["CodeUri"]
                .as_str()
                .unwrap()
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned();
            assert_eq!(
                have["Properties"]["CodeUri"],
                json!({ "Bucket": "code-bucket", "Key": format!("logmend/{name}.zip") })
            );
            have["Properties"].as_object_mut().unwrap().remove("CodeUri");
            want["Properties"].as_object_mut().unwrap().remove("CodeUri");
        }
        assert_eq!(
            have["Properties"], want["Properties"],
            "{id}: functions, rules, roles and policies as in the SAM template"
        );
    }
    for key in ["Transform", "Globals", "Conditions", "Outputs", "Metadata"] {
        assert_eq!(cdk_template[key], sam[key], "{key}");
    }
    for (name, p) in sam["Parameters"].as_object().unwrap() {
        let mut want = p.clone();
        if let Some(default) = defaults.get(name) {
            want["Default"] = default.clone();
        }
        assert_eq!(cdk_template["Parameters"][name], want, "{name}");
    }

    let lint = Command::new(repo_root().join(".venv/bin/cfn-lint")).arg(&synthed).output().unwrap();
    assert!(lint.status.success(), "cfn-lint: {}", String::from_utf8_lossy(&lint.stdout));
}

/// A prop the template would refuse fails at synth and says which and why.
#[test]
fn a_bad_prop_is_refused_naming_the_parameter() {
    let cdk = compiled();
    let script = "const { Logmend } = require('./dist/lib/logmend'); const { App, Stack } = require('aws-cdk-lib');\n\
        try { new Logmend(new Stack(new App(), 'S'), 'L', { retentionDays: 42 }); console.log('accepted'); }\n\
        catch (e) { console.log(e.message); }";
    let out = Command::new("node").args(["-e", script]).current_dir(&cdk).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("logmend: RetentionDays=42 is not one of 1, 3, 5"), "{text}");
}
