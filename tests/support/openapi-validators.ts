// The three validators the contract is checked with, run on one OpenAPI document file:
// @apidevtools/swagger-parser's validate(), Redocly's lint (recommended rules) and Spectral's oas ruleset.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";

export interface Finding {
  validator: string;
  severity: "error" | "warning";
  rule: string;
  where: string;
  message: string;
}

const bin = (name: string) => join(import.meta.dir, "../../node_modules/.bin", name);

async function swaggerParser(file: string): Promise<Finding[]> {
  try {
    await SwaggerParser.validate(file);
    return [];
  } catch (error) {
    const lines = String((error as Error).message)
      .split("\n")
      .filter((l) => l.trim().startsWith("#"));
    const all = lines.length ? lines : [String((error as Error).message)];
    return all.map((message) => ({
      validator: "swagger-parser",
      severity: "error",
      rule: "schema",
      where: "",
      message: message.trim(),
    }));
  }
}

async function run(cmd: string[]): Promise<string> {
  const proc = Bun.spawn(cmd, {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1", REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
  });
  const [out] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return out;
}

async function redocly(file: string): Promise<Finding[]> {
  const out = await run([
    bin("redocly"),
    "lint",
    "--extends",
    "recommended",
    "--format",
    "json",
    "--max-problems",
    "100000",
    file,
  ]);
  const report = JSON.parse(out.slice(out.indexOf("{"))) as {
    problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
  };
  return report.problems.map((p) => ({
    validator: "redocly",
    severity: p.severity === "error" ? "error" : "warning",
    rule: p.ruleId,
    where: p.location[0]?.pointer ?? "",
    message: p.message,
  }));
}

async function spectral(file: string): Promise<Finding[]> {
  const dir = mkdtempSync(join(tmpdir(), "spectral-"));
  const ruleset = join(dir, ".spectral.yaml");
  writeFileSync(ruleset, 'extends: ["spectral:oas"]\n');
  const out = await run([bin("spectral"), "lint", "--quiet", "-r", ruleset, "-f", "json", file]);
  const report = JSON.parse(out.slice(out.indexOf("["))) as {
    code: string;
    severity: number;
    message: string;
    path: string[];
  }[];
  return report.map((p) => ({
    validator: "spectral",
    severity: p.severity === 0 ? "error" : "warning",
    rule: p.code,
    where: p.path.join("/"),
    message: p.message,
  }));
}

/** Every finding of the three validators for the document in `file`. */
export async function validateOpenApi(file: string): Promise<Finding[]> {
  const results = await Promise.all([swaggerParser(file), redocly(file), spectral(file)]);
  return results.flat();
}

/** "validator: N errors, M warnings" for each validator. */
export function summarize(findings: Finding[]): string {
  return ["swagger-parser", "redocly", "spectral"]
    .map((v) => {
      const mine = findings.filter((f) => f.validator === v);
      return `${v}: ${mine.filter((f) => f.severity === "error").length} errors, ${mine.filter((f) => f.severity === "warning").length} warnings`;
    })
    .join("; ");
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: bun tests/support/openapi-validators.ts <document.json>");
  const findings = await validateOpenApi(file);
  for (const f of findings) console.log(`${f.validator} ${f.severity} ${f.rule} ${f.where} ${f.message}`);
  console.log(summarize(findings));
}
