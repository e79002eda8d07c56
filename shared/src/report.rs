//! The CLI's reports for a person or a spreadsheet: CSV rows, ASFF findings, and one
//! self-contained HTML page (no network: its style, chart and filters are inline) with a
//! summary per control and verdict, drawn as a chart, and the findings table with filters.

use crate::Verdict;
use logmend_core::decision::Decision;
use logmend_core::findings;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 11] = [
    "verdict",
    "control",
    "security_hub",
    "severity",
    "resource",
    "account",
    "region",
    "mode",
    "reason",
    "changes",
    "error_code",
];

pub fn csv_row(d: &Decision) -> [String; 11] {
    let (hub, severity) = hub_and_severity(d);
    [
        d.verdict.as_str().to_owned(),
        d.control.to_owned(),
        hub,
        severity.to_owned(),
        d.resource.clone(),
        d.account.clone(),
        d.region.clone(),
        d.mode.as_str().to_owned(),
        d.reason.clone(),
        d.changes_text(),
        d.error_code.clone().unwrap_or_default(),
    ]
}

/// The control's Security Hub ids (space-separated) and its severity, empty for an unknown id.
fn hub_and_severity(d: &Decision) -> (String, &'static str) {
    crate::spec(d.control).map(|s| (s.security_hub.join(" "), s.severity.as_str())).unwrap_or_default()
}

/// The decisions' findings, as `--format asff` prints them and Security Hub would store them.
pub fn asff(decisions: &[Decision]) -> Vec<findings::Finding> {
    let now = findings::rfc3339_millis(std::time::SystemTime::now());
    decisions.iter().filter_map(|d| findings::finding(d, crate::spec(d.control).ok(), &now)).collect()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The colour of a verdict, in the chart and the table.
fn colour(v: Verdict) -> &'static str {
    match v {
        Verdict::Compliant => "#2e7d32",
        Verdict::Fixed => "#1565c0",
        Verdict::Noncompliant => "#c62828",
        Verdict::Failed => "#6a1b9a",
        Verdict::Pending => "#ef6c00",
        Verdict::Deferred => "#f9a825",
        Verdict::Skipped => "#757575",
    }
}

/// Where the report was made from, for its heading.
pub struct ReportContext<'a> {
    pub account: Option<&'a str>,
    pub region: &'a str,
    pub mode: &'a str,
    pub generated_at: &'a str,
}

/// The whole page.
pub fn html(decisions: &[Decision], cx: &ReportContext<'_>) -> String {
    let mut by_control: BTreeMap<&str, BTreeMap<Verdict, usize>> = BTreeMap::new();
    let mut totals: BTreeMap<Verdict, usize> = BTreeMap::new();
    for d in decisions {
        *by_control.entry(d.control).or_default().entry(d.verdict).or_default() += 1;
        *totals.entry(d.verdict).or_default() += 1;
    }
    let mut page = String::new();
    let title = format!("logmend report: {} {}", cx.account.unwrap_or("unknown account"), cx.region);
    let _ = write!(
        page,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#212121}}
h1{{font-size:22px;margin:0 0 4px}} .meta{{color:#616161;margin-bottom:16px}}
.totals{{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0 20px}}
.total{{border-radius:6px;padding:8px 14px;color:#fff;min-width:90px}} .total b{{display:block;font-size:22px}}
table{{border-collapse:collapse;width:100%;font-size:13px}} th,td{{border-bottom:1px solid #e0e0e0;padding:6px 8px;text-align:left;vertical-align:top}}
th{{background:#fafafa;position:sticky;top:0}} .verdict{{color:#fff;border-radius:4px;padding:1px 6px;white-space:nowrap}}
.filters{{display:flex;gap:8px;margin:16px 0 8px;flex-wrap:wrap}} .filters select,.filters input{{padding:4px 6px;font-size:13px}}
svg text{{font-size:12px}} .muted{{color:#757575}}
</style></head><body>
<h1>{title}</h1>
<div class="meta">mode {mode} · generated {generated} · {n} decisions</div>
<section id="summary"><h2>Summary</h2><div class="totals">"#,
        title = escape(&title),
        mode = escape(cx.mode),
        generated = escape(cx.generated_at),
        n = decisions.len(),
    );
    for (v, n) in &totals {
        let _ = write!(
            page,
            r#"<div class="total" data-verdict="{v}" style="background:{c}">{v}<b>{n}</b></div>"#,
            v = v.as_str(),
            c = colour(*v)
        );
    }
    page.push_str("</div>");
    page.push_str(&chart(&by_control));
    page.push_str("</section>\n<section id=\"findings\"><h2>Findings</h2><div class=\"filters\">");
    page.push_str(r#"<select id="filter-verdict" aria-label="verdict"><option value="">every verdict</option>"#);
    for v in totals.keys() {
        let _ = write!(page, r#"<option value="{0}">{0}</option>"#, v.as_str());
    }
    page.push_str(
        r#"</select><select id="filter-control" aria-label="control"><option value="">every control</option>"#,
    );
    for c in by_control.keys() {
        let _ = write!(page, r#"<option value="{0}">{0}</option>"#, escape(c));
    }
    page.push_str(
        r#"</select><input id="filter-text" type="search" placeholder="resource or reason" aria-label="search">
<span id="shown" class="muted"></span></div>
<table id="findings-table"><thead><tr><th>verdict</th><th>control</th><th>Security Hub</th><th>severity</th><th>resource</th><th>reason</th><th>changes</th></tr></thead><tbody>
"#,
    );
    for d in decisions {
        let (hub, severity) = hub_and_severity(d);
        let _ = writeln!(
            page,
            r#"<tr data-verdict="{v}" data-control="{c}"><td><span class="verdict" style="background:{col}">{v}</span></td><td>{c}</td><td>{hub}</td><td>{sev}</td><td>{res}</td><td>{reason}</td><td>{changes}</td></tr>"#,
            v = d.verdict.as_str(),
            col = colour(d.verdict),
            c = escape(d.control),
            hub = escape(&hub),
            sev = escape(severity),
            res = escape(&d.resource),
            reason = escape(&d.reason),
            changes = escape(&d.changes_text()),
        );
    }
    page.push_str(
        r#"</tbody></table></section>
<script>
(function () {
  var v = document.getElementById('filter-verdict'), c = document.getElementById('filter-control'),
      t = document.getElementById('filter-text'), shown = document.getElementById('shown');
  function apply() {
    var rows = document.querySelectorAll('#findings-table tbody tr'), n = 0, q = t.value.toLowerCase();
    rows.forEach(function (r) {
      var ok = (!v.value || r.dataset.verdict === v.value) && (!c.value || r.dataset.control === c.value)
        && (!q || r.textContent.toLowerCase().indexOf(q) >= 0);
      r.style.display = ok ? '' : 'none';
      if (ok) n++;
    });
    shown.textContent = n + ' of ' + rows.length + ' shown';
  }
  [v, c].forEach(function (e) { e.addEventListener('change', apply); });
  t.addEventListener('input', apply);
  var params = new URLSearchParams(location.search);
  if (params.get('verdict')) v.value = params.get('verdict');
  if (params.get('control')) c.value = params.get('control');
  apply();
})();
</script>
</body></html>
"#,
    );
    page
}

/// A stacked horizontal bar per control, one segment per verdict, as inline SVG.
fn chart(by_control: &BTreeMap<&str, BTreeMap<Verdict, usize>>) -> String {
    const LABEL: u32 = 230;
    const BAR: u32 = 520;
    const ROW: u32 = 22;
    let max = by_control.values().map(|m| m.values().sum::<usize>()).max().unwrap_or(1).max(1);
    let height = ROW * by_control.len() as u32 + 30;
    const LEGEND: u32 = 115;
    let width = (LABEL + BAR + 60).max(LABEL + LEGEND * Verdict::ALL.len() as u32);
    let mut svg = format!(
        r#"<svg id="chart" role="img" aria-label="decisions per control and verdict" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#
    );
    for (i, (control, verdicts)) in by_control.iter().enumerate() {
        let y = i as u32 * ROW;
        let _ = write!(svg, r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#, LABEL - 8, y + 15, escape(control));
        let mut x = LABEL;
        for (v, n) in verdicts {
            let w = ((*n as f64 / max as f64) * f64::from(BAR)).round().max(2.0) as u32;
            let _ = write!(
                svg,
                r#"<rect class="bar" data-control="{c}" data-verdict="{v}" x="{x}" y="{y1}" width="{w}" height="16" fill="{col}"><title>{c}: {n} {v}</title></rect>"#,
                c = escape(control),
                v = v.as_str(),
                y1 = y + 3,
                col = colour(*v),
            );
            x += w;
        }
        let total: usize = verdicts.values().sum();
        let _ = write!(svg, r#"<text x="{}" y="{}" class="muted">{total}</text>"#, x + 6, y + 15);
    }
    let mut x = LABEL;
    let legend_y = ROW * by_control.len() as u32 + 18;
    for v in Verdict::ALL {
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{legend_y}">{}</text>"#,
            legend_y - 9,
            colour(v),
            x + 14,
            v.as_str()
        );
        x += LEGEND;
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use logmend_core::decision::{Change, Mode};

    fn decision(control: &'static str, verdict: Verdict, resource: &str) -> Decision {
        Decision {
            control,
            resource: resource.into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            mode: Mode::Audit,
            verdict,
            reason: "<script>alert(1)</script> & more".into(),
            changes: vec![Change::new("logs:PutRetentionPolicy", "365 days")],
            error_code: None,
            event_id: None,
            event_name: None,
        }
    }

    #[test]
    fn the_page_is_self_contained_and_escapes_what_aws_returned() {
        let ds = [
            decision("log-group-retention", Verdict::Noncompliant, "/app/<x>"),
            decision("log-group-retention", Verdict::Compliant, "/app/y"),
            decision("vpc-flow-logs", Verdict::Fixed, "vpc-1"),
        ];
        let cx = ReportContext { account: Some("123456789012"), region: "us-east-1", mode: "audit", generated_at: "t" };
        let page = html(&ds, &cx);
        assert!(!page.contains("<script>alert"), "reasons are escaped");
        assert!(page.contains("/app/&lt;x&gt;"));
        assert!(!page.contains("http://") && !page.contains("https://"), "nothing is fetched");
        assert_eq!(page.matches("<tr data-verdict=").count(), 3);
        assert_eq!(page.matches(r#"<rect class="bar""#).count(), 3);
    }

    #[test]
    fn csv_rows_carry_the_control_and_its_security_hub_id() {
        let row = csv_row(&decision("log-group-retention", Verdict::Noncompliant, "/app"));
        assert_eq!(row[0], "noncompliant");
        assert_eq!(row[2], "CloudWatch.16");
        assert_eq!(row[3], "MEDIUM");
        assert_eq!(row[9], "logs:PutRetentionPolicy 365 days");
    }
}
