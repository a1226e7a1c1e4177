//! A PostgreSQL database for the synchronous stores: a deadpool-postgres pool whose
//! connections live on a small I/O runtime the handle owns.
//!
//! The stores' APIs are synchronous (the server calls them from `spawn_blocking`). As the
//! sync `postgres` crate does, each call waits for its async work, but it never enters a
//! tokio runtime to do so: the connections' driver tasks (and connecting, which needs
//! tokio's reactor) run on the owned one-thread runtime, while a query's own future only
//! exchanges messages with its connection's task, so the calling thread drives it with a
//! plain park/unpark executor ([`block_on`]). That is correct on a plain thread, on a
//! `spawn_blocking` thread, and even on a runtime's worker (which it blocks for the call,
//! as any synchronous store call does). Dropping the handle inside a runtime is allowed too
//! (`shutdown_background`).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use deadpool_postgres::{GenericClient, Object, Pool};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};

use crate::error::{Error, Result};
use crate::registry::Component;
use crate::sql::{to_pg_placeholders, Arg, Cell, CopyRows, Row, Sql, ToArg};
use crate::url::Backend;

/// Connections a store's pool keeps at most, unless told otherwise.
pub const DEFAULT_POOL_SIZE: usize = 8;

/// The bounds of a [`PgDatabase`]'s pool: a call waits at most `wait` for a free
/// connection, and a new connection is given `connect` to be made, then fails with a clear
/// error instead of hanging (a stuck transaction elsewhere, an unreachable server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLimits {
    /// Connections kept at most ([`DEFAULT_POOL_SIZE`]).
    pub max_size: usize,
    /// How long a call waits for a free connection (30 s).
    pub wait: std::time::Duration,
    /// How long connecting may take (10 s).
    pub connect: std::time::Duration,
}

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            max_size: DEFAULT_POOL_SIZE,
            wait: std::time::Duration::from_secs(30),
            connect: std::time::Duration::from_secs(10),
        }
    }
}

/// A PostgreSQL database: pool and I/O runtime, shared by cloning (every clone uses the same
/// pool).
#[derive(Clone)]
pub struct PgDatabase {
    inner: Arc<Inner>,
}

struct Inner {
    // Declared before the runtime: the pooled clients go first, then their tasks.
    pool: Pool,
    limits: PoolLimits,
    config: tokio_postgres::Config,
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    handle: tokio::runtime::Handle,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.lock().ok().and_then(|mut r| r.take()) {
            // Never blocks, so a store may be dropped inside an async task.
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for PgDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.inner.pool.status();
        f.debug_struct("PgDatabase")
            .field("pool_size", &s.size)
            .field("max_size", &s.max_size)
            .finish()
    }
}

impl PgDatabase {
    /// A pool of connections to `config` within `limits`, checked by connecting once (so a
    /// wrong URL fails here, with PostgreSQL's reason).
    pub fn connect(config: &tokio_postgres::Config, limits: PoolLimits) -> Result<PgDatabase> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ipocket-pg-io")
            .enable_all()
            .build()
            .map_err(|e| Error::Pool(format!("starting the PostgreSQL I/O thread: {e}")))?;
        let handle = runtime.handle().clone();
        let pool = crate::pg::pg_pool(config, &limits)?;
        let db = PgDatabase {
            inner: Arc::new(Inner {
                pool,
                limits,
                config: config.clone(),
                runtime: Mutex::new(Some(runtime)),
                handle,
            }),
        };
        drop(db.get()?);
        Ok(db)
    }

    /// Brings `components` up to date ([`crate::migrate_pg`], under the advisory lock).
    pub fn migrate(&self, components: &[&'static Component]) -> Result<()> {
        let config = self.inner.config.clone();
        let components = components.to_vec();
        self.on_io(async move { crate::pg::migrate_pg(&config, &components).await })
    }

    /// [`crate::Error::Behind`] or [`crate::Error::TooNew`] unless every component is at its
    /// latest version; changes nothing (`serve --no-migrate`, `/health`).
    pub fn check_current(&self, components: &[&'static Component]) -> Result<()> {
        let client = self.get()?;
        block_on(crate::pg::check_current_pg(&client.object, components))
    }

    /// The recorded version of `component` (0 when none).
    pub fn recorded_version(&self, component: &str) -> Result<u32> {
        let client = self.get()?;
        block_on(crate::pg::recorded_version_pg(&client.object, component))
    }

    /// The connection settings (for dedicated connections, e.g. [`PgDatabase::try_lead`]).
    pub(crate) fn config(&self) -> &tokio_postgres::Config {
        &self.inner.config
    }

    /// Runs `fut` on the I/O runtime and waits for its output.
    pub(crate) fn on_io<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        block_on(self.inner.handle.spawn(fut))
            .map_err(|e| Error::Pool(format!("the PostgreSQL I/O task failed: {e}")))?
    }

    /// A pooled connection (made on the I/O runtime when none is idle).
    pub fn get(&self) -> Result<PgConnection> {
        let pool = self.inner.pool.clone();
        let limits = self.inner.limits;
        let object =
            self.on_io(async move { pool.get().await.map_err(|e| pool_error(e, &limits)) })?;
        Ok(PgConnection { object })
    }
}

fn pool_error(e: deadpool_postgres::PoolError, limits: &PoolLimits) -> Error {
    use deadpool_postgres::{PoolError, TimeoutType};
    match e {
        PoolError::Backend(e) => Error::Postgres(e),
        PoolError::Timeout(TimeoutType::Wait) => Error::Pool(format!(
            "no connection of the pool ({} at most) became free within {:?}; a transaction \
             may be stuck, or the pool is too small for the load",
            limits.max_size, limits.wait
        )),
        PoolError::Timeout(TimeoutType::Create) => Error::Pool(format!(
            "connecting to PostgreSQL took longer than {:?}",
            limits.connect
        )),
        other => Error::Pool(other.to_string()),
    }
}

/// A connection taken from a [`PgDatabase`]'s pool; back to the pool on drop.
pub struct PgConnection {
    object: Object,
}

impl PgConnection {
    /// Runs `f` in a transaction (committed when it returns `Ok`, rolled back otherwise),
    /// after `setup` statements (e.g. an advisory lock) in the same transaction.
    pub fn transaction<T, E: From<Error>>(
        &mut self,
        f: impl FnOnce(&dyn Sql) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = block_on(self.object.transaction()).map_err(Error::from)?;
        let out = f(&PgSql(&tx))?;
        block_on(tx.commit()).map_err(Error::from)?;
        Ok(out)
    }

    /// Runs `f` in a `REPEATABLE READ`, read-only transaction: every statement sees the
    /// database as it was at the first one (a dry run's consistent view). Ended by a
    /// rollback (nothing to keep), whatever `f` returns.
    pub fn snapshot<T, E: From<Error>>(
        &mut self,
        f: impl FnOnce(&dyn Sql) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = block_on(
            self.object
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start(),
        )
        .map_err(Error::from)?;
        let out = f(&PgSnapshot(PgSql(&tx)));
        block_on(tx.rollback()).map_err(Error::from)?;
        out
    }

    /// Runs `sql` (one or more statements, no arguments) outside any transaction.
    pub fn batch(&self, sql: &str) -> Result<()> {
        Ok(block_on(self.object.batch_execute(sql))?)
    }

    /// Drops the connection instead of returning it to the pool (its session state, e.g. a
    /// transaction left open after a failure, goes with it).
    pub fn discard(self) {
        drop(Object::take(self.object));
    }
}

impl Sql for PgConnection {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }
    fn query(&self, sql: &str, args: &[&dyn ToArg]) -> Result<Vec<Row>> {
        PgSql(&self.object).query(sql, args)
    }
    fn execute(&self, sql: &str, args: &[&dyn ToArg]) -> Result<u64> {
        PgSql(&self.object).execute(sql, args)
    }
    fn copy_in(&self, copy_sql: &str, rows: CopyRows) -> Result<u64> {
        PgSql(&self.object).copy_in(copy_sql, rows)
    }
}

/// `COPY … FROM STDIN` on a pooled client or one of its transactions (not part of
/// deadpool's `GenericClient`).
trait CopyClient {
    async fn copy_sink(
        &self,
        stmt: &tokio_postgres::Statement,
    ) -> std::result::Result<tokio_postgres::CopyInSink<bytes::Bytes>, tokio_postgres::Error>;
}

impl CopyClient for Object {
    async fn copy_sink(
        &self,
        stmt: &tokio_postgres::Statement,
    ) -> std::result::Result<tokio_postgres::CopyInSink<bytes::Bytes>, tokio_postgres::Error> {
        self.copy_in(stmt).await
    }
}

impl CopyClient for deadpool_postgres::Transaction<'_> {
    async fn copy_sink(
        &self,
        stmt: &tokio_postgres::Statement,
    ) -> std::result::Result<tokio_postgres::CopyInSink<bytes::Bytes>, tokio_postgres::Error> {
        self.copy_in(stmt).await
    }
}

/// [`Sql`] on a pooled client or one of its transactions.
struct PgSql<'a, C: GenericClient + CopyClient>(&'a C);

impl<C: GenericClient + CopyClient> Sql for PgSql<'_, C> {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn query(&self, sql: &str, args: &[&dyn ToArg]) -> Result<Vec<Row>> {
        let rows = block_on(async {
            let stmt = self.0.prepare_cached(&to_pg_placeholders(sql)).await?;
            let args = pg_args(args);
            self.0.query(&stmt, &refs(&args)).await
        })?;
        rows.iter().map(pg_row).collect()
    }

    fn execute(&self, sql: &str, args: &[&dyn ToArg]) -> Result<u64> {
        Ok(block_on(async {
            let stmt = self.0.prepare_cached(&to_pg_placeholders(sql)).await?;
            let args = pg_args(args);
            self.0.execute(&stmt, &refs(&args)).await
        })?)
    }

    fn copy_in(&self, copy_sql: &str, rows: CopyRows) -> Result<u64> {
        use futures_util::SinkExt;
        Ok(block_on(async {
            let stmt = self.0.prepare_cached(copy_sql).await?;
            let sink = self.0.copy_sink(&stmt).await?;
            let mut sink = std::pin::pin!(sink);
            sink.send(bytes::Bytes::from(rows.into_bytes())).await?;
            sink.finish().await
        })?)
    }
}

/// Rows a snapshot's [`Sql::for_each_row`] fetches at a time.
const FETCH_ROWS: i32 = 500;

/// [`Sql`] on a snapshot's transaction, whose [`Sql::for_each_row`] streams: the query is
/// bound to a portal of the transaction and its rows fetched [`FETCH_ROWS`] at a time, so
/// memory stays flat however many there are, and the connection is free between fetches
/// for the caller's own queries.
struct PgSnapshot<'a>(PgSql<'a, deadpool_postgres::Transaction<'a>>);

impl Sql for PgSnapshot<'_> {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn query(&self, sql: &str, args: &[&dyn ToArg]) -> Result<Vec<Row>> {
        self.0.query(sql, args)
    }

    fn execute(&self, sql: &str, args: &[&dyn ToArg]) -> Result<u64> {
        self.0.execute(sql, args)
    }

    fn for_each_row(
        &self,
        sql: &str,
        args: &[&dyn ToArg],
        f: &mut dyn FnMut(Row) -> std::ops::ControlFlow<()>,
    ) -> Result<()> {
        let tx = self.0 .0;
        let portal = block_on(async {
            let stmt = tx.prepare_cached(&to_pg_placeholders(sql)).await?;
            let args = pg_args(args);
            tx.bind(&stmt, &refs(&args)).await
        })?;
        loop {
            let rows = block_on(tx.query_portal(&portal, FETCH_ROWS))?;
            for row in &rows {
                if f(pg_row(row)?).is_break() {
                    return Ok(());
                }
            }
            if rows.len() < FETCH_ROWS as usize {
                return Ok(());
            }
        }
    }
}

fn pg_args<'a>(args: &'a [&'a dyn ToArg]) -> Vec<Arg<'a>> {
    args.iter().map(|a| a.to_arg()).collect()
}

fn refs<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

fn pg_row(row: &tokio_postgres::Row) -> Result<Row> {
    let cells = row
        .columns()
        .iter()
        .enumerate()
        .map(|(i, col)| {
            let ty = col.type_();
            let cell = if *ty == Type::INT8 {
                row.try_get::<_, Option<i64>>(i)?.map(Cell::Int)
            } else if *ty == Type::INT4 {
                row.try_get::<_, Option<i32>>(i)?
                    .map(|v| Cell::Int(v.into()))
            } else if *ty == Type::INT2 {
                row.try_get::<_, Option<i16>>(i)?
                    .map(|v| Cell::Int(v.into()))
            } else if *ty == Type::BOOL {
                row.try_get::<_, Option<bool>>(i)?
                    .map(|v| Cell::Int(v.into()))
            } else if *ty == Type::FLOAT8 {
                row.try_get::<_, Option<f64>>(i)?.map(Cell::Real)
            } else if *ty == Type::FLOAT4 {
                row.try_get::<_, Option<f32>>(i)?
                    .map(|v| Cell::Real(v.into()))
            } else if <String as FromSql>::accepts(ty) {
                row.try_get::<_, Option<String>>(i)?.map(Cell::Text)
            } else if *ty == Type::BYTEA {
                row.try_get::<_, Option<Vec<u8>>>(i)?.map(Cell::Blob)
            } else {
                return Err(Error::Decode(format!(
                    "column {} has PostgreSQL type {ty}, which the stores do not read",
                    col.name()
                )));
            };
            Ok(cell.unwrap_or(Cell::Null))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Row(cells))
}

impl ToSql for Arg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Arg::Null => Ok(IsNull::Yes),
            Arg::Int(i) if *ty == Type::INT8 => i.to_sql(ty, out),
            Arg::Int(i) if *ty == Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
            Arg::Int(i) if *ty == Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
            Arg::Int(i) if *ty == Type::BOOL => (i != 0).to_sql(ty, out),
            Arg::Int(i) if *ty == Type::FLOAT8 => (i as f64).to_sql(ty, out),
            Arg::Real(f) if *ty == Type::FLOAT8 => f.to_sql(ty, out),
            Arg::Real(f) if *ty == Type::FLOAT4 => (f as f32).to_sql(ty, out),
            Arg::Text(s) if <&str as ToSql>::accepts(ty) => s.to_sql(ty, out),
            Arg::Blob(b) if *ty == Type::BYTEA => b.to_sql(ty, out),
            a => Err(format!("cannot bind {a:?} to a parameter of type {ty}").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value in `to_sql`, which names the value and the type.
        true
    }

    to_sql_checked!();
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `fut` to completion on this thread, parking between polls. For futures that need
/// no tokio context (a query's exchange with its connection task, a `JoinHandle`).
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}
