// `bun run build` → dist/stayhub: one self-contained executable (migrations and the embedded
// database's assets inside), runnable from any directory with nothing beside it.
import { rmSync, statSync } from "node:fs";

const outfile = "dist/stayhub";
rmSync("dist", { recursive: true, force: true });
const started = performance.now();
const proc = Bun.spawnSync(
  // The job worker thread's entry is a second entrypoint, so the binary carries it.
  [process.execPath, "build", "--compile", "--minify", "--sourcemap", "--target=bun", "src/main.ts", "workers/job-worker.ts", "--outfile", outfile],
  { stdout: "inherit", stderr: "inherit" },
);
if (proc.exitCode !== 0) {
  console.error(`build failed (exit ${proc.exitCode})`);
  process.exit(1);
}
const mib = statSync(outfile).size / 1024 / 1024;
console.log(`built ${outfile}: ${mib.toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
