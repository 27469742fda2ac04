// The hand-counted HTTP series render as valid Prometheus histograms: cumulative buckets, +Inf
// equal to the count, the sum, and escaped label values.
import { expect, test } from "bun:test";
import { Metrics } from "../../src/http/metrics";

test("HTTP requests render as a counter and a cumulative histogram", async () => {
  const m = new Metrics();
  m.request("GET", "/a", 200, 0.0005);
  m.request("GET", "/a", 200, 0.003);
  m.request("GET", "/a", 200, 7);
  m.request("POST", '/b"\\', 422, 0.02);
  const text = await m.render();
  const value = (series: string) =>
    Number(
      text
        .split("\n")
        .find((l) => l.startsWith(`${series} `))
        ?.split(" ")
        .pop(),
    );
  const a = 'method="GET",route="/a",status="200"';
  expect(value(`stayhub_http_requests_total{${a}}`)).toBe(3);
  expect(value(`stayhub_http_request_duration_seconds_bucket{le="0.001",${a}}`)).toBe(1);
  expect(value(`stayhub_http_request_duration_seconds_bucket{le="0.0025",${a}}`)).toBe(1);
  expect(value(`stayhub_http_request_duration_seconds_bucket{le="0.005",${a}}`)).toBe(2);
  expect(value(`stayhub_http_request_duration_seconds_bucket{le="2.5",${a}}`)).toBe(2);
  expect(value(`stayhub_http_request_duration_seconds_bucket{le="+Inf",${a}}`)).toBe(3);
  expect(value(`stayhub_http_request_duration_seconds_sum{${a}}`)).toBeCloseTo(7.0035, 6);
  expect(value(`stayhub_http_request_duration_seconds_count{${a}}`)).toBe(3);
  expect(text).toContain('stayhub_http_requests_total{method="POST",route="/b\\"\\\\",status="422"} 1');
  expect(text).toContain("# TYPE stayhub_http_request_duration_seconds histogram");
  expect(text).toContain("# TYPE stayhub_jobs_total counter"); // prom-client's own metrics are still there
});

test("search cache hits and misses render as one counter by kind and result", async () => {
  const m = new Metrics();
  m.search(true, true);
  m.search(true, true);
  m.search(true, false);
  m.search(false, false);
  const text = await m.render();
  expect(text).toContain("# TYPE stayhub_search_cache_total counter");
  expect(text).toContain('stayhub_search_cache_total{kind="dated",result="hit"} 2');
  expect(text).toContain('stayhub_search_cache_total{kind="dated",result="miss"} 1');
  expect(text).toContain('stayhub_search_cache_total{kind="undated",result="hit"} 0');
  expect(text).toContain('stayhub_search_cache_total{kind="undated",result="miss"} 1');
});
