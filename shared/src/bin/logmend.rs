//! `logmend`: run logmend's checks by hand, against an account or an emulator.
//!
//! Exit status: 0 nothing left noncompliant or failed, 1 noncompliant found, 3 a failure,
//! 2 usage error (clap's own, and bad settings).

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use logmend::aws::{ClientSettings, load_sdk_config};
use logmend::controls::ControlSpec;
use logmend::decision::{Decision, Mode, Verdict};
use logmend::event::ApiCallEvent;
use logmend::policy::{Placeholders, policy_document};
use logmend::sweep::{DEFAULT_CONCURRENCY, Summary};
use logmend::{ClientSet, Config};
use std::io::{Read, Write};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "logmend",
    version,
    about = "Keep AWS activity logging switched on: check, and with --fix repair, the logging of CloudTrail trails and more."
)]
struct Cli {
    /// Send AWS calls here instead of AWS (an emulator); also read from AWS_ENDPOINT_URL.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    /// Region to scan (default: the AWS config's region). `handle` uses the event's region.
    #[arg(long, global = true)]
    region: Option<String>,
    /// Named profile from the AWS config files.
    #[arg(long, global = true)]
    profile: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the controls: id, Security Hub control, triggers, what compliant means.
    Controls {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Sweep every resource of the region; audit unless --fix.
    Scan {
        /// Only these controls (repeatable; default: all enabled by LOGMEND_CONTROLS).
        #[arg(long = "control", value_name = "ID", value_parser = parse_control)]
        controls: Vec<&'static ControlSpec>,
        /// Make the changes (remediate mode). Without it nothing is written.
        #[arg(long)]
        fix: bool,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Resources evaluated at once.
        #[arg(long, default_value_t = DEFAULT_CONCURRENCY as u16, value_parser = clap::value_parser!(u16).range(1..=64))]
        concurrency: u16,
    },
    /// Run one EventBridge event (a file, or - for stdin) as the deployed Lambda in the
    /// event's region would.
    Handle {
        event: String,
        #[arg(long)]
        fix: bool,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Print the least-privilege IAM policy the controls declare.
    Policy {
        #[arg(long, value_enum, default_value_t = PolicyMode::Remediate)]
        mode: PolicyMode,
        /// Only these controls (repeatable; default: all).
        #[arg(long = "control", value_name = "ID", value_parser = parse_control)]
        controls: Vec<&'static ControlSpec>,
        /// Account id to put in resource ARNs (default: *).
        #[arg(long, default_value = "*")]
        account: String,
        #[arg(long, default_value = "aws")]
        partition: String,
        /// `json`: a policy document; `cloudformation`: the statements for a template's role,
        /// writes under `Fn::If: [IsRemediate, …]` (`--mode` does not apply).
        #[arg(long, value_enum, default_value_t = PolicyFormat::Json)]
        format: PolicyFormat,
    },
    /// Print the SAM template (functions, rules, queues, alarms, roles) built from the
    /// registry: infra/template.yaml is this output.
    Template,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum PolicyFormat {
    Json,
    Cloudformation,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Json,
    Table,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PolicyMode {
    Audit,
    Remediate,
}

fn parse_control(s: &str) -> Result<&'static ControlSpec, String> {
    logmend::spec(s)
}

/// A usage problem found after parsing (a bad LOGMEND_* variable, an unreadable event).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    logmend::telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("logmend: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(try_main(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("logmend: {err:#}");
            if err.downcast_ref::<UsageError>().is_some() { ExitCode::from(2) } else { ExitCode::from(3) }
        }
    }
}

async fn try_main(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Controls { format } => {
            print_controls(format)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Policy { mode, controls, account, partition, format } => {
            let mode = match mode {
                PolicyMode::Audit => Mode::Audit,
                PolicyMode::Remediate => Mode::Remediate,
            };
            let controls = if controls.is_empty() { logmend::all_specs() } else { controls };
            let doc = match format {
                PolicyFormat::Json => {
                    policy_document(&controls, mode, &Placeholders { partition, account, region: "*".into() })
                }
                PolicyFormat::Cloudformation => logmend::policy::cloudformation_statements(&controls, "IsRemediate"),
            };
            println!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Template => {
            let template = logmend::template::sam_template(&logmend::FAMILIES);
            print!("{}", logmend::template::to_yaml(&template)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Scan { controls, fix, format, concurrency } => {
            let config = cli_config(fix)?;
            let settings = ClientSettings {
                region: cli.region,
                endpoint_url: cli.endpoint_url,
                profile: cli.profile,
                ..Default::default()
            };
            let sdk = load_sdk_config(&settings).await;
            if sdk.region().is_none() {
                return Err(UsageError("no region: pass --region or set AWS_REGION".into()).into());
            }
            let app = logmend::app(config, ClientSet::new(&sdk));
            // The guards that need the account (an organization trail of another account)
            // work in a sweep too.
            let account = app.caller_account().await;
            let mut printer = Printer::new(format);
            let only: Vec<&str> = controls.iter().map(|s| s.id).collect();
            let report = app.sweep(&only, usize::from(concurrency), account.as_deref(), |d| printer.decision(d)).await;
            printer.finish(&report.summary)?;
            Ok(exit_code(&report.summary))
        }
        Command::Handle { event, fix, format } => {
            let config = cli_config(fix)?;
            let bytes = read_event(&event)?;
            let value: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|e| UsageError(format!("{event}: not valid JSON: {e}")))?;
            let parsed = ApiCallEvent::from_value(&value).map_err(|e| UsageError(format!("{event}: {e}")))?;
            let settings = ClientSettings {
                region: Some(parsed.region.clone()),
                endpoint_url: cli.endpoint_url,
                profile: cli.profile,
                ..Default::default()
            };
            let sdk = load_sdk_config(&settings).await;
            let app = logmend::app(config, ClientSet::new(&sdk));
            let evaluations = app.handle_event(&value).await.map_err(|e| UsageError(format!("{event}: {e}")))?;
            let mut printer = Printer::new(format);
            let mut summary = Summary::default();
            for e in &evaluations {
                printer.decision(&e.decision);
                summary.add(&e.decision);
            }
            if evaluations.is_empty() {
                eprintln!("logmend: no enabled control handles {} from {}", parsed.event_name, parsed.event_source);
            }
            printer.finish(&summary)?;
            Ok(exit_code(&summary))
        }
    }
}

/// The CLI's mode comes from --fix; the other LOGMEND_* variables apply as in Lambda.
fn cli_config(fix: bool) -> anyhow::Result<Config> {
    let mode = if fix { "remediate" } else { "audit" };
    let config =
        Config::from_vars(|name| if name == "LOGMEND_MODE" { Some(mode.into()) } else { std::env::var(name).ok() })
            .map_err(|e| UsageError(e.to_string()))?;
    logmend::check_control_names(&config).map_err(UsageError)?;
    config.log_notices();
    Ok(config)
}

fn read_event(path: &str) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path == "-" {
        std::io::stdin().read_to_end(&mut bytes).context("reading the event from stdin")?;
    } else {
        bytes = std::fs::read(path).map_err(|e| UsageError(format!("{path}: {e}")))?;
    }
    Ok(bytes)
}

fn exit_code(summary: &Summary) -> ExitCode {
    if summary.count(Verdict::Failed) > 0 {
        ExitCode::from(3)
    } else if summary.count(Verdict::Noncompliant) > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints decisions as they come: JSON lines, or table rows.
struct Printer {
    format: Format,
    out: std::io::Stdout,
}

impl Printer {
    fn new(format: Format) -> Self {
        let p = Self { format, out: std::io::stdout() };
        if let Format::Table = format {
            let _ = writeln!(p.out.lock(), "{:<13} {:<28} {:<70} REASON", "VERDICT", "CONTROL", "RESOURCE");
        }
        p
    }

    fn decision(&mut self, d: &Decision) {
        let mut out = self.out.lock();
        // A closed pipe (`| head`) ends the output, not the evaluation.
        let _ = match self.format {
            Format::Json => writeln!(out, "{}", d.to_json_line()),
            Format::Table => {
                let changes: Vec<String> = d.changes.iter().map(|c| format!("{} {}", c.api, c.detail)).collect();
                let mut line = format!("{:<13} {:<28} {:<70} {}", d.verdict.as_str(), d.control, d.resource, d.reason);
                for c in changes {
                    line.push_str(&format!(
                        "\n{:<13} {:<28} {:<70}   {} {c}",
                        "",
                        "",
                        "",
                        if d.verdict == Verdict::Noncompliant { "would:" } else { "did:" }
                    ));
                }
                writeln!(out, "{line}")
            }
        };
    }

    fn finish(&mut self, summary: &Summary) -> anyhow::Result<()> {
        let parts: Vec<String> = Verdict::ALL
            .iter()
            .map(|v| (v, summary.count(*v)))
            .filter(|(_, n)| *n > 0)
            .map(|(v, n)| format!("{n} {}", v.as_str()))
            .collect();
        let text = if parts.is_empty() { "no resources".to_owned() } else { parts.join(", ") };
        eprintln!("logmend: {} evaluated: {text}", summary.total);
        Ok(())
    }
}

fn print_controls(format: Format) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for s in logmend::all_specs() {
        let triggers: Vec<String> =
            s.triggers.iter().map(|t| format!("{}: {}", t.event_source, t.event_names.join(", "))).collect();
        match format {
            Format::Json => writeln!(
                out,
                "{}",
                serde_json::json!({
                    "id": s.id, "security_hub": s.security_hub, "resource_type": s.resource_type,
                    "triggers": triggers, "compliant_when": s.compliant_when, "fix": s.fix,
                    "reads": s.reads.iter().map(|p| p.action).collect::<Vec<_>>(),
                    "writes": s.writes.iter().map(|p| p.action).collect::<Vec<_>>(),
                })
            )?,
            Format::Table => {
                let hub = if s.security_hub.is_empty() {
                    "no Security Hub control".into()
                } else {
                    s.security_hub.join(", ")
                };
                writeln!(out, "{}  ({hub}, {})", s.id, s.resource_type)?;
                writeln!(out, "  triggers:       {}", triggers.join("; "))?;
                writeln!(out, "  compliant when: {}", s.compliant_when)?;
                writeln!(out, "  fix:            {}", s.fix)?;
            }
        }
    }
    Ok(())
}
