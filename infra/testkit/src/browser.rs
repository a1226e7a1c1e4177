//! Debian's headless Chromium driven through chromedriver (WebDriver), for the web UI tests.
//!
//! Each [`Browser`] is its own chromedriver on a free loopback port and a fresh Chromium (own
//! profile and download folder), killed together when the browser is dropped. Browsers of
//! one binary run one at a time (2 cores). Missing packages fail the test with the command to install
//! them: these tests never skip.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

/// Debian's paths (packages `chromium` and `chromium-driver`).
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// See [`CHROMIUM`].
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver in a process group of its own, with the Chromium it starts: dropping it
/// kills the whole group, so a failed test leaves no browser behind.
struct Driver {
    url: String,
    child: Child,
}

impl Driver {
    fn start() -> Driver {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: the UI tests need Debian's chromium and chromium-driver \
                 (apt-get install chromium chromium-driver; ./scripts/test installs them)"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CHROMEDRIVER}: {e}"));
        let driver = Driver {
            url: format!("http://127.0.0.1:{port}"),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid (process_group(0)).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

/// Browsers of one test binary, one at a time (an async lock: it is held across awaits, and
/// a failed test does not poison it).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A headless Chromium at 1280×900 with its own profile; closed by [`Browser::close`].
pub struct Browser {
    /// The WebDriver client, for anything the helpers below do not cover.
    pub client: Client,
    base: String,
    // Dropped in this order: the browser dies before its profile folder is removed.
    _driver: Driver,
    profile: tempfile::TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Browser {
    /// A new browser whose relative URLs start at `base` (`http://127.0.0.1:PORT`).
    pub async fn open(base: &str) -> Browser {
        let turn = ONE_AT_A_TIME.lock().await;
        let profile = tempfile::tempdir().unwrap();
        let downloads = profile.path().join("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-extensions",
                    "--window-size=1280,900", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().join("chrome").display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                },
            },
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let driver = Driver::start();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|e| panic!("opening a Chromium session through chromedriver: {e}"));
        Browser {
            client,
            base: base.trim_end_matches('/').to_string(),
            profile,
            _driver: driver,
            _turn: turn,
        }
    }

    /// Loads `path` (relative to the base) and waits for the page.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    }

    /// The current path and query (without the base).
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        let s = url.as_str();
        s.strip_prefix(&self.base).unwrap_or(s).to_string()
    }

    /// The element matching `css`, waiting up to 5 s for it.
    pub async fn find(&self, css: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(e) => e,
            Err(e) => panic!("no element {css:?} on {}: {e}", self.path_now().await),
        }
    }

    /// Every element matching `css` (none is fine).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    async fn path_now(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// Replaces the text of the input matching `css`.
    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    /// Chooses the option with `value` in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value:?} in {css:?}: {e}"));
    }

    /// Clicks the element matching `css`. A click on a link or a submit button waits for the
    /// next page to load (chromedriver does not always wait for a form's navigation).
    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        let navigates = navigates(&e).await;
        if navigates {
            self.client
                .execute("document.documentElement.dataset.ipocketOld = '1'", vec![])
                .await
                .unwrap();
        }
        e.click()
            .await
            .unwrap_or_else(|e| panic!("click {css:?}: {e}"));
        if navigates {
            self.wait_for_new_page().await;
        }
    }

    /// Waits up to 10 s for a new document, fully loaded (a click that was refused, a
    /// disabled button say, just returns after that).
    async fn wait_for_new_page(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let check = "return document.readyState === 'complete' \
                     && !document.documentElement.dataset.ipocketOld";
        while Instant::now() < deadline {
            // An error here is the old document going away mid-call: ask again.
            if let Ok(serde_json::Value::Bool(true)) = self.client.execute(check, vec![]).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The visible text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// The page's HTML as the browser holds it.
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// Sets the window size (`390×844` for a phone).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
    }

    /// Saves a PNG of the viewport as `target/ui-screenshots/NAME.png`, and also in
    /// `$IPOCKET_UI_SCREENSHOTS` when set (how docs/ui/ is refreshed).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        let mut dirs = vec![screenshot_dir()];
        if let Some(extra) = std::env::var_os("IPOCKET_UI_SCREENSHOTS") {
            dirs.push(PathBuf::from(extra));
        }
        for dir in &dirs {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        }
        dirs.swap_remove(0).join(format!("{name}.png"))
    }

    /// The folder downloads land in.
    pub fn download_dir(&self) -> PathBuf {
        self.profile.path().join("downloads")
    }

    /// Waits up to 10 s for a finished download named `name` and returns its bytes.
    pub async fn downloaded(&self, name: &str) -> Vec<u8> {
        let path = self.download_dir().join(name);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(bytes) = std::fs::read(&path) {
                return bytes;
            }
            assert!(Instant::now() < deadline, "{name} was not downloaded");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Ends the session and Chromium.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// Whether clicking `e` loads another page: a link to another document, a submit button.
async fn navigates(e: &Element) -> bool {
    let tag = e.tag_name().await.unwrap_or_default().to_ascii_lowercase();
    let attr = |name: &'static str| async move { e.attr(name).await.ok().flatten() };
    match tag.as_str() {
        // A download leaves the page where it is.
        "a" => {
            attr("download").await.is_none()
                && attr("href")
                    .await
                    .is_some_and(|h| !h.starts_with('#') && !h.is_empty())
        }
        "button" => attr("type").await.is_none_or(|t| t == "submit"),
        "input" => attr("type")
            .await
            .is_some_and(|t| t == "submit" || t == "image"),
        _ => false,
    }
}

/// `target/ui-screenshots` of this workspace.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("ui-screenshots")
}
