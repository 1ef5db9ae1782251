// Where the built server is: SAGEMAKER_VPC_LSP_BIN, else the release build
// in CARGO_TARGET_DIR or the repository's target/, else its debug build
// (shared by packaging and the e2e test).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function findServerBinary() {
  return [
    process.env.SAGEMAKER_VPC_LSP_BIN,
    process.env.CARGO_TARGET_DIR &&
      resolve(repo, process.env.CARGO_TARGET_DIR, "release", "sagemaker-vpc-lsp"),
    join(repo, "target", "release", "sagemaker-vpc-lsp"),
    join(repo, "target", "debug", "sagemaker-vpc-lsp"),
  ]
    .filter(Boolean)
    .find((p) => existsSync(p));
}
