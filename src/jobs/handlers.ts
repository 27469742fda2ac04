// The job machinery's own handlers (no domain effect); the composition root adds the modules'.
import type { Handlers } from "./registry";

export const jobsHandlers: Handlers = {
  "jobs.noop": async () => {},
};
