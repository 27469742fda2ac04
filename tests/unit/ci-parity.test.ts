// The two CI definitions run the same steps: .ci/run (any Debian/Ubuntu machine) and the GitHub
// workflow. A `bun run …` / `bun test …` step added to one and forgotten in the other fails here.
import { expect, test } from "bun:test";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

/** The `bun run X` / `bun test X` commands of shell text, in order; comments and quoted text are not commands. */
function bunSteps(shell: string): string[] {
  const steps: string[] = [];
  for (const line of shell.split("\n")) {
    if (/^\s*#/.test(line)) continue;
    const code = line.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/'[^']*'/g, "''");
    for (const m of code.matchAll(/\bbun (run|test) ([^\s;&|)]+)/g)) steps.push(`bun ${m[1]} ${m[2]}`);
  }
  return steps;
}

interface Workflow {
  jobs: Record<string, { steps?: { run?: string }[] }>;
}

async function workflowSteps(): Promise<string[]> {
  const workflow = Bun.YAML.parse(await Bun.file(`${ROOT}/.github/workflows/ci.yml`).text()) as Workflow;
  return Object.values(workflow.jobs).flatMap((job) => (job.steps ?? []).flatMap((s) => bunSteps(s.run ?? "")));
}

test(".ci/run and .github/workflows/ci.yml run the same bun steps in the same order", async () => {
  const local = bunSteps(await Bun.file(`${ROOT}/.ci/run`).text());
  const github = await workflowSteps();
  expect(local).toContain("bun run test");
  expect(local).toContain("bun run test:faults");
  expect(github).toEqual(local);
});

test("a step is read from commands only, not from comments or quoted labels", () => {
  const script = [
    "# bun run not-a-step",
    'check "typecheck (bun run fake)" bun run typecheck',
    'log "the fault suite (bun run test:faults)"',
    "count bun run test",
    'sudo -E env "PATH=$PATH" bun run test:faults && bun test tests/e2e',
  ].join("\n");
  expect(bunSteps(script)).toEqual(["bun run typecheck", "bun run test", "bun run test:faults", "bun test tests/e2e"]);
});
