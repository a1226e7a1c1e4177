//! The connector jobs store's conformance suite: every behaviour against both backends (a
//! SQLite file in a temporary folder, and a fresh database on the real PostgreSQL 15 the
//! testkit starts; these fail when PostgreSQL is missing).

use ipocket_connectors::jobs::{JobState, JobStore, NewJob, PLAN_ITEMS_KEPT};
use ipocket_db::{Backend, DbUrl};
use ipocket_testkit::postgres::FreshDatabase;
use serde_json::json;

/// A fresh, empty database on one backend.
struct Db {
    url: DbUrl,
    _fresh: FreshDatabase,
}

impl Db {
    fn new(b: Backend) -> Db {
        let fresh = match b {
            Backend::Sqlite => FreshDatabase::sqlite(),
            Backend::Postgres => FreshDatabase::postgres(),
        };
        Db {
            url: DbUrl::parse(&fresh.url).unwrap(),
            _fresh: fresh,
        }
    }

    /// A store on it (call again for another handle, as after a restart).
    fn store(&self) -> JobStore {
        JobStore::open_url(&self.url).unwrap()
    }
}

ipocket_testkit::on_both_backends!(
    a_job_goes_from_queued_to_done_with_its_log_and_plan,
    a_restart_interrupts_queued_and_running_jobs_only,
    only_the_jobs_of_stopped_replicas_are_orphaned,
    a_failure_is_logged_and_is_the_last_result,
    saving_a_config_again_replaces_it,
    jobs_from_two_handles_all_land,
);

fn new_job(inputs: &serde_json::Value) -> NewJob<'_> {
    NewJob {
        connector: "prometheus",
        mode: "apply",
        user_id: Some(2),
        username: "ed",
        inputs,
    }
}

fn a_job_goes_from_queued_to_done_with_its_log_and_plan(b: Backend) {
    let db = Db::new(b);
    let s = db.store();
    assert_eq!(s.backend(), b);
    let inputs = json!({"prometheus_url": "http://127.0.0.1:9090"});
    let id = s.create(&new_job(&inputs)).unwrap();
    let queued = s.job(id).unwrap().unwrap();
    assert_eq!(
        (queued.state, queued.user_id, queued.username.as_str()),
        (JobState::Queued, Some(2), "ed")
    );
    assert_eq!(queued.inputs, inputs);
    assert!(queued.created_at > 0 && queued.started_at.is_none());
    s.start(id).unwrap();
    s.append_log(id, "querying http://127.0.0.1:9090").unwrap();
    s.append_log(id, "it's 'quoted' and ünïcode").unwrap();
    let items: Vec<_> = (0..PLAN_ITEMS_KEPT + 2)
        .map(|i| json!({"key": i}))
        .collect();
    s.finish(id, "1 address: 1 create", json!({"items": items}))
        .unwrap();
    let job = s.job(id).unwrap().unwrap();
    assert_eq!(job.state, JobState::Done);
    assert_eq!(
        job.log,
        "querying http://127.0.0.1:9090\nit's 'quoted' and ünïcode\n"
    );
    assert_eq!(job.summary.as_deref(), Some("1 address: 1 create"));
    let plan = job.plan.unwrap();
    assert_eq!(plan["items"].as_array().unwrap().len(), PLAN_ITEMS_KEPT);
    assert_eq!(plan["items_left_out"], 2);
    assert!(job.finished_at.unwrap() >= job.started_at.unwrap());
    assert!(s.job(id + 1).unwrap().is_none());
}

fn a_restart_interrupts_queued_and_running_jobs_only(b: Backend) {
    let db = Db::new(b);
    let s = db.store();
    let inputs = json!({"query": "up"});
    let queued = s.create(&new_job(&inputs)).unwrap();
    let running = s.create(&new_job(&inputs)).unwrap();
    s.start(running).unwrap();
    let done = s.create(&new_job(&inputs)).unwrap();
    s.start(done).unwrap();
    s.finish(done, "ok", json!({"items": []})).unwrap();
    drop(s);
    let s = db.store();
    assert_eq!(s.interrupt_unfinished().unwrap(), 2);
    for id in [queued, running] {
        let j = s.job(id).unwrap().unwrap();
        assert_eq!(j.state, JobState::Interrupted);
        assert!(j.finished_at.is_some());
        assert_eq!(j.log, "interrupted: the server stopped\n");
        assert_eq!(
            j.error.as_deref(),
            Some("the server stopped before the job finished")
        );
    }
    assert_eq!(s.job(done).unwrap().unwrap().state, JobState::Done);
    assert_eq!(s.interrupt_unfinished().unwrap(), 0);
}

/// Several replicas: only the jobs of owners no longer alive are interrupted.
fn only_the_jobs_of_stopped_replicas_are_orphaned(b: Backend) {
    let db = Db::new(b);
    let inputs = json!({});
    let mut a = db.store();
    a.set_owner("ipocket serve a");
    let mut c = db.store();
    c.set_owner("ipocket serve c");
    let of_a = a.create(&new_job(&inputs)).unwrap();
    a.start(of_a).unwrap();
    let of_c = c.create(&new_job(&inputs)).unwrap();
    let ownerless = db.store().create(&new_job(&inputs)).unwrap();
    let alive = ["ipocket serve a".to_string(), "ipocket serve b".to_string()];
    assert_eq!(a.interrupt_orphans(&alive).unwrap(), 2);
    let state = |id| a.job(id).unwrap().unwrap().state;
    assert_eq!(state(of_a), JobState::Running);
    assert_eq!(state(of_c), JobState::Interrupted);
    assert_eq!(state(ownerless), JobState::Interrupted);
    assert_eq!(a.interrupt_orphans(&alive).unwrap(), 0);
    // nobody alive: every unfinished job
    assert_eq!(a.interrupt_orphans(&[]).unwrap(), 1);
    assert_eq!(state(of_a), JobState::Interrupted);
}

fn a_failure_is_logged_and_is_the_last_result(b: Backend) {
    let s = Db::new(b).store();
    let inputs = json!({});
    let id = s.create(&new_job(&inputs)).unwrap();
    s.start(id).unwrap();
    s.append_log(id, "querying x").unwrap();
    s.fail(id, "connection refused").unwrap();
    let j = s.last_result("prometheus").unwrap().unwrap();
    assert_eq!((j.id, j.state), (id, JobState::Failed));
    assert_eq!(j.log, "querying x\nerror: connection refused\n");
    assert!(s.last_result("vcenter").unwrap().is_none());
    let later = s.create(&new_job(&inputs)).unwrap();
    let recent = s.recent(10).unwrap();
    assert_eq!(
        recent.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![later, id],
        "newest first"
    );
    assert_eq!(s.recent(1).unwrap().len(), 1);
    assert_eq!(
        s.last_result("prometheus").unwrap().unwrap().id,
        id,
        "a queued job is no result"
    );
}

fn saving_a_config_again_replaces_it(b: Backend) {
    let s = Db::new(b).store();
    let a = s
        .save_config("prometheus", "lab", &json!({"query": "up"}), "ed")
        .unwrap();
    let b2 = s
        .save_config("prometheus", "lab", &json!({"query": "up2"}), "admin")
        .unwrap();
    assert_eq!(a, b2);
    let c = s.config(a).unwrap().unwrap();
    assert_eq!(
        (c.inputs["query"].as_str(), c.saved_by.as_str()),
        (Some("up2"), "admin")
    );
    let v = s
        .save_config("vcenter", "lab", &json!({"url": "https://127.0.0.1"}), "ed")
        .unwrap();
    assert_ne!(v, a, "the name is unique per connector");
    let all: Vec<_> = s
        .configs()
        .unwrap()
        .into_iter()
        .map(|c| c.connector)
        .collect();
    assert_eq!(all, ["prometheus", "vcenter"]);
    assert!(s.delete_config(a).unwrap());
    assert!(!s.delete_config(a).unwrap());
    assert!(s.config(a).unwrap().is_none());
}

fn jobs_from_two_handles_all_land(b: Backend) {
    let db = Db::new(b);
    let inputs = json!({});
    std::thread::scope(|scope| {
        for _ in 0..2 {
            let s = db.store();
            let inputs = &inputs;
            scope.spawn(move || {
                for i in 0..10 {
                    let id = s.create(&new_job(inputs)).unwrap();
                    s.append_log(id, &format!("line {i}")).unwrap();
                }
            });
        }
    });
    let all = db.store().recent(100).unwrap();
    assert_eq!(all.len(), 20);
    assert!(all.iter().all(|j| j.log.starts_with("line ")));
}
