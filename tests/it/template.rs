//! infra/template.yaml against the declarations: each function's role holds exactly the
//! actions its controls declare (writes only in remediate mode), its rule matches exactly their
//! triggers, and a first deployment is in audit mode.

use logmend::controls::Permission;
use logmend::decision::Mode;
use logmend::deployment::{FUNCTIONS, MQ_BROKER_LOGS};
use logmend::policy::{Access, permissions};
use logmend_integration::template::{Template, check_function, declared};

#[test]
fn every_functions_role_and_rule_match_its_controls_declarations() {
    let template = Template::load();
    let problems: Vec<String> = FUNCTIONS.iter().flat_map(|f| check_function(&template, f, declared(f))).collect();
    assert!(problems.is_empty(), "infra/template.yaml differs from the declarations:\n  {}", problems.join("\n  "));
}

#[test]
fn a_declared_action_the_template_lacks_fails_the_check() {
    let template = Template::load();
    let with_extra = |mode: Mode| {
        let mut p = permissions(MQ_BROKER_LOGS.controls, mode);
        if mode == Mode::Remediate {
            p.push((Access::Write, Permission::any("mq:DeleteBroker")));
        }
        p
    };
    let problems = check_function(&template, &MQ_BROKER_LOGS, with_extra);
    assert_eq!(problems, ["mq-broker-logs (remediate): the template lacks mq:DeleteBroker on *"]);

    let without_a_read = |mode: Mode| {
        let mut p = permissions(MQ_BROKER_LOGS.controls, mode);
        p.retain(|(_, p)| p.action != "mq:ListBrokers");
        p
    };
    let problems = check_function(&template, &MQ_BROKER_LOGS, without_a_read);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("grants mq:ListBrokers on *, which no control declares"), "{problems:?}");
}

#[test]
fn audit_is_the_default_mode_and_its_roles_hold_no_write() {
    let template = Template::load();
    assert_eq!(template.0["Parameters"]["Mode"]["Default"], "audit");
    for f in FUNCTIONS {
        let (_, function) = template.function(f.name).unwrap();
        let role = template.role_of(function).unwrap();
        let writes: Vec<&str> = f.controls.iter().flat_map(|c| c.spec().writes.iter().map(|p| p.action)).collect();
        let reads: Vec<&str> = f.controls.iter().flat_map(|c| c.spec().reads.iter().map(|p| p.action)).collect();
        for s in Template::role_statements(role, "controls", Mode::Audit) {
            for a in s["Action"].as_array().unwrap() {
                let a = a.as_str().unwrap();
                assert!(reads.contains(&a) || !writes.contains(&a), "{}: audit mode grants {a}", f.name);
            }
        }
    }
}
