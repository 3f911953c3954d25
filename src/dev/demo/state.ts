/** What a running demo writes down, so a second run finds it and a test can check its processes. */
export interface DemoState {
  pid: number;
  url: string;
  botPid: number | undefined;
  /** The services this run started (and stops), by name: their pids. */
  started: Record<string, number>;
  redisPrefix: string;
}
