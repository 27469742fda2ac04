// The first-come gate in front of database connections and searches.
import { describe, expect, test } from "bun:test";
import { fifoGate } from "../../src/lib/fifo-gate";

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

describe("fifoGate", () => {
  test("runs at most N at once and lets the rest in by arrival order", async () => {
    const gate = fifoGate(2);
    const started: number[] = [];
    const holds = Array.from({ length: 5 }, deferred);
    const runs = holds.map((h, i) =>
      gate(() => {
        started.push(i);
        return h.promise;
      }),
    );
    await Bun.sleep(1);
    expect(started).toEqual([0, 1]);
    holds[1]?.resolve();
    await Bun.sleep(1);
    expect(started).toEqual([0, 1, 2]);
    holds[0]?.resolve();
    holds[2]?.resolve();
    await Bun.sleep(1);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    holds[3]?.resolve();
    holds[4]?.resolve();
    await Promise.all(runs);
  });

  test("a failure, thrown or rejected, gives its place back", async () => {
    const gate = fifoGate(1);
    await expect(gate(() => Promise.reject(new Error("rejected")))).rejects.toThrow("rejected");
    await expect(
      gate(() => {
        throw new Error("thrown");
      }),
    ).rejects.toThrow("thrown");
    expect(await gate(() => Promise.resolve("still open"))).toBe("still open");
  });

  test("work starts at once when a place is free (no turn of the event loop)", () => {
    const gate = fifoGate(1);
    let ran = false;
    void gate(() => {
      ran = true;
      return Promise.resolve();
    });
    expect(ran).toBe(true);
  });
});
