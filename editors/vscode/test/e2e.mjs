// End-to-end test in real VS Code: code-server 4.100.3 in headless Chromium,
// driven by playwright-core. Installs the built .vsix, opens a non-compliant
// model, waits for the warning squiggle and the Problems entry, hovers it,
// applies the quick fix with Ctrl+., saves, and checks the saved text.
// Screenshots go to a folder printed at the end.
//
//   npm test                  (from editors/vscode; builds what is missing)
//
// Environment: SAGEMAKER_VPC_LSP_BIN (server binary), E2E_CACHE (where
// code-server is installed once), CHROMIUM (browser, default /usr/bin/chromium),
// E2E_SCREENSHOTS (where screenshots go).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { findServerBinary } from "../server-binary.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const extensionDir = join(here, "..");
const repo = join(extensionDir, "..", "..");
const CODE_SERVER_VERSION = "4.100.3";
const cache = process.env.E2E_CACHE ?? join(extensionDir, ".e2e", "cache");
const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const work = mkdtempSync(join(tmpdir(), "sagemaker-vpc-lsp-e2e-"));
const shots = process.env.E2E_SCREENSHOTS ?? join(work, "screenshots");
mkdirSync(shots, { recursive: true });

// How long any one condition may take to come true before the test fails.
// Every wait polls for a condition, so a generous bound costs nothing when
// things work; it only keeps a loaded CI machine from failing a healthy run.
const WAIT = Number(process.env.E2E_WAIT_MS ?? 120000);
const log = (msg) => console.log(`[e2e] ${msg}`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

function serverBinary() {
  const found = findServerBinary();
  if (!found) {
    throw new Error("no server binary: run `cargo build --release` first or set SAGEMAKER_VPC_LSP_BIN");
  }
  return found;
}

/** Installs code-server once into the cache (offline-safe, see EDITOR_TESTING.md). */
function ensureCodeServer() {
  const bin = join(cache, "node_modules", ".bin", "code-server");
  if (existsSync(bin)) {
    return bin;
  }
  log(`installing code-server ${CODE_SERVER_VERSION} into ${cache} (once)`);
  mkdirSync(cache, { recursive: true });
  writeFileSync(join(cache, "package.json"), JSON.stringify({ name: "e2e-cache", private: true }));
  // @vscode/ripgrep's postinstall downloads from GitHub; seed its cache with
  // Debian's rg instead.
  const npmTmp = join(cache, "tmp");
  const rgCache = join(npmTmp, "vscode-ripgrep-cache-1.15.11");
  mkdirSync(rgCache, { recursive: true });
  const rgDir = mkdtempSync(join(tmpdir(), "rg-"));
  copyFileSync(execFileSync("which", ["rg"]).toString().trim(), join(rgDir, "rg"));
  execFileSync("tar", ["-czf", join(rgCache, "ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"), "-C", rgDir, "rg"]);
  execFileSync(
    "npm",
    ["install", "--foreground-scripts", "--no-audit", "--no-fund", `code-server@${CODE_SERVER_VERSION}`],
    {
      cwd: cache,
      stdio: "inherit",
      env: {
        ...process.env,
        TMPDIR: npmTmp,
        npm_config_nodedir: "/usr", // local node headers for native modules
        npm_config_yes: "true", // node-pty's postinstall runs `npx node-gyp`
        // code-server's postinstall refuses to run as root without it (npm
        // itself no longer reads it and warns).
        npm_config_unsafe_perm: "true",
        // npm 11 skips dependency install scripts unless allowed; code-server
        // builds its native modules in them.
        npm_config_dangerously_allow_all_scripts: "true",
      },
    },
  );
  return bin;
}

/** The .vsix under test, built with the server bundled. */
function buildVsix(server) {
  log("packaging the extension");
  execFileSync("npm", ["run", "package"], {
    cwd: extensionDir,
    stdio: "inherit",
    env: { ...process.env, SAGEMAKER_VPC_LSP_BIN: server },
  });
  return join(extensionDir, "sagemaker-vpc-lsp.vsix");
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

async function waitForHttp(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok || res.status === 302) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer at ${url}`);
}

let codeServer;
let context;
let step = 0;
let page;

/** The quick-input row whose label is `text`, once it is listed and focused. */
async function quickInputRow(text) {
  const row = page
    .locator(".quick-input-widget .quick-input-list .monaco-list-row", { hasText: text })
    .first();
  await row.waitFor({ state: "visible", timeout: WAIT });
  // Enter acts on the focused row: wait until it is this one.
  await page.waitForFunction(
    (t) => {
      const focused = document.querySelector(".quick-input-widget .quick-input-list .monaco-list-row.focused");
      return !!focused && focused.textContent.includes(t);
    },
    text,
    { timeout: WAIT },
  );
  return row;
}

async function runCommand(title) {
  await page.keyboard.press("F1");
  await page.waitForSelector(".quick-input-widget", { state: "visible" });
  await page.keyboard.type(title);
  await quickInputRow(title);
  await page.keyboard.press("Enter");
  await page.waitForSelector(".quick-input-widget", { state: "hidden" });
}

/** The editor tab for `name`, active, with its text shown. */
async function activeEditor(name) {
  await page
    .locator(".tabs-container .tab.active", { hasText: name })
    .first()
    .waitFor({ state: "visible", timeout: WAIT });
  await page.waitForSelector(".editor-instance .monaco-editor .view-lines", { timeout: WAIT });
}

async function quickOpen(name) {
  // Quick open lists results as the workspace is searched; a file created
  // after the search cache was filled can be missing from it ("No matching
  // results", seen under load): ask again until the row is listed.
  const deadline = Date.now() + WAIT;
  for (;;) {
    await page.keyboard.press("Control+P");
    await page.waitForSelector(".quick-input-widget", { state: "visible" });
    await page.keyboard.type(name);
    const row = page
      .locator(".quick-input-widget .quick-input-list .monaco-list-row", { hasText: name })
      .first();
    const listed = await row
      .waitFor({ state: "visible", timeout: 5000 })
      .then(() => true)
      .catch(() => false);
    if (listed) break;
    if (Date.now() > deadline) throw new Error(`quick open never listed ${name}`);
    await page.keyboard.press("Escape");
    await page.waitForSelector(".quick-input-widget", { state: "hidden" });
  }
  await quickInputRow(name);
  await page.keyboard.press("Enter");
  await activeEditor(name);
}

/** Replaces user (or workspace) settings through "Preferences: Open … Settings (JSON)". */
async function editUserSettings(values, scope, file) {
  await runCommand(`Preferences: Open ${scope} Settings (JSON)`);
  await activeEditor("settings.json");
  await page.waitForSelector(".monaco-editor.focused", { timeout: WAIT });
  // Paste rather than type: typing would auto-close brackets and indent.
  const text = JSON.stringify(values, null, 2);
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Control+V");
  await page.keyboard.press("Control+S");
  // Saved: the file on disk holds the new settings.
  const deadline = Date.now() + WAIT;
  while (Date.now() < deadline) {
    try {
      if (JSON.stringify(JSON.parse(readFileSync(file, "utf8"))) === JSON.stringify(values)) return;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${scope} settings were not saved to ${file}`);
}

async function shot(name) {
  step += 1;
  const file = join(shots, `${String(step).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file });
  log(`screenshot ${file}`);
}

async function main() {
  const server = serverBinary();
  const codeServerBin = ensureCodeServer();
  const vsix = process.env.E2E_VSIX ?? buildVsix(server);

  const home = join(work, "home");
  const userData = join(work, "user-data");
  const extensions = join(work, "extensions");
  const workspace = join(work, "workspace");
  for (const d of [home, userData, extensions, workspace, join(userData, "User")]) {
    mkdirSync(d, { recursive: true });
  }
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_DATA_HOME: join(home, ".local/share"), XDG_CACHE_HOME: join(home, ".cache") };
  const model = join(workspace, "model.tf");
  copyFileSync(join(repo, "editors", "testdata", "model.tf"), model);
  writeFileSync(
    join(userData, "User", "settings.json"),
    JSON.stringify({
      "workbench.startupEditor": "none",
      "workbench.tips.enabled": false,
      "workbench.welcomePage.walkthroughs.openOnInstall": false,
      "security.workspace.trust.enabled": false,
      "telemetry.telemetryLevel": "off",
      "extensions.autoCheckUpdates": false,
      "extensions.autoUpdate": false,
      "editor.hover.delay": 200,
      "files.autoSave": "off",
      "sagemakerVpcLsp.severity": "warning",
    }),
  );

  log(`installing ${vsix}`);
  execFileSync(codeServerBin, ["--install-extension", vsix, "--extensions-dir", extensions, "--user-data-dir", userData], { env, stdio: "inherit" });

  const port = await freePort();
  const config = join(work, "config.yaml");
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  codeServer = spawn(
    codeServerBin,
    ["--config", config, "--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--user-data-dir", userData, "--extensions-dir", extensions, "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", workspace],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  const serverLog = [];
  codeServer.stdout.on("data", (d) => serverLog.push(d.toString()));
  codeServer.stderr.on("data", (d) => serverLog.push(d.toString()));
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, WAIT);
  log(`code-server up on ${port} (${elapsed()})`);

  context = await chromium.launchPersistentContext(join(work, "chromium-profile"), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    permissions: ["clipboard-read", "clipboard-write"],
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = context.pages()[0] ?? (await context.newPage());
  // Waits without their own bound (waitForSelector, click, press) get the same one.
  page.setDefaultTimeout(WAIT);
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: WAIT });
  // Ready for keyboard input once the explorer lists the workspace.
  await page
    .locator(".explorer-folders-view .monaco-list-row", { hasText: "model.tf" })
    .first()
    .waitFor({ state: "visible", timeout: WAIT });
  log(`workbench loaded (${elapsed()})`);

  // Open the file with Ctrl+P.
  await quickOpen("model.tf");
  log(`file open (${elapsed()})`);

  // The warning squiggle.
  const squiggle = page.locator(".monaco-editor .squiggly-warning").first();
  await squiggle.waitFor({ state: "attached", timeout: WAIT });
  log(`warning squiggle shown (${elapsed()})`);
  await shot("warning");

  // The Problems panel names the rule.
  await page.keyboard.press("Control+Shift+M");
  const problem = page.locator(".markers-panel .monaco-list-row", { hasText: "sagemaker_model_in_vpc" }).first();
  await problem.waitFor({ timeout: WAIT });
  const problemText = await problem.innerText();
  if (!problemText.includes("aws_sagemaker_model.inference")) {
    throw new Error(`Problems entry does not name the model: ${problemText}`);
  }
  log(`Problems entry: ${problemText.replace(/\s+/g, " ").slice(0, 120)}`);
  await shot("problems");

  // Hover the squiggle (locator.hover() times out: the text layer is on top).
  const box = await squiggle.boundingBox();
  if (!box) throw new Error("the squiggle has no bounding box");
  // The squiggle covers `resource "aws_sagemaker_model" "inference"`; the
  // control's hover belongs to the type label, about 40% along it.
  const labelX = box.x + box.width * 0.4;
  const midY = box.y + box.height / 2;
  const hover = page.locator(".monaco-hover", { hasText: /SAGEMAKER_MODEL_IN_VPC/ }).first();
  // A hover shows only if the pointer rests there after the editor is ready:
  // on a loaded machine the first move can come too early, so move off and
  // back until it shows (each attempt waits for the hover, not for a time).
  const hoverDeadline = Date.now() + WAIT;
  for (;;) {
    await page.mouse.move(box.x + 5, midY + 200);
    await page.mouse.move(labelX, midY, { steps: 5 });
    try {
      await hover.waitFor({ state: "visible", timeout: 10000 });
      break;
    } catch (error) {
      if (Date.now() > hoverDeadline) throw error;
      log("no hover yet; moving the pointer again");
    }
  }
  const hoverText = await hover.innerText();
  for (const needle of ["blue-green", "VPC endpoints", "sagemaker_models_vpc_settings_configured", "not compliant"]) {
    if (!hoverText.includes(needle)) throw new Error(`hover lacks "${needle}": ${hoverText}`);
  }
  log(`hover shown (${elapsed()})`);
  await shot("hover");

  // Put the cursor on the model header and apply the quick fix with Ctrl+.
  await page.mouse.click(labelX, midY);
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+.");
  // The quick-fix menu lists the fix, focused as the preferred one.
  await page.getByText("Add vpc_config block", { exact: true }).first().waitFor({ state: "visible", timeout: WAIT });
  await shot("quick-fix-menu");
  await page.keyboard.press("Enter");
  // The squiggle goes away once the server re-analyzed the edited buffer.
  await page.locator(".monaco-editor .squiggly-warning").first().waitFor({ state: "detached", timeout: WAIT });
  log(`quick fix applied, warning gone (${elapsed()})`);
  await page.keyboard.press("Control+S");
  const expected = readFileSync(join(repo, "editors", "testdata", "model.fixed.tf"), "utf8");
  const deadline = Date.now() + WAIT;
  let saved = "";
  while (Date.now() < deadline) {
    saved = readFileSync(model, "utf8");
    if (saved === expected) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await shot("fixed-and-saved");
  if (saved !== expected) {
    throw new Error(`saved text differs:\n${saved}\n--- expected ---\n${expected}`);
  }
  // The Problems panel follows the diagnostics: its entry goes too.
  await page
    .locator(".markers-panel .monaco-list-row", { hasText: "aws_sagemaker_model.inference" })
    .first()
    .waitFor({ state: "detached", timeout: WAIT });

  // The workspace command fixes files nobody opened: a model outside a VPC
  // appears on disk, its finding shows in Problems (workspace diagnostics),
  // and "Fix All Findings in the Workspace" makes it go away.
  writeFileSync(join(workspace, "third.tf"), 'resource "aws_sagemaker_model" "third" {\n  name = "third"\n}\n');
  const thirdProblem = page.locator(".markers-panel .monaco-list-row", { hasText: "aws_sagemaker_model.third" }).first();
  await thirdProblem.waitFor({ state: "visible", timeout: WAIT });
  log(`a closed file's finding is listed (${elapsed()})`);
  await runCommand("sagemaker-vpc-lsp: Fix All Findings in the Workspace");
  await thirdProblem.waitFor({ state: "detached", timeout: WAIT });
  await shot("workspace-fixed");
  log(`workspace fix-all applied: the closed file's finding is gone (${elapsed()})`);

  // Settings reach the running server without a reload: change the severity
  // the way a user does, in the user settings JSON.
  writeFileSync(join(workspace, "second.tf"), 'resource "aws_sagemaker_model" "second" {}\n');
  await quickOpen("second.tf");
  await page.locator(".monaco-editor .squiggly-warning").first().waitFor({ state: "attached", timeout: WAIT });
  const userSettings = join(userData, "User", "settings.json");
  const settings = JSON.parse(readFileSync(userSettings, "utf8"));
  await editUserSettings({ ...settings, "sagemakerVpcLsp.severity": "error" }, "User", userSettings);
  await quickOpen("second.tf");
  await page.locator(".monaco-editor .squiggly-error").first().waitFor({ state: "attached", timeout: WAIT });
  log(`severity setting applied live: the squiggle is an error now (${elapsed()})`);
  await shot("severity-error");

  // The restart command, then the log command showing it happened.
  await runCommand("sagemaker-vpc-lsp: Restart Server");
  await runCommand("sagemaker-vpc-lsp: Show Server Log");
  await page.locator(".output-view, .panel", { hasText: "Restarting the server" }).first().waitFor({ timeout: WAIT });
  await quickOpen("second.tf");
  await page.locator(".monaco-editor .squiggly-error").first().waitFor({ state: "attached", timeout: WAIT });
  log(`restart command: server log shows the restart, the warning is back (${elapsed()})`);
  await shot("restarted");

  // A server path that does not exist: one clear notification naming the
  // setting. The path is machine-overridable, so in a remote window such as
  // code-server it is set per workspace (user settings would not apply).
  await editUserSettings(
    { "sagemakerVpcLsp.server.path": "/nonexistent/sagemaker-vpc-lsp" },
    "Workspace",
    join(workspace, ".vscode", "settings.json"),
  );
  const notice = page.locator(".notifications-toasts .notification-toast", { hasText: "sagemakerVpcLsp.server.path" }).first();
  await notice.waitFor({ state: "visible", timeout: WAIT });
  const noticeText = (await notice.innerText()).replace(/\s+/g, " ");
  if (!noticeText.includes("/nonexistent/sagemaker-vpc-lsp")) throw new Error(`notification: ${noticeText}`);
  log(`missing server reported: ${noticeText.slice(0, 160)} (${elapsed()})`);
  await shot("missing-server");
  log(`PASS in ${elapsed()}: squiggle, Problems entry, hover, quick fix, save, workspace fix-all, live settings, restart, server log, missing server. Screenshots: ${shots}`);
  if (process.env.E2E_KEEP_LOG) console.log(serverLog.join(""));
}

let failed = false;
try {
  await main();
} catch (error) {
  failed = true;
  console.error(`[e2e] FAIL: ${error.stack ?? error}`);
  if (page) await shot("failure").catch(() => {});
  console.error(`[e2e] screenshots: ${shots}`);
} finally {
  await context?.close().catch(() => {});
  codeServer?.kill("SIGTERM");
  if (!failed && !process.env.E2E_SCREENSHOTS) {
    // Keep the screenshots; drop the rest of the scratch space.
    for (const d of ["home", "user-data", "extensions", "chromium-profile"]) {
      rmSync(join(work, d), { recursive: true, force: true });
    }
  }
}
process.exit(failed ? 1 : 0);
