// `bun run build` → dist/stayhub: one self-contained executable (migrations and the embedded
// database's assets inside), runnable from any directory with nothing beside it.
import { rmSync, statSync } from "node:fs";

const outfile = "dist/stayhub";
rmSync("dist", { recursive: true, force: true });
const started = performance.now();
// The job worker thread's entry is a second entrypoint, so the binary carries it. No
// --minify-identifiers: Elysia's validators break when names are mangled (in the binary only,
// query bounds went unchecked and numeric strings slipped into bodies).
const proc = Bun.spawnSync(
  [
    process.execPath,
    "build",
    "--compile",
    "--minify-whitespace",
    "--minify-syntax",
    "--sourcemap",
    "--target=bun",
    "src/main.ts",
    "workers/job-worker.ts",
    "--outfile",
    outfile,
  ],
  { stdout: "inherit", stderr: "inherit" },
);
if (proc.exitCode !== 0) {
  console.error(`build failed (exit ${proc.exitCode})`);
  process.exit(1);
}
const mib = statSync(outfile).size / 1024 / 1024;
console.log(`built ${outfile}: ${mib.toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
