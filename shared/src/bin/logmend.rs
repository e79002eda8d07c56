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
use logmend::report::ReportContext;
use logmend::sweep::{DEFAULT_CONCURRENCY, Summary};
use logmend::{ClientSet, Config};
use std::io::{Read, Write};
use std::path::PathBuf;
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
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Sweep every resource of the region; audit unless --fix.
    Scan {
        /// Only these controls (repeatable; default: all enabled by LOGMEND_CONTROLS).
        #[arg(long = "control", value_name = "ID", value_parser = parse_control)]
        controls: Vec<&'static ControlSpec>,
        /// Make the changes (remediate mode). Without it nothing is written.
        #[arg(long)]
        fix: bool,
        /// json: a decision per line; table; csv; asff: the Security Hub findings as a JSON
        /// array; html: one self-contained page with a summary chart and a filterable table.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Write the report here instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Resources evaluated at once.
        #[arg(long, default_value_t = DEFAULT_CONCURRENCY as u16, value_parser = clap::value_parser!(u16).range(1..=64))]
        concurrency: u16,
        /// Also send every decision to Security Hub as an ASFF finding (the account's own
        /// product; Security Hub must be enabled in the region).
        #[arg(long)]
        security_hub: bool,
        /// No progress bar and no summary line on standard error.
        #[arg(long, short = 'q')]
        quiet: bool,
    },
    /// Run one EventBridge event (a file, or - for stdin) as the deployed Lambda in the
    /// event's region would.
    Handle {
        event: String,
        #[arg(long)]
        fix: bool,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Write the report here instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
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
enum ListFormat {
    Json,
    Table,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Table,
    Csv,
    Asff,
    Html,
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
    logmend::telemetry::init_cli();
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
        Command::Scan { controls, fix, format, output, concurrency, security_hub, quiet } => {
            let mut config = cli_config(fix)?;
            config.security_hub = security_hub;
            let settings = ClientSettings {
                region: Some(preflight_region(cli.region, cli.profile.as_deref()).await?),
                endpoint_url: cli.endpoint_url,
                profile: cli.profile,
                adaptive_retry: true,
                ..Default::default()
            };
            let sdk = load_sdk_config(&settings).await;
            preflight_credentials(&sdk).await?;
            let region = settings.region.clone().unwrap_or_default();
            let app = logmend::app(config, ClientSet::new(&sdk));
            // The guards that need the account (an organization trail of another account)
            // work in a sweep too.
            let account = app.caller_account().await;
            let mut printer = Printer::new(format, output.as_deref(), !quiet)?;
            let only: Vec<&str> = controls.iter().map(|s| s.id).collect();
            let report = app.sweep(&only, usize::from(concurrency), account.as_deref(), |d| printer.decision(d)).await;
            let cx = ReportContext {
                account: account.as_deref(),
                region: &region,
                mode: if fix { "remediate" } else { "audit" },
                generated_at: &logmend::findings::rfc3339_millis(std::time::SystemTime::now()),
            };
            printer.finish(&report.summary, &cx, quiet)?;
            if security_hub {
                app.send_outputs(report.evaluations.iter().map(|e| &e.decision)).await?;
                if !quiet {
                    eprintln!("logmend: findings sent to Security Hub in {region}");
                }
            }
            Ok(exit_code(&report.summary))
        }
        Command::Handle { event, fix, format, output } => {
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
            let mut printer = Printer::new(format, output.as_deref(), false)?;
            let mut summary = Summary::default();
            for e in &evaluations {
                printer.decision(&e.decision);
                summary.add(&e.decision);
            }
            if evaluations.is_empty() {
                eprintln!("logmend: no enabled control handles {} from {}", parsed.event_name, parsed.event_source);
            }
            let cx = ReportContext {
                account: Some(&parsed.account),
                region: &parsed.region,
                mode: if fix { "remediate" } else { "audit" },
                generated_at: &logmend::findings::rfc3339_millis(std::time::SystemTime::now()),
            };
            printer.finish(&summary, &cx, false)?;
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

/// Where the report goes: standard output or the `--output` file; CSV through its writer.
enum Sink {
    Plain(Box<dyn Write + Send>),
    Csv(Box<csv::Writer<Box<dyn Write + Send>>>),
}

/// Prints decisions as they come (JSON lines, table rows, CSV records), or keeps them for a
/// report written at the end (ASFF, HTML); a progress spinner on a terminal's standard error.
struct Printer {
    format: Format,
    sink: Sink,
    kept: Vec<Decision>,
    progress: Option<indicatif::ProgressBar>,
    /// A closed pipe (`| head`) ends the output, not the evaluation.
    broken: bool,
}

impl Printer {
    fn new(format: Format, output: Option<&std::path::Path>, progress: bool) -> anyhow::Result<Self> {
        use std::io::IsTerminal;
        let out: Box<dyn Write + Send> = match output {
            Some(path) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(path).map_err(|e| UsageError(format!("--output {}: {e}", path.display())))?,
            )),
            None => Box::new(std::io::stdout()),
        };
        let progress = (progress && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {pos} evaluated in {elapsed} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        let mut sink = match format {
            Format::Csv => Sink::Csv(Box::new(csv::Writer::from_writer(out))),
            _ => Sink::Plain(out),
        };
        match &mut sink {
            Sink::Csv(w) => w.write_record(logmend::report::CSV_HEADER)?,
            Sink::Plain(w) if format == Format::Table => {
                writeln!(w, "{:<13} {:<28} {:<70} REASON", "VERDICT", "CONTROL", "RESOURCE")?
            }
            Sink::Plain(_) => {}
        }
        Ok(Self { format, sink, kept: Vec::new(), progress, broken: false })
    }

    fn decision(&mut self, d: &Decision) {
        if let Some(bar) = &self.progress {
            bar.inc(1);
            bar.set_message(format!("({}: {})", d.control, d.verdict.as_str()));
        }
        if self.broken {
            return;
        }
        let written = match (&mut self.sink, self.format) {
            (_, Format::Asff | Format::Html) => {
                self.kept.push(d.clone());
                Ok(())
            }
            (Sink::Csv(w), _) => w
                .write_record(logmend::report::csv_row(d))
                .and_then(|()| w.flush().map_err(Into::into))
                .map_err(std::io::Error::other),
            (Sink::Plain(w), Format::Table) => writeln!(w, "{}", table_row(d)),
            (Sink::Plain(w), _) => writeln!(w, "{}", d.to_json_line()),
        };
        self.broken = written.is_err();
    }

    fn finish(&mut self, summary: &Summary, cx: &ReportContext<'_>, quiet: bool) -> anyhow::Result<()> {
        if let Some(bar) = self.progress.take() {
            bar.finish_and_clear();
        }
        let report = match self.format {
            Format::Asff => Some(serde_json::to_string_pretty(&logmend::report::asff(&self.kept))? + "\n"),
            Format::Html => Some(logmend::report::html(&self.kept, cx)),
            _ => None,
        };
        let flushed = match &mut self.sink {
            Sink::Plain(w) => report.map_or(Ok(()), |r| w.write_all(r.as_bytes())).and_then(|()| w.flush()),
            Sink::Csv(w) => w.flush(),
        };
        // A closed pipe is the reader's choice; a file that cannot be written is an error.
        if let Err(e) = flushed
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            return Err(e.into());
        }
        if quiet {
            return Ok(());
        }
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

fn table_row(d: &Decision) -> String {
    let mut line = format!("{:<13} {:<28} {:<70} {}", d.verdict.as_str(), d.control, d.resource, d.reason);
    for c in &d.changes {
        line.push_str(&format!(
            "\n{:<13} {:<28} {:<70}   {} {} {}",
            "",
            "",
            "",
            if d.verdict == Verdict::Noncompliant { "would:" } else { "did:" },
            c.api,
            c.detail
        ));
    }
    line
}

/// The region, from --region, the environment or the profile, never from the instance
/// metadata service: on a laptop that probe only prints warnings and waits. None is a usage
/// error, said in one line before any work.
async fn preflight_region(region: Option<String>, profile: Option<&str>) -> anyhow::Result<String> {
    use aws_config::meta::region::RegionProviderChain;
    if let Some(r) = region {
        return Ok(r);
    }
    let mut from_profile = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(p) = profile {
        from_profile = from_profile.profile_name(p);
    }
    let chain = RegionProviderChain::first_try(aws_config::environment::EnvironmentVariableRegionProvider::new())
        .or_else(from_profile.build());
    chain.region().await.map(|r| r.to_string()).ok_or_else(|| {
        UsageError("no region: pass --region, set AWS_REGION, or set region in the profile".into()).into()
    })
}

/// Credentials before any call: without them every control would report its own failure.
async fn preflight_credentials(sdk: &aws_config::SdkConfig) -> anyhow::Result<()> {
    use aws_credential_types::provider::ProvideCredentials;
    let Some(provider) = sdk.credentials_provider() else {
        return Err(UsageError(
            "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run aws sso login"
                .into(),
        )
        .into());
    };
    provider.provide_credentials().await.map(|_| ()).map_err(|e| {
        UsageError(format!(
            "no AWS credentials ({e}): set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run aws sso login"
        ))
        .into()
    })
}

fn print_controls(format: ListFormat) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for s in logmend::all_specs() {
        let triggers: Vec<String> =
            s.triggers.iter().map(|t| format!("{}: {}", t.event_source, t.event_names.join(", "))).collect();
        match format {
            ListFormat::Json => writeln!(
                out,
                "{}",
                serde_json::json!({
                    "id": s.id, "security_hub": s.security_hub, "resource_type": s.resource_type,
                    "triggers": triggers, "compliant_when": s.compliant_when, "fix": s.fix,
                    "reads": s.reads.iter().map(|p| p.action).collect::<Vec<_>>(),
                    "writes": s.writes.iter().map(|p| p.action).collect::<Vec<_>>(),
                })
            )?,
            ListFormat::Table => {
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
