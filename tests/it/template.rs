//! infra/template.yaml: the generator's committed output, and what it must hold. Each
//! function's role holds exactly the actions its controls declare (writes only in remediate
//! mode), its rules match exactly their triggers, every role fits IAM's size limits with room
//! for thirty controls, and a first deployment is in audit mode.

use logmend::controls::{ControlSpec, Permission, Trigger};
use logmend::decision::Mode;
use logmend::policy::{Access, permissions};
use logmend::template::{
    INLINE_POLICIES_LIMIT, MANAGED_POLICIES_PER_ROLE, MANAGED_POLICY_LIMIT, pack_controls, sam_template, to_yaml,
    worst_case_size,
};
use logmend::{FAMILIES, Family};
use logmend_integration::repo_root;
use logmend_integration::template::{Template, check_function, declared};
use serde_json::Value;

#[test]
fn the_committed_template_is_the_generated_one() {
    let generated = to_yaml(&sam_template(&FAMILIES)).unwrap();
    let path = repo_root().join("infra/template.yaml");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "infra/template.yaml is not what `logmend template` prints; run `make template` and commit it"
    );
}

#[test]
fn a_changed_registry_changes_the_generated_template() {
    // GIVEN a family with one control less WHEN the template is generated THEN it differs,
    // so the equality test above can fail.
    let rds = FAMILIES.iter().find(|f| f.name == "rds").unwrap();
    let fewer = Family { controls: &rds.controls[..1], ..**rds };
    let families: Vec<&Family> = FAMILIES.iter().map(|f| if f.name == "rds" { &fewer } else { *f }).collect();
    assert_ne!(sam_template(&families), sam_template(&FAMILIES));
}

#[test]
fn every_functions_role_and_rules_match_its_controls_declarations() {
    let template = Template::load();
    let problems: Vec<String> = FAMILIES.iter().flat_map(|f| check_function(&template, f, declared(f))).collect();
    assert!(problems.is_empty(), "infra/template.yaml differs from the declarations:\n  {}", problems.join("\n  "));
    let functions = template.resources().filter(|(_, r)| r["Type"] == "AWS::Serverless::Function").count();
    assert_eq!(functions, FAMILIES.len(), "one function per family, and no all-controls sweep function");
}

#[test]
fn a_declared_action_the_template_lacks_fails_the_check() {
    let template = Template::load();
    let mq = FAMILIES.iter().find(|f| f.name == "mq").unwrap();
    let specs: Vec<&ControlSpec> = mq.specs().collect();
    let with_extra = |mode: Mode| {
        let mut p = permissions(&specs, mode);
        if mode == Mode::Remediate {
            p.push((Access::Write, Permission::any("mq:DeleteBroker")));
        }
        p
    };
    let problems = check_function(&template, mq, with_extra);
    assert_eq!(problems, ["mq-broker-logs (remediate): the template lacks mq:DeleteBroker on *"]);

    let without_a_read = |mode: Mode| {
        let mut p = permissions(&specs, mode);
        p.retain(|(_, p)| p.action != "mq:ListBrokers");
        p
    };
    let problems = check_function(&template, mq, without_a_read);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("grants mq:ListBrokers on *, which no control declares"), "{problems:?}");
}

#[test]
fn a_rule_with_the_wrong_top_level_source_fails_the_check() {
    let mut template = Template::load();
    let rule = template.0["Resources"]["MqBrokerLogsFunction"]["Properties"]["Events"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .find(|e| e["Type"] == "EventBridgeRule")
        .unwrap();
    rule["Properties"]["Pattern"]["source"] = serde_json::json!(["aws.mq"]);
    let mq = FAMILIES.iter().find(|f| f.name == "mq").unwrap();
    let problems = check_function(&template, mq, declared(mq));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("expected [aws.amazonmq]"), "{problems:?}");
}

#[test]
fn audit_is_the_default_mode_and_its_roles_hold_no_write() {
    let template = Template::load();
    assert_eq!(template.0["Parameters"]["Mode"]["Default"], "audit");
    for f in FAMILIES {
        let (_, function) = template.function(f.function).unwrap();
        let role = template.role_of(function).unwrap();
        let writes: Vec<&str> = f.specs().flat_map(|c| c.writes.iter().map(|p| p.action)).collect();
        let reads: Vec<&str> = f.specs().flat_map(|c| c.reads.iter().map(|p| p.action)).collect();
        for s in template.controls_statements(role, Mode::Audit) {
            for a in s["Action"].as_array().unwrap() {
                let a = a.as_str().unwrap();
                assert!(reads.contains(&a) || !writes.contains(&a), "{}: audit mode grants {a}", f.function);
            }
        }
    }
}

/// The sizes IAM checks, for one role: its managed policies and its inline policies.
fn role_sizes(template: &Template, role: &Value) -> (Vec<usize>, usize) {
    let managed =
        template.managed_policies(role).iter().map(|p| worst_case_size(&p["Properties"]["PolicyDocument"])).collect();
    let inline = role["Properties"]["Policies"].as_array().unwrap().iter().map(worst_case_size).sum();
    (managed, inline)
}

#[test]
fn every_role_fits_iams_limits_with_room_for_thirty_controls() {
    let template = Template::load();
    for f in FAMILIES {
        let (_, function) = template.function(f.function).unwrap();
        let role = template.role_of(function).unwrap();
        let (managed, inline) = role_sizes(&template, role);
        assert!(managed.len() <= MANAGED_POLICIES_PER_ROLE, "{}: {} managed policies", f.function, managed.len());
        for size in &managed {
            assert!(*size <= MANAGED_POLICY_LIMIT, "{}: a managed policy of {size} characters", f.function);
        }
        assert!(inline <= INLINE_POLICIES_LIMIT, "{}: {inline} characters of inline policy", f.function);
    }

    // Thirty controls in one family (the worst split there can be): every control repeated
    // until there are thirty, each a distinct resource so nothing merges.
    let all: Vec<&ControlSpec> = logmend::all_specs();
    let widened: Vec<ControlSpec> = (0..30)
        .map(|i| {
            let base = all[i % all.len()];
            let leak = |perms: &'static [Permission]| -> &'static [Permission] {
                let v: Vec<Permission> = perms
                    .iter()
                    .map(|p| {
                        let resource =
                            if p.resource == "*" { "*".to_owned() } else { format!("{}-copy-{i}", p.resource) };
                        Permission::on(p.action, Box::leak(resource.into_boxed_str()))
                    })
                    .collect();
                Box::leak(v.into_boxed_slice())
            };
            ControlSpec {
                id: Box::leak(format!("{}-{i}", base.id).into_boxed_str()),
                reads: leak(base.reads),
                writes: leak(base.writes),
                triggers: &[] as &[Trigger],
                ..*base
            }
        })
        .collect();
    let refs: Vec<&ControlSpec> = widened.iter().collect();
    let packs = pack_controls(&refs);
    let sizes: Vec<usize> = packs
        .iter()
        .map(|p| {
            worst_case_size(
                &serde_json::json!({"Statement": logmend::policy::cloudformation_statements(p, "IsRemediate")}),
            )
        })
        .collect();
    assert!(
        packs.len() <= MANAGED_POLICIES_PER_ROLE,
        "thirty controls need {} managed policies ({sizes:?})",
        packs.len()
    );
    assert!(sizes.iter().all(|s| *s <= MANAGED_POLICY_LIMIT), "{sizes:?}");
    println!("thirty controls in one role: {} managed policies of {sizes:?} characters", packs.len());
}
