// The VS Code front end of sagemaker-vpc-lsp: starts the language server for
// Terraform files and keeps it in step with the settings.
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

const SECTION = "sagemakerVpcLsp";
const BINARY = process.platform === "win32" ? "sagemaker-vpc-lsp.exe" : "sagemaker-vpc-lsp";

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;

/** Where the server binary is: the setting, the bundled copy, else PATH. */
export function resolveServer(
  extensionPath: string,
  configured: string | undefined,
): { command?: string; problem?: string } {
  if (configured && configured.trim() !== "") {
    const file = configured.trim();
    return isExecutable(file)
      ? { command: file }
      : { problem: `"${file}" (from the setting ${SECTION}.server.path) is not an executable file.` };
  }
  const bundled = path.join(extensionPath, "server", BINARY);
  if (isExecutable(bundled)) {
    return { command: bundled };
  }
  const onPath = findOnPath(BINARY);
  if (onPath) {
    return { command: onPath };
  }
  return {
    problem: `no server binary: none is bundled with the extension and "${BINARY}" is not on PATH.`,
  };
}

function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, binary))) {
      return path.join(dir, binary);
    }
  }
  return undefined;
}

/** The settings the server understands, as initializationOptions. */
function serverSettings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SECTION);
  return {
    enable: config.get<boolean>("enable", true),
    severity: config.get<string | null>("severity", null),
    scope: config.get<string>("scope", "workspace"),
    rules: config.get<Record<string, unknown>>("rules", {}),
  };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const configured = vscode.workspace.getConfiguration(SECTION).get<string>("server.path");
  const { command, problem } = resolveServer(context.extensionPath, configured);
  if (!command) {
    output.appendLine(`Cannot start the server: ${problem}`);
    const choice = await vscode.window.showErrorMessage(
      `sagemaker-vpc-lsp: ${problem} Set "${SECTION}.server.path" to the sagemaker-vpc-lsp binary.`,
      "Open Settings",
    );
    if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", `${SECTION}.server.path`);
    }
    return;
  }
  output.appendLine(`Starting ${command}`);
  const serverOptions: ServerOptions = {
    run: { command, transport: TransportKind.stdio },
    debug: { command, transport: TransportKind.stdio, options: { env: { ...process.env, SAGEMAKER_VPC_LSP_LOG: "debug" } } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "terraform" },
      { scheme: "file", pattern: "**/*.tf" },
      { scheme: "file", pattern: "**/*.tf.json" },
      // tfvars are read for their values: unsaved edits count.
      { scheme: "file", language: "terraform-vars" },
      { scheme: "file", pattern: "**/*.tfvars" },
      { scheme: "file", pattern: "**/*.tfvars.json" },
      { scheme: "untitled", language: "terraform" },
    ],
    synchronize: { configurationSection: SECTION },
    initializationOptions: serverSettings(),
    outputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
  };
  client = new LanguageClient(SECTION, "sagemaker-vpc-lsp", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    output.appendLine(`The server failed to start: ${message}`);
    void vscode.window.showErrorMessage(
      `sagemaker-vpc-lsp: the server at "${command}" failed to start (${message}). Check "${SECTION}.server.path".`,
    );
    client = undefined;
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch (error) {
      output.appendLine(`Stopping the server failed: ${String(error)}`);
    }
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("sagemaker-vpc-lsp");
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand("sagemakerVpcLsp.restartServer", async () => {
      output.appendLine("Restarting the server");
      await stop();
      await start(context);
    }),
    vscode.commands.registerCommand("sagemakerVpcLsp.showOutput", () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      // Severity and enable reach the running server through
      // workspace/didChangeConfiguration; a new binary needs a restart.
      if (event.affectsConfiguration(`${SECTION}.server.path`)) {
        await stop();
        await start(context);
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await stop();
}
