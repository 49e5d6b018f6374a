//! The dashboard in a real headless Chromium: a three-node cluster over TCP on 127.0.0.1, a
//! supervision tree on node b, the page showing the three nodes and the tree, a worker made
//! to panic, and its restart count rising on the page without a reload.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test says it is skipped
//! and passes, unless `DISTRIBUTE_REQUIRE_BROWSER=1` (as `.ci/run` sets), which makes it fail.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use distribute::prelude::*;
use distribute::supervision::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
use distribute::PoolSpec;
use distribute_dashboard::Dashboard;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::timeout;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const COOKIE: &str = "dashboard-browser-test";
/// How long any one thing may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(30);

#[actor]
#[derive(Default)]
struct Worker {
    jobs: u64,
}

#[actor]
impl Worker {
    #[message]
    fn work(&mut self) -> u64 {
        self.jobs += 1;
        self.jobs
    }

    #[message]
    fn crash(&mut self) -> u64 {
        panic!("asked to crash by the browser test")
    }
}

/// Whether the browser is installed; if not, says the test is skipped, or fails it when
/// `DISTRIBUTE_REQUIRE_BROWSER=1`.
fn browser_installed() -> bool {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    let message = "skipped: install chromium and chromium-driver \
                   (apt-get install -y chromium chromium-driver) to run the dashboard's browser test";
    assert!(
        std::env::var("DISTRIBUTE_REQUIRE_BROWSER").as_deref() != Ok("1"),
        "DISTRIBUTE_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing"
    );
    println!("{message}");
    false
}

/// A chromedriver process and the fresh profile directory of its browser; both go with it.
struct Driver {
    _process: Child,
    profile: PathBuf,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A port that was free a moment ago: chromedriver takes no `--port=0` everywhere.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// Starts chromedriver and waits for the line that says it listens.
async fn start_driver() -> Driver {
    let port = free_port();
    let mut process = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let stdout = process.stdout.take().expect("its stdout");
    let mut lines = BufReader::new(stdout).lines();
    let started = timeout(DEADLINE, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("started successfully") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(started, Ok(true), "chromedriver did not start on port {port}");
    // Keep its stdout drained so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let profile = std::env::temp_dir().join(format!(
        "distribute-dashboard-chromium-{}-{port}",
        std::process::id()
    ));
    Driver {
        _process: process,
        profile,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// A headless Chromium session through `driver`.
async fn open_browser(driver: &Driver) -> Client {
    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1500,1000",
        &format!("--user-data-dir={}", driver.profile.display()),
    ];
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({ "binary": CHROMIUM, "args": args }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

/// Waits in the page, on DOM mutations, until the JavaScript expression `condition` is truthy,
/// and returns its value; fails after `DEADLINE` with what the page showed.
async fn wait_in_page(browser: &Client, what: &str, condition: &str) -> Value {
    let script = format!(
        r#"
        const done = arguments[arguments.length - 1];
        const probe = () => {{ try {{ return ({condition}); }} catch (e) {{ return null; }} }};
        let observer = null;
        const timer = setTimeout(() => {{
            if (observer) observer.disconnect();
            done({{ ok: false, page: document.body.innerText.slice(0, 2000) }});
        }}, {ms});
        const check = () => {{
            const value = probe();
            if (!value) return false;
            clearTimeout(timer);
            if (observer) observer.disconnect();
            done({{ ok: true, value }});
            return true;
        }};
        if (!check()) {{
            observer = new MutationObserver(check);
            observer.observe(document.documentElement, {{ subtree: true, childList: true, attributes: true, characterData: true }});
        }}
        "#,
        ms = DEADLINE.as_millis()
    );
    let answer = browser
        .execute_async(&script, vec![])
        .await
        .unwrap_or_else(|error| panic!("waiting for {what}: {error}"));
    assert_eq!(
        answer["ok"], true,
        "timed out waiting for {what}; the page showed: {}",
        answer["page"]
    );
    answer["value"].clone()
}

async fn node(name: &str, seed: Option<std::net::SocketAddr>) -> Node {
    let mut builder = Node::builder().name(name).cookie(COOKIE);
    if let Some(seed) = seed {
        builder = builder.seed(seed.to_string());
    }
    builder.start().await.expect("a node starts")
}

/// Waits until every node counts the two others as members: polls the membership (a
/// plain read) with a deadline.
async fn converged(nodes: &[&Node]) {
    let all = async {
        while !nodes.iter().all(|n| n.cluster_members().len() == nodes.len() - 1) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    timeout(DEADLINE, all)
        .await
        .expect("the three nodes see each other");
}

/// On `node`: a one-for-one root with a worker `flaky` and a pool of three `workers`;
/// returns the root and `flaky`, which has handled a message.
async fn start_tree(node: &Node) -> (ActorRef<Supervisor>, ActorRef<Worker>) {
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .name("root")
        .intensity(100, Duration::from_secs(60))
        .child(ChildSpec::worker("flaky", Worker::default))
        .child(PoolSpec::new(3, Worker::default).into_child("workers"))
        .start(node)
        .await
        .expect("the tree starts on b");
    let flaky = root.child::<Worker>("flaky").await.expect("flaky runs");
    flaky.work().await.expect("flaky works");
    let _pool = root.child::<Supervisor>("workers").await.expect("the pool runs");
    (root, flaky)
}

/// Takes a screenshot of the page and writes it under the target directory.
async fn save_screenshot(browser: &Client) {
    let png = browser.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    std::fs::write(&path, &png).expect("the screenshot is written");
    println!("screenshot: {}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_cluster_and_a_restart_as_it_happens() {
    if !browser_installed() {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        if !info.to_string().contains("asked to crash by the browser test") {
            eprintln!("{info}");
        }
    }));
    let a = node("a", None).await;
    let seed = a.listen_addr().expect("a is networked");
    let b = node("b", Some(seed)).await;
    let c = node("c", Some(seed)).await;
    converged(&[&a, &b, &c]).await;

    let (_root, flaky) = start_tree(&b).await;

    let dashboard = Dashboard::new(a.clone())
        .interval(Duration::from_millis(200))
        .serve_local()
        .await
        .expect("the dashboard serves");
    let driver = start_driver().await;
    let browser = open_browser(&driver).await;
    browser.goto(&dashboard.url()).await.expect("the page loads");

    let up = wait_in_page(
        &browser,
        "three nodes up",
        r#"(() => { const up = [...document.querySelectorAll('[data-node][data-status="up"]')]
                     .map((card) => card.dataset.node).sort().join(',');
                    return up === 'a,b,c' ? up : null; })()"#,
    )
    .await;
    assert_eq!(up, "a,b,c");
    let tree = wait_in_page(
        &browser,
        "b's tree: root, flaky and the pool's workers",
        r#"(() => { const root = document.querySelector('[data-node="b"] [data-strategy="OneForOne"]');
                    const flaky = root && root.querySelector('[data-child="flaky"]');
                    const pool = root && root.querySelector('[data-child="workers"] [data-supervisor]');
                    if (!flaky || !pool || flaky.dataset.restarts !== '0') return null;
                    return { workers: pool.querySelectorAll('[data-child]').length, text: flaky.innerText }; })()"#,
    )
    .await;
    assert_eq!(tree["workers"], 3, "{tree}");
    assert!(tree["text"].as_str().is_some_and(|t| t.contains("↻ 0")), "{tree}");

    browser
        .execute("window.sameDocument = 'not reloaded'; return true;", vec![])
        .await
        .expect("marks the document");
    let crashed = flaky.crash().await;
    assert!(crashed.is_err(), "the crash message panicked: {crashed:?}");
    let restarted = wait_in_page(
        &browser,
        "flaky's restart count to rise on the page",
        r#"(() => { const flaky = document.querySelector('[data-node="b"] [data-child="flaky"]');
                    return flaky && Number(flaky.dataset.restarts) >= 1
                      ? { restarts: Number(flaky.dataset.restarts), text: flaky.innerText, same: window.sameDocument }
                      : null; })()"#,
    )
    .await;
    assert_eq!(restarted["restarts"], 1, "{restarted}");
    assert!(
        restarted["text"].as_str().is_some_and(|t| t.contains("↻ 1")),
        "{restarted}"
    );
    assert_eq!(restarted["same"], "not reloaded", "the page was reloaded");

    save_screenshot(&browser).await;

    let _ = browser.close().await;
    drop(driver);
    dashboard.shutdown().await;
    for node in [&c, &b, &a] {
        node.shutdown().await;
    }
}
