//! Rule reload and verification through the real Prometheus behind TLS and Basic auth
//! (`--web.config.file`, a self-signed certificate made with `openssl`). Fails (never
//! skips) when /usr/bin/prometheus, promtool or openssl is missing.

use std::collections::BTreeMap;
use std::time::Duration;

use ipocket_rulegen::{
    reload_from_settings_with, status_from_settings_with, Auth, ConnectOptions, Error, NewRule,
    NewTemplate, PrometheusClient, RuleGenerator, RuleStore,
};
use ipocket_testkit::rules::{Prometheus, PROMTOOL};
use ipocket_testkit::runtime;

/// One group with one rule, its settings pointing at `prom`.
fn store_for(prom: &Prometheus) -> RuleStore {
    let s = RuleStore::open_in_memory().unwrap();
    let prod = s.create_group("prod", "").unwrap();
    let t = s
        .create_template(&NewTemplate {
            name: "Up".into(),
            query_template: "up{group_id=\"{{.group_id}}\"} == 0".into(),
            default_vars: BTreeMap::new(),
            ..Default::default()
        })
        .unwrap();
    s.create_rule(&NewRule::new(prod.id, t.id)).unwrap();
    s.set_setting("rule_dir", prom.rules_dir.to_str().unwrap())
        .unwrap();
    s.set_setting("prometheus_url", &prom.url).unwrap();
    s.set_setting("promtool", PROMTOOL).unwrap();
    s
}

fn client(prom: &Prometheus, token: Option<&str>) -> PrometheusClient {
    PrometheusClient::new(&prom.url)
        .unwrap()
        .with_retries(1, Duration::from_millis(10))
        .with_ca_file(&prom.cert_file())
        .unwrap()
        .with_auth(token.map(Auth::from_token))
}

#[test]
fn reload_and_verify_over_https_with_basic_auth() {
    let prom = Prometheus::start_tls();
    assert!(prom.url.starts_with("https://"), "{}", prom.url);
    let store = store_for(&prom);
    let settings = store.settings().unwrap();
    let generator = RuleGenerator::from_settings(&settings).unwrap();
    generator.generate(&store, None, false).unwrap();
    let rt = runtime();

    let c = client(&prom, Some("prom_user:prom_pass"));
    let report = rt
        .block_on(c.reload_and_confirm(&["ipocket/prod".to_string()]))
        .unwrap_or_else(|e| panic!("{e}\nlog:\n{}", prom.log()));
    assert_eq!(report.attempts, 1);
    assert_eq!(report.confirmed_groups, vec!["ipocket/prod".to_string()]);
    let groups = rt.block_on(c.rule_groups()).unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].name, "ipocket/prod");
    assert_eq!(groups[0].rules, vec!["Up".to_string()]);
    let st = rt.block_on(c.status());
    assert!(st.reachable && st.healthy && st.ready, "{st:?}");
    assert!(st.version.is_some(), "{st:?}");

    // The same through the settings, as the CLI and the server call it.
    let options =
        ConnectOptions::from_flags(Some("prom_user:prom_pass"), Some(prom.cert_file()), false);
    let r = rt
        .block_on(reload_from_settings_with(&settings, &options))
        .unwrap();
    assert_eq!(r.confirmed_groups, vec!["ipocket/prod".to_string()]);
    let st = rt
        .block_on(status_from_settings_with(&settings, &options))
        .unwrap();
    assert!(st.healthy && st.ready, "{st:?}");

    // --insecure instead of the CA file.
    let insecure = ConnectOptions::from_flags(Some("prom_user:prom_pass"), None, true);
    let st = rt
        .block_on(status_from_settings_with(&settings, &insecure))
        .unwrap();
    assert!(st.healthy && st.ready, "{st:?}");
}

#[test]
fn wrong_password_missing_auth_and_untrusted_certificate_are_clear_errors() {
    let prom = Prometheus::start_tls();
    let rt = runtime();

    for token in [Some("prom_user:wrong-pass"), Some("bearer-secret"), None] {
        let c = client(&prom, token);
        let e = rt.block_on(c.reload()).unwrap_err();
        assert!(
            matches!(e, Error::Unauthorized { status: 401, .. }),
            "{e:?}"
        );
        let text = format!("{e} {e:?}");
        assert!(
            text.contains("401") && text.contains("credentials"),
            "{text}"
        );
        assert!(
            !text.contains("wrong-pass") && !text.contains("bearer-secret"),
            "{text}"
        );
        let e = rt.block_on(c.rule_groups()).unwrap_err();
        assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
        let st = rt.block_on(c.status());
        assert!(st.reachable && !st.healthy && !st.ready, "{st:?}");
        assert!(st.detail.as_deref().unwrap_or("").contains("401"), "{st:?}");
    }

    // Without the CA file the self-signed certificate is refused.
    let c = PrometheusClient::new(&prom.url)
        .unwrap()
        .with_retries(1, Duration::from_millis(10))
        .with_auth(Some(Auth::from_token("prom_user:prom_pass")));
    let e = rt.block_on(c.reload()).unwrap_err();
    assert!(matches!(e, Error::Http { .. }), "{e:?}");
    assert!(e.to_string().contains("certificate"), "{e}");
    let st = rt.block_on(c.status());
    assert!(!st.reachable, "{st:?}");

    // A CA file that is not PEM is refused up front.
    let e = PrometheusClient::new(&prom.url)
        .unwrap()
        .with_ca_file(&prom.rules_dir)
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
}
