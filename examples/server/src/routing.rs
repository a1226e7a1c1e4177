//! Method + path → handler. Returns the route pattern (for metrics and logs) and the response.

use hyper::{Method, Response, StatusCode};

use super::errors::ApiError;
use super::handlers::alerting::{self, Kind};
use super::handlers::catalog::{self, Collection};
use super::handlers::{
    api_tokens, assets, connectors, data_ops, ingest, liveness, previews, prometheus_rules,
    range_map, session, system, users,
};
use super::http::{bytes_response, error_response, ApiRequest, Body};
use super::AppState;

/// The OpenAPI document of every route below (a test keeps the two in step).
const OPENAPI: &str = include_str!("openapi.json");

pub(crate) async fn route(state: &AppState, req: ApiRequest) -> (&'static str, Response<Body>) {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let m = &req.method;
    let get = *m == Method::GET || *m == Method::HEAD;
    let post = *m == Method::POST;
    let (route, result) = match segs.as_slice() {
        [] if get => ("/", Ok(crate::ui::home())),
        ["ui", rest @ ..] => {
            let (route, response) = crate::ui::route(state, &req, rest).await;
            (route, Ok(response))
        }
        ["health"] if get => ("/health", system::health(state).await),
        ["metrics"] if get => ("/metrics", system::metrics(state, &req).await),
        ["sd", "node"] if get => ("/sd/node", system::sd_node(state, &req).await),
        ["api", "v1", "sd"] if get => ("/api/v1/sd", system::http_sd(state, &req).await),
        ["metrics", "prometheus"] if post => {
            ("/metrics/prometheus", ingest::push(state, &req).await)
        }
        ["metrics", "prometheus", "health"] if get => {
            ("/metrics/prometheus/health", ingest::health(state).await)
        }
        ["api", "v1", "openapi.json"] if get => (
            "/api/v1/openapi.json",
            Ok(bytes_response(
                StatusCode::OK,
                "application/json",
                OPENAPI.as_bytes().to_vec(),
            )),
        ),
        ["api", "v1", rest @ ..] => api_v1(state, &req, rest).await,
        ["health"]
        | ["metrics"]
        | ["sd", "node"]
        | ["metrics", "prometheus"]
        | ["metrics", "prometheus", "health"] => ("(method)", Err(ApiError::method_not_allowed())),
        _ => ("(unmatched)", Err(ApiError::not_found("no such endpoint"))),
    };
    let mut response = result.unwrap_or_else(|e| {
        crate::auth::audit_refusal(state, &req, route, &e);
        error_response(&e)
    });
    if *m == Method::HEAD {
        *response.body_mut() = Body::default();
    }
    (route, response)
}

async fn api_v1(
    state: &AppState,
    req: &ApiRequest,
    rest: &[&str],
) -> (&'static str, Result<Response<Body>, ApiError>) {
    let m = &req.method;
    match (m, rest) {
        (&Method::POST, ["auth", "login"]) => {
            ("/api/v1/auth/login", session::login(state, req).await)
        }
        (&Method::POST, ["auth", "logout"]) => {
            ("/api/v1/auth/logout", session::logout(state, req).await)
        }
        (&Method::GET, ["auth", "me"]) => ("/api/v1/auth/me", session::me(state, req).await),
        (&Method::GET, ["auth", "sessions"]) => {
            ("/api/v1/auth/sessions", session::sessions(state, req).await)
        }
        (&Method::DELETE, ["auth", "sessions", id]) => (
            "/api/v1/auth/sessions/{id}",
            session::revoke(state, req, id).await,
        ),

        (&Method::GET, ["ip-assets"]) => ("/api/v1/ip-assets", assets::list(state, req).await),
        (&Method::POST, ["ip-assets"]) => ("/api/v1/ip-assets", assets::create(state, req).await),
        (&Method::GET, ["ip-assets", ip]) => {
            ("/api/v1/ip-assets/{ip}", assets::get(state, req, ip).await)
        }
        (&Method::PATCH, ["ip-assets", ip]) => (
            "/api/v1/ip-assets/{ip}",
            assets::update(state, req, ip).await,
        ),
        (&Method::DELETE, ["ip-assets", ip]) => (
            "/api/v1/ip-assets/{ip}",
            assets::delete(state, req, ip).await,
        ),
        (&Method::POST, ["ip-assets", ip, "archive"]) => (
            "/api/v1/ip-assets/{ip}/archive",
            assets::archive(state, req, ip, true).await,
        ),
        (&Method::POST, ["ip-assets", ip, "restore"]) => (
            "/api/v1/ip-assets/{ip}/restore",
            assets::archive(state, req, ip, false).await,
        ),

        (&Method::POST, ["import"]) => ("/api/v1/import", data_ops::import(state, req).await),
        (&Method::GET, ["export", file]) => (
            "/api/v1/export/{file}",
            data_ops::export(state, req, file).await,
        ),

        (&Method::GET, ["users"]) => ("/api/v1/users", users::list(state, req).await),
        (&Method::POST, ["users"]) => ("/api/v1/users", users::create(state, req).await),
        (&Method::PATCH, ["users", id]) => {
            ("/api/v1/users/{id}", users::update(state, req, id).await)
        }
        (&Method::DELETE, ["users", id]) => {
            ("/api/v1/users/{id}", users::delete(state, req, id).await)
        }
        (&Method::GET, ["tokens"]) => ("/api/v1/tokens", api_tokens::list(state, req).await),
        (&Method::POST, ["tokens"]) => ("/api/v1/tokens", api_tokens::create(state, req).await),
        (&Method::DELETE, ["tokens", id]) => (
            "/api/v1/tokens/{id}",
            api_tokens::revoke(state, req, id).await,
        ),
        (&Method::POST, ["auth", "password"]) => (
            "/api/v1/auth/password",
            users::change_own_password(state, req).await,
        ),

        (&Method::GET, ["servers"]) => ("/api/v1/servers", ingest::servers(state, req).await),
        (&Method::POST, ["servers"]) => ("/api/v1/servers", ingest::register(state, req).await),
        (&Method::GET, ["servers", id, "summary"]) => (
            "/api/v1/servers/{server_id}/summary",
            ingest::summary(state, req, id).await,
        ),

        (&Method::GET, ["servers", id, "samples"]) => (
            "/api/v1/servers/{server_id}/samples",
            ingest::samples(state, req, id).await,
        ),

        (&Method::POST, ["connectors", "prometheus"]) => (
            "/api/v1/connectors/prometheus",
            connectors::prometheus(state, req).await,
        ),
        (&Method::POST, ["connectors", "vcenter"]) => (
            "/api/v1/connectors/vcenter",
            connectors::vcenter(state, req).await,
        ),

        (&Method::GET, ["liveness"]) => ("/api/v1/liveness", liveness::liveness(state, req).await),
        (&Method::GET, ["reconcile"]) => ("/api/v1/reconcile", liveness::lists(state, req).await),
        (&Method::POST, ["reconcile", "apply"]) => {
            ("/api/v1/reconcile/apply", liveness::apply(state, req).await)
        }

        // the SD and alert-rule previews (issue #21)
        (&Method::GET, ["sd", "preview"]) => {
            ("/api/v1/sd/preview", previews::sd_preview(state, req).await)
        }
        (&Method::GET, ["alert-rules", rid, "preview"]) => (
            "/api/v1/alert-rules/{id}/preview",
            previews::rule_preview(state, req, rid).await,
        ),

        (&Method::POST, ["prometheus", "rules", "regenerate"]) => (
            "/api/v1/prometheus/rules/regenerate",
            prometheus_rules::regenerate(state, req, None).await,
        ),
        (&Method::POST, ["prometheus", "rules", "regenerate", group]) => (
            "/api/v1/prometheus/rules/regenerate/{group_id}",
            prometheus_rules::regenerate(state, req, Some(group)).await,
        ),
        (&Method::GET, ["prometheus", "rules", "files"]) => (
            "/api/v1/prometheus/rules/files",
            prometheus_rules::files(state, req).await,
        ),
        (&Method::GET, ["prometheus", "rules", "effective", target]) => (
            "/api/v1/prometheus/rules/effective/{target_id}",
            prometheus_rules::effective(state, req, target).await,
        ),
        (&Method::POST, ["prometheus", "reload"]) => (
            "/api/v1/prometheus/reload",
            prometheus_rules::reload(state, req).await,
        ),
        (&Method::GET, ["prometheus", "status"]) => (
            "/api/v1/prometheus/status",
            prometheus_rules::status(state, req).await,
        ),

        (&Method::GET, [name]) if Kind::from_segment(name).is_some() => {
            let k = Kind::from_segment(name).unwrap_or(Kind::Templates);
            (k.collection_route(), alerting::list(state, req, k).await)
        }
        (&Method::POST, [name]) if Kind::from_segment(name).is_some() => {
            let k = Kind::from_segment(name).unwrap_or(Kind::Templates);
            (
                k.collection_route(),
                alerting::save(state, req, k, None).await,
            )
        }
        (&Method::GET, [name, rid]) if Kind::from_segment(name).is_some() => {
            let k = Kind::from_segment(name).unwrap_or(Kind::Templates);
            (k.item_route(), alerting::get(state, req, k, rid).await)
        }
        (&Method::PUT, [name, rid]) if Kind::from_segment(name).is_some() => {
            let k = Kind::from_segment(name).unwrap_or(Kind::Templates);
            (
                k.item_route(),
                alerting::save(state, req, k, Some(rid)).await,
            )
        }
        (&Method::DELETE, [name, rid]) if Kind::from_segment(name).is_some() => {
            let k = Kind::from_segment(name).unwrap_or(Kind::Templates);
            (k.item_route(), alerting::delete(state, req, k, rid).await)
        }

        (&Method::GET, ["hosts", host_id]) => (
            "/api/v1/hosts/{id}",
            catalog::host(state, req, host_id).await,
        ),
        (&Method::GET, ["ranges", "utilization"]) => (
            "/api/v1/ranges/utilization",
            range_map::all_utilizations(state, req).await,
        ),
        // Before the collections' `ranges/{id}`, which would take "utilization" for an id.
        (_, ["ranges", "utilization"]) => ("(method)", Err(ApiError::method_not_allowed())),
        (&Method::GET, ["ranges", range_id, "utilization"]) => (
            "/api/v1/ranges/{id}/utilization",
            range_map::one_utilization(state, req, range_id).await,
        ),
        (&Method::GET, ["ranges", range_id, "map"]) => (
            "/api/v1/ranges/{id}/map",
            range_map::map(state, req, range_id).await,
        ),
        (&Method::GET, ["ranges", range_id, "next-free"]) => (
            "/api/v1/ranges/{id}/next-free",
            range_map::next_free(state, req, range_id).await,
        ),
        (&Method::GET, ["ranges", range_id, "addresses"]) => (
            "/api/v1/ranges/{id}/addresses",
            catalog::range_addresses(state, req, range_id).await,
        ),
        (&Method::POST, ["ranges", range_id, "allocate"]) => (
            "/api/v1/ranges/{id}/allocate",
            catalog::range_allocate(state, req, range_id).await,
        ),
        (&Method::GET, [name, rid]) if Collection::from_segment(name).is_some() => {
            let c = Collection::from_segment(name).unwrap_or(Collection::Projects);
            (item_route(c), catalog::one(state, req, c, rid).await)
        }
        (&Method::PATCH, [name, rid]) if Collection::from_segment(name).is_some() => {
            let c = Collection::from_segment(name).unwrap_or(Collection::Projects);
            (item_route(c), catalog::update(state, req, c, rid).await)
        }
        (&Method::DELETE, [name, rid]) if Collection::from_segment(name).is_some() => {
            let c = Collection::from_segment(name).unwrap_or(Collection::Projects);
            (item_route(c), catalog::delete(state, req, c, rid).await)
        }
        (&Method::GET, ["audit-log"]) => {
            ("/api/v1/audit-log", catalog::audit_log(state, req).await)
        }
        (&Method::GET, [name]) if Collection::from_segment(name).is_some() => {
            let c = Collection::from_segment(name).unwrap_or(Collection::Projects);
            (collection_route(c), catalog::list(state, req, c).await)
        }
        (&Method::POST, [name]) if Collection::from_segment(name).is_some() => {
            let c = Collection::from_segment(name).unwrap_or(Collection::Projects);
            (collection_route(c), catalog::create(state, req, c).await)
        }

        (_, ["auth", "login" | "logout" | "me" | "password" | "sessions"])
        | (_, ["auth", "sessions", _])
        | (_, ["users", _])
        | (_, ["projects" | "vendors" | "tags" | "hosts" | "ranges", _])
        | (_, ["ranges", _, "utilization" | "map" | "next-free" | "addresses" | "allocate"])
        | (_, ["audit-log"])
        | (_, ["projects" | "vendors" | "tags" | "hosts" | "ranges"])
        | (_, ["ip-assets"])
        | (_, ["ip-assets", _])
        | (_, ["ip-assets", _, "archive" | "restore"])
        | (_, ["import"])
        | (_, ["export", _])
        | (_, ["users"])
        | (_, ["tokens"])
        | (_, ["tokens", _])
        | (_, ["servers"])
        | (_, ["servers", _, "summary" | "samples"])
        | (_, ["connectors", "prometheus" | "vcenter"])
        | (_, ["prometheus", "rules", "regenerate" | "files"])
        | (_, ["prometheus", "rules", "regenerate" | "effective", _])
        | (_, ["prometheus", "reload" | "status"])
        | (_, ["liveness" | "reconcile"])
        | (_, ["reconcile", "apply"])
        | (
            _,
            ["alert-templates" | "alert-rules" | "alert-groups" | "alert-targets"]
            | ["alert-templates" | "alert-rules" | "alert-groups" | "alert-targets", _],
        )
        | (_, ["sd"])
        | (_, ["sd", "preview"])
        | (_, ["alert-rules", _, "preview"])
        | (_, ["openapi.json"]) => ("(method)", Err(ApiError::method_not_allowed())),
        _ => ("(unmatched)", Err(ApiError::not_found("no such endpoint"))),
    }
}

fn collection_route(c: Collection) -> &'static str {
    match c {
        Collection::Projects => "/api/v1/projects",
        Collection::Vendors => "/api/v1/vendors",
        Collection::Tags => "/api/v1/tags",
        Collection::Hosts => "/api/v1/hosts",
        Collection::Ranges => "/api/v1/ranges",
    }
}

fn item_route(c: Collection) -> &'static str {
    match c {
        Collection::Projects => "/api/v1/projects/{id}",
        Collection::Vendors => "/api/v1/vendors/{id}",
        Collection::Tags => "/api/v1/tags/{id}",
        Collection::Hosts => "/api/v1/hosts/{id}",
        Collection::Ranges => "/api/v1/ranges/{id}",
    }
}
