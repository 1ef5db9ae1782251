// Copies the built server into server/ so the .vsix works with nothing else
// installed. Uses SAGEMAKER_VPC_LSP_BIN, else the repository's release build,
// else its debug build; without one, the extension falls back to PATH.
import { copyFileSync, chmodSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findServerBinary } from "./server-binary.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const found = findServerBinary();
const target = join(here, "server", "sagemaker-vpc-lsp");
mkdirSync(join(here, "server"), { recursive: true });
rmSync(target, { force: true });
if (found) {
  copyFileSync(found, target);
  chmodSync(target, 0o755);
  console.log(`bundled server: ${found}`);
} else {
  console.warn("no server binary found: the .vsix will use sagemaker-vpc-lsp from PATH");
}
