//! The asset query on both backends: every filter (address and prefix, project, type, host,
//! tags, archived state, free-text search with its case-insensitivity and literal `%` / `_`),
//! every sort, paging totals, and the same listings from both backends for the same data.
//!
//! Projects and hosts are written with plain SQL: their operations are converted to both
//! backends elsewhere.

use ipocket_core::{
    Actor, ArchivedFilter, AssetFilter, AssetSort, AssetSortField, AssetType, Error, Inventory,
    IpAsset, NewIpAsset, Page, ProjectFilter,
};
use ipocket_db::{Backend, Database};

use crate::{fresh, Db};

/// Runs one statement on `db` through a connection of its own.
fn exec(db: &Db, sql: &str) {
    let d = Database::open(&db.url, &[]).unwrap();
    d.write(0, |c| c.execute(sql, &[])).unwrap();
}

/// Ids of the projects and hosts of [`inventory_with_assets`].
struct Ids {
    alpha: i64,
    beta: i64,
}

/// Address, type, project, host, tags, notes, day of the last update.
type AssetRow = (
    &'static str,
    AssetType,
    Option<i64>,
    Option<i64>,
    &'static [&'static str],
    Option<&'static str>,
    &'static str,
);

/// Six active assets and an archived one, each with its own update time:
///
/// | address     | type  | project | host      | tags          | notes        | updated |
/// |-------------|-------|---------|-----------|---------------|--------------|---------|
/// | 10.0.0.1    | VM    | alpha   | db_1      | prod          | Rack SEVEN   | 01-05   |
/// | 10.0.0.2    | OS    | Beta    | dbx1      | prod, web     | 100% busy    | 01-03   |
/// | 10.0.0.3    | VM    | —       | —         | —             | old (archived) | 01-06 |
/// | 10.0.0.10   | VIP   | —       | —         | web           | 100 busy     | 01-01   |
/// | 10.0.1.5    | VIP   | alpha   | Edge-Node | —             | —            | 01-04   |
/// | 2001:db8::1 | VM    | —       | —         | edge_1        | v6           | 01-02   |
/// | 2001:db8::a | OTHER | Beta    | —         | edgex1        | —            | 01-03   |
fn inventory_with_assets(b: Backend) -> (Db, Inventory, Ids) {
    let (db, mut inv) = fresh(b);
    exec(
        &db,
        "INSERT INTO projects (name) VALUES ('alpha'), ('Beta')",
    );
    exec(
        &db,
        "INSERT INTO hosts (name) VALUES ('db_1'), ('dbx1'), ('Edge-Node')",
    );
    let id = |table: &str, name: &str| {
        db.count(&format!("SELECT id FROM {table} WHERE name = '{name}'"))
    };
    let ids = Ids {
        alpha: id("projects", "alpha"),
        beta: id("projects", "Beta"),
    };
    let (db_1, dbx1, edge) = (
        id("hosts", "db_1"),
        id("hosts", "dbx1"),
        id("hosts", "Edge-Node"),
    );
    let rows: [AssetRow; 7] = [
        (
            "10.0.0.1",
            AssetType::Vm,
            Some(ids.alpha),
            Some(db_1),
            &["prod"],
            Some("Rack SEVEN"),
            "05",
        ),
        (
            "10.0.0.2",
            AssetType::Os,
            Some(ids.beta),
            Some(dbx1),
            &["prod", "web"],
            Some("100% busy"),
            "03",
        ),
        (
            "10.0.0.3",
            AssetType::Vm,
            None,
            None,
            &[],
            Some("old"),
            "06",
        ),
        (
            "10.0.0.10",
            AssetType::Vip,
            None,
            None,
            &["web"],
            Some("100 busy"),
            "01",
        ),
        (
            "10.0.1.5",
            AssetType::Vip,
            Some(ids.alpha),
            Some(edge),
            &[],
            None,
            "04",
        ),
        (
            "2001:db8::1",
            AssetType::Vm,
            None,
            None,
            &["edge_1"],
            Some("v6"),
            "02",
        ),
        (
            "2001:DB8::A",
            AssetType::Other,
            Some(ids.beta),
            None,
            &["edgex1"],
            None,
            "03",
        ),
    ];
    for (ip, t, project, host, tags, notes, day) in rows {
        inv.set_fixed_time(Some(format!("2026-01-{day} 12:00:00")));
        let mut n = NewIpAsset::new(ip, t);
        n.project_id = project;
        n.host_id = host;
        n.tags = tags.iter().map(|t| t.to_string()).collect();
        n.notes = notes.map(str::to_string);
        inv.create_ip_asset(&Actor::system(), &n).unwrap();
    }
    inv.set_fixed_time(Some("2026-01-06 12:00:00".into()));
    inv.archive_ip_asset(&Actor::system(), "10.0.0.3").unwrap();
    inv.set_fixed_time(None);
    (db, inv, ids)
}

fn addresses(items: &[IpAsset]) -> Vec<&str> {
    items.iter().map(|a| a.ip_address.as_str()).collect()
}

fn listed(inv: &Inventory, f: &AssetFilter) -> Vec<String> {
    let page = inv.list_ip_assets(f, Page::all()).unwrap();
    assert_eq!(page.total as usize, page.items.len(), "{f:?}");
    addresses(&page.items)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Every filter, alone or combined, with the addresses it lists.
fn filters(ids: &Ids) -> Vec<(AssetFilter, Vec<&'static str>)> {
    let f = AssetFilter::default;
    let text = |q: &str| AssetFilter {
        text: Some(q.into()),
        ..f()
    };
    let ip = |q: &str| AssetFilter {
        ip: Some(q.into()),
        ..f()
    };
    let project = |p: ProjectFilter| AssetFilter {
        project: Some(p),
        ..f()
    };
    let host = |h: &str| AssetFilter {
        host: Some(h.into()),
        ..f()
    };
    let tags = |any: &[&str], all: &[&str], not: &[&str]| AssetFilter {
        tags_any: any.iter().map(|t| t.to_string()).collect(),
        tags_all: all.iter().map(|t| t.to_string()).collect(),
        tags_not: not.iter().map(|t| t.to_string()).collect(),
        ..f()
    };
    let archived = |a: ArchivedFilter| AssetFilter { archived: a, ..f() };
    vec![
        (
            f(),
            vec![
                "10.0.0.1",
                "10.0.0.2",
                "10.0.0.10",
                "10.0.1.5",
                "2001:db8::1",
                "2001:db8::a",
            ],
        ),
        (ip("10.0.0.2"), vec!["10.0.0.2"]),
        (ip("10.0.0.0/24"), vec!["10.0.0.1", "10.0.0.2", "10.0.0.10"]),
        (
            ip("::ffff:10.0.0.0/120"),
            vec!["10.0.0.1", "10.0.0.2", "10.0.0.10"],
        ),
        (ip("2001:db8::/64"), vec!["2001:db8::1", "2001:db8::a"]),
        (ip("10.0.0.3"), vec![]),
        (
            project(ProjectFilter::Id(ids.alpha)),
            vec!["10.0.0.1", "10.0.1.5"],
        ),
        (
            project(ProjectFilter::Name("Beta".into())),
            vec!["10.0.0.2", "2001:db8::a"],
        ),
        (project(ProjectFilter::Name("beta".into())), vec![]),
        (project(ProjectFilter::Name("a\0b".into())), vec![]),
        (
            project(ProjectFilter::Unassigned),
            vec!["10.0.0.10", "2001:db8::1"],
        ),
        (
            AssetFilter {
                unassigned_only: true,
                ..f()
            },
            vec!["10.0.0.10", "2001:db8::1"],
        ),
        (
            AssetFilter {
                asset_type: Some(AssetType::Vm),
                ..f()
            },
            vec!["10.0.0.1", "2001:db8::1"],
        ),
        (
            AssetFilter {
                asset_type: Some(AssetType::Vip),
                ..f()
            },
            vec!["10.0.0.10", "10.0.1.5"],
        ),
        (host("db_1"), vec!["10.0.0.1"]),
        (host("DB_1"), vec![]),
        (host("Edge-Node"), vec!["10.0.1.5"]),
        (host("x\0"), vec![]),
        (
            tags(&["web", "edge_1"], &[], &[]),
            vec!["10.0.0.2", "10.0.0.10", "2001:db8::1"],
        ),
        (tags(&[], &["prod", "web"], &[]), vec!["10.0.0.2"]),
        (
            tags(&[], &["prod", "PROD"], &[]),
            vec!["10.0.0.1", "10.0.0.2"],
        ),
        (
            tags(&[], &[], &["prod"]),
            vec!["10.0.0.10", "10.0.1.5", "2001:db8::1", "2001:db8::a"],
        ),
        (tags(&["prod"], &[], &["web"]), vec!["10.0.0.1"]),
        (archived(ArchivedFilter::Archived), vec!["10.0.0.3"]),
        (
            archived(ArchivedFilter::All),
            vec![
                "10.0.0.1",
                "10.0.0.2",
                "10.0.0.3",
                "10.0.0.10",
                "10.0.1.5",
                "2001:db8::1",
                "2001:db8::a",
            ],
        ),
        // Free text: notes, host, project, tag and address, case-insensitive.
        (text("seven"), vec!["10.0.0.1"]),
        (text("  rACK "), vec!["10.0.0.1"]),
        (text("BETA"), vec!["10.0.0.2", "2001:db8::a"]),
        (text("edge"), vec!["10.0.1.5", "2001:db8::1", "2001:db8::a"]),
        (text("WEB"), vec!["10.0.0.2", "10.0.0.10"]),
        (text("10.0.0.1"), vec!["10.0.0.1", "10.0.0.10"]),
        (text("::FFFF:10.0.0.2"), vec!["10.0.0.2"]),
        (text("2001:DB8::A"), vec!["2001:db8::a"]),
        // `%` and `_` are themselves, not wildcards.
        (text("100%"), vec!["10.0.0.2"]),
        (text("100"), vec!["10.0.0.2", "10.0.0.10"]),
        (text("db_1"), vec!["10.0.0.1"]),
        (text("edge_1"), vec!["2001:db8::1"]),
        (text("%"), vec!["10.0.0.2"]),
        (text("old"), vec![]),
        (
            AssetFilter {
                text: Some("old".into()),
                archived: ArchivedFilter::All,
                ..f()
            },
            vec!["10.0.0.3"],
        ),
        (
            AssetFilter {
                project: Some(ProjectFilter::Id(ids.alpha)),
                text: Some("rack".into()),
                ..f()
            },
            vec!["10.0.0.1"],
        ),
        (
            AssetFilter {
                ip: Some("10.0.0.0/8".into()),
                tags_any: vec!["web".into()],
                asset_type: Some(AssetType::Os),
                host: Some("dbx1".into()),
                project: Some(ProjectFilter::Name("Beta".into())),
                ..f()
            },
            vec!["10.0.0.2"],
        ),
    ]
}

fn every_filter_lists_its_assets(b: Backend) {
    let (_db, inv, ids) = inventory_with_assets(b);
    for (f, want) in filters(&ids) {
        assert_eq!(listed(&inv, &f), want, "{f:?}");
        let mut streamed = Vec::new();
        inv.for_each_ip_asset(&f, |a| {
            streamed.push(a.ip_address);
            Ok(())
        })
        .unwrap();
        assert_eq!(streamed, want, "for_each_ip_asset {f:?}");
    }
    let a = inv
        .list_ip_assets(
            &AssetFilter {
                ip: Some("10.0.0.1".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .unwrap()
        .items
        .remove(0);
    assert_eq!(
        (
            a.project_name.as_deref(),
            a.host_name.as_deref(),
            a.tags,
            a.notes.as_deref(),
            a.updated_at.as_str()
        ),
        (
            Some("alpha"),
            Some("db_1"),
            vec!["prod".to_string()],
            Some("Rack SEVEN"),
            "2026-01-05 12:00:00"
        )
    );
}

fn bad_filters_are_refused_with_the_field(b: Backend) {
    let (_db, inv, _) = inventory_with_assets(b);
    let field = |f: AssetFilter| match inv.list_ip_assets(&f, Page::default()) {
        Err(Error::Invalid { field, .. }) => field,
        other => panic!("{f:?}: {other:?}"),
    };
    let ip = |q: &str| AssetFilter {
        ip: Some(q.into()),
        ..Default::default()
    };
    assert_eq!(field(ip("10.0.0.0/40")), "ip");
    assert_eq!(field(ip("nope")), "ip_address");
    assert_eq!(
        field(AssetFilter {
            tags_any: vec!["not a tag".into()],
            ..Default::default()
        }),
        "tag"
    );
    // A NUL would cut SQLite's pattern short and cannot be PostgreSQL text.
    for q in ["\0", "a\0", "\0zz", "10.0.0.1\0"] {
        assert_eq!(
            field(AssetFilter {
                text: Some(q.into()),
                ..Default::default()
            }),
            "q",
            "{q:?}"
        );
    }
}

/// The expected order of each sort over the six active assets.
const SORTED: [(AssetSortField, bool, [&str; 6]); 10] = {
    use AssetSortField::*;
    [
        (
            Address,
            false,
            [
                "10.0.0.1",
                "10.0.0.2",
                "10.0.0.10",
                "10.0.1.5",
                "2001:db8::1",
                "2001:db8::a",
            ],
        ),
        (
            Address,
            true,
            [
                "2001:db8::a",
                "2001:db8::1",
                "10.0.1.5",
                "10.0.0.10",
                "10.0.0.2",
                "10.0.0.1",
            ],
        ),
        // Text sorts bytewise on both (the test PostgreSQL's locale is C): `Beta` < `alpha`.
        (
            Type,
            false,
            [
                "10.0.0.2",
                "2001:db8::a",
                "10.0.0.10",
                "10.0.1.5",
                "10.0.0.1",
                "2001:db8::1",
            ],
        ),
        (
            Type,
            true,
            [
                "10.0.0.1",
                "2001:db8::1",
                "10.0.0.10",
                "10.0.1.5",
                "2001:db8::a",
                "10.0.0.2",
            ],
        ),
        (
            Project,
            false,
            [
                "10.0.0.2",
                "2001:db8::a",
                "10.0.0.1",
                "10.0.1.5",
                "10.0.0.10",
                "2001:db8::1",
            ],
        ),
        (
            Project,
            true,
            [
                "10.0.0.1",
                "10.0.1.5",
                "10.0.0.2",
                "2001:db8::a",
                "10.0.0.10",
                "2001:db8::1",
            ],
        ),
        (
            Host,
            false,
            [
                "10.0.1.5",
                "10.0.0.1",
                "10.0.0.2",
                "10.0.0.10",
                "2001:db8::1",
                "2001:db8::a",
            ],
        ),
        (
            Host,
            true,
            [
                "10.0.0.2",
                "10.0.0.1",
                "10.0.1.5",
                "10.0.0.10",
                "2001:db8::1",
                "2001:db8::a",
            ],
        ),
        (
            Updated,
            false,
            [
                "10.0.0.10",
                "2001:db8::1",
                "10.0.0.2",
                "2001:db8::a",
                "10.0.1.5",
                "10.0.0.1",
            ],
        ),
        (
            Updated,
            true,
            [
                "10.0.0.1",
                "10.0.1.5",
                "10.0.0.2",
                "2001:db8::a",
                "2001:db8::1",
                "10.0.0.10",
            ],
        ),
    ]
};

fn every_sort_orders_its_column_and_pages_keep_the_total(b: Backend) {
    let (_db, inv, ids) = inventory_with_assets(b);
    let f = AssetFilter::default();
    for (field, descending, want) in SORTED {
        let sort = AssetSort { field, descending };
        let all = inv.list_ip_assets_sorted(&f, sort, Page::all()).unwrap();
        assert_eq!(
            (addresses(&all.items), all.total),
            (want.to_vec(), 6),
            "{sort:?}"
        );
        let mut paged = Vec::new();
        for offset in [0, 4, 8] {
            let page = inv
                .list_ip_assets_sorted(&f, sort, Page { offset, limit: 4 })
                .unwrap();
            assert_eq!(page.total, 6, "{sort:?} at {offset}");
            paged.extend(page.items);
        }
        assert_eq!(paged, all.items, "{sort:?}: the pages make the whole list");
    }
    // A filtered listing counts the matches, not the page.
    let beta = AssetFilter {
        project: Some(ProjectFilter::Id(ids.beta)),
        ..Default::default()
    };
    let by_host = AssetSort {
        field: AssetSortField::Host,
        descending: false,
    };
    let page = inv
        .list_ip_assets_sorted(
            &beta,
            by_host,
            Page {
                offset: 1,
                limit: 1,
            },
        )
        .unwrap();
    assert_eq!(
        (addresses(&page.items), page.total),
        (vec!["2001:db8::a"], 2)
    );
    let past = inv.list_ip_assets(&beta, Page::number(3, 1)).unwrap();
    assert_eq!((past.items.len(), past.total), (0, 2));
    let first = inv.list_ip_assets(&f, Page::number(2, 4)).unwrap();
    assert_eq!(
        (addresses(&first.items), first.total),
        (vec!["2001:db8::1", "2001:db8::a"], 6)
    );
}

/// The same data on SQLite and on PostgreSQL lists the same assets, field for field, under
/// every filter and every sort.
#[test]
fn both_backends_list_the_same_assets() {
    let (_s, sqlite, ids) = inventory_with_assets(Backend::Sqlite);
    let (_p, postgres, pg_ids) = inventory_with_assets(Backend::Postgres);
    assert_eq!((ids.alpha, ids.beta), (pg_ids.alpha, pg_ids.beta));
    let mut created = Vec::new();
    for inv in [&sqlite, &postgres] {
        let all = AssetFilter {
            archived: ArchivedFilter::All,
            ..Default::default()
        };
        let items = inv.list_ip_assets(&all, Page::all()).unwrap().items;
        created.push(items.into_iter().map(|a| a.created_at).collect::<Vec<_>>());
    }
    assert_eq!(created[0], created[1], "the fixed times were stored alike");
    for (f, _) in filters(&ids) {
        for (field, descending, _) in SORTED {
            let sort = AssetSort { field, descending };
            for page in [
                Page::all(),
                Page {
                    offset: 2,
                    limit: 3,
                },
            ] {
                let s = sqlite.list_ip_assets_sorted(&f, sort, page).unwrap();
                let p = postgres.list_ip_assets_sorted(&f, sort, page).unwrap();
                assert_eq!(s, p, "{f:?} {sort:?} {page:?}");
            }
        }
    }
}

ipocket_testkit::on_both_backends!(
    every_filter_lists_its_assets,
    bad_filters_are_refused_with_the_field,
    every_sort_orders_its_column_and_pages_keep_the_total,
);
