// Where the built server is: SAGEMAKER_VPC_LSP_BIN, else the repository's
// release build, else its debug build (shared by packaging and the e2e test).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function findServerBinary() {
  return [
    process.env.SAGEMAKER_VPC_LSP_BIN,
    join(repo, "target", "release", "sagemaker-vpc-lsp"),
    join(repo, "target", "debug", "sagemaker-vpc-lsp"),
  ]
    .filter(Boolean)
    .find((p) => existsSync(p));
}
