//! `/ui/export`: every export format, filtered as the API's query (`include_archived`,
//! `type`, `project`, `host`) and shaped by its `compat`; `/ui/export/{file}` answers the
//! file as a download.

use ipocket_core::AssetType;
use maud::html;

use crate::ui::page::{Ctx, UiAnswer};

/// The formats by what they hold: (label, file names).
const GROUPS: [(&str, &[&str]); 6] = [
    (
        "Everything (importable bundle)",
        &["bundle.json", "bundle.zip"],
    ),
    ("IP assets", &["ip-assets.csv", "ip-assets.json"]),
    ("Hosts", &["hosts.csv", "hosts.json"]),
    ("Projects", &["projects.csv", "projects.json"]),
    ("Vendors", &["vendors.csv", "vendors.json"]),
    ("Tags", &["tags.csv", "tags.json"]),
];

pub(super) async fn page(cx: &Ctx<'_>) -> UiAnswer {
    let (projects, hosts) = cx
        .state
        .read_inventory(|inv| Ok((inv.projects()?, inv.hosts()?)))
        .await?;
    let q = |k: &str| cx.req.param(k).unwrap_or("").to_string();
    let (asset_type, project, host) = (q("type"), q("project"), q("host"));
    let include_archived = cx.req.flag("include_archived").unwrap_or(false);
    let original = cx.req.param("compat") == Some("original");
    let body = html! {
        h1 { "Export" }
        p { "Download the inventory. The filters apply to IP assets (a project or host filter also narrows the projects or hosts list). Back to " a href="/ui/import" { "Import" } "." }
        form.panel method="get" action="/ui/export" {
            h2 { "Filters" }
            div.toolbar {
                div.field {
                    label for="f-type" { "Type" }
                    select #f-type name="type" {
                        option value="" { "Any type" }
                        @for t in AssetType::ALL {
                            option value=(t.as_str()) selected[t.as_str() == asset_type] { (t.as_str()) }
                        }
                    }
                }
                div.field {
                    label for="f-project" { "Project" }
                    select #f-project name="project" {
                        option value="" { "Any project" }
                        @for p in &projects {
                            option value=(p.name) selected[p.name == project] { (p.name) }
                        }
                    }
                }
                div.field {
                    label for="f-host" { "Host" }
                    input #f-host type="text" name="host" value=(host) list="host-names" placeholder="Any host";
                    datalist #host-names { @for h in &hosts { option value=(h.name) {} } }
                }
                div.field {
                    label.inline for="f-include-archived" {
                        input #f-include-archived type="checkbox" name="include_archived" value="1" checked[include_archived];
                        "Include archived IP assets"
                    }
                }
                div.field {
                    label for="f-compat" { "Format" }
                    select #f-compat name="compat" {
                        option value="native" { "This ipocket" }
                        option value="original" selected[original] { "Original ipocket (Python)" }
                    }
                }
            }
            h2 { "Files" }
            div.table-wrap { table.responsive.export-files {
                thead { tr { th scope="col" { "What" } th scope="col" { "Download" } } }
                tbody {
                    @for (label, files) in GROUPS {
                        tr {
                            td data-label="What" { (label) }
                            td data-label="Download" { div.actions {
                                @for file in files {
                                    button.secondary type="submit" formaction={"/ui/export/" (file)} { (file) }
                                }
                            } }
                        }
                    }
                }
            } }
        }
    };
    Ok(cx.page("Export", body))
}

pub(super) async fn download(cx: &Ctx<'_>, file: &str) -> UiAnswer {
    crate::handlers::data_ops::export_file(cx.state, cx.req, file).await
}
