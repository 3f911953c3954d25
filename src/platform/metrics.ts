/**
 * Prometheus metrics for GET /metrics, through prom-client: its default process and Node metrics
 * plus what the bot does. Each process has its own registry (tests run several bots in one).
 *
 * Counters and histograms count what this process did; Prometheus sums them over replicas. Gauges
 * about shared state (applications by state, the outbox, the last sheet read) are read from Redis
 * when scraped, so every replica reports the same value. Label values come from short fixed lists
 * or from our own names (routes, Keystone operations, Slack methods): never an email or an id.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const REFUSAL_REASONS = ['bad_signature', 'replay', 'non_admin', 'malformed'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];
const LINK_EVENTS = ['issued', 'redeemed', 'expired'] as const;
export type LinkEvent = (typeof LINK_EVENTS)[number];
/** How a call to Keystone, Slack or the mail relay ended. */
export type CallOutcome =
  | 'ok'
  | 'error'
  | 'rate_limited'
  | 'client_error'
  | 'server_error'
  | 'unreachable'
  | 'temporary'
  | 'permanent';

/** Reads of shared state for the gauges, set by the composition root; each one runs at scrape time. */
export interface SharedStateSources {
  applicationsByState?: () => Promise<Record<string, number>>;
  outbox?: () => Promise<{ depth: number; oldestAgeSeconds: number }>;
  /** Seconds since the sheet was last read successfully by any replica; undefined when never. */
  sheetLastReadAgeSeconds?: () => Promise<number | undefined>;
  /** Whether each dependency (redis, keystone) answers right now. */
  dependencies?: () => Promise<Record<string, boolean>>;
}

export interface MetricsOptions {
  role?: string;
  version?: string;
  /** prom-client's process and Node metrics; on unless a test turns them off. */
  defaults?: boolean;
}

const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Call latencies: from a local Redis round trip to a slow Keystone. */
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A sheet poll reads the whole tab and may post cards: seconds, sometimes a minute. */
const POLL_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class Metrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  private sources: SharedStateSources = {};

  private readonly http: Histogram<'route' | 'status'>;
  private readonly keystone: Histogram<'operation' | 'outcome'>;
  private readonly slack: Histogram<'method' | 'outcome'>;
  private readonly smtp: Histogram<'outcome'>;
  private readonly sheetPollDuration: Histogram<'outcome'>;
  private readonly approvals: Counter<'outcome'>;
  private readonly retries: Counter<'outcome'>;
  private readonly rejections: Counter<'outcome'>;
  private readonly stepFailures: Counter<'step' | 'kind'>;
  private readonly links: Counter<'event'>;
  private readonly wrongPins: Counter;
  private readonly lockouts: Counter;
  private readonly reminders: Counter<'audience'>;
  private readonly invalidRows: Counter;
  private readonly refusals: Counter<'reason'>;
  private readonly jobRuns: Counter<'job' | 'outcome'>;
  private readonly setpassSubmissions: Counter<'outcome'>;
  private readonly jobInterval: Gauge<'job'>;
  private readonly leader: Gauge<'job'>;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaults ?? true) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters, which `promtool check metrics` refuses; the same numbers are
      // the sums of nodejs_active_handles / _requests / _resources by type.
      for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
    }
    new Gauge({
      name: 'kaizen_build_info',
      help: 'Always 1; the labels say which build runs in which role.',
      labelNames: ['version', 'node', 'role'],
      registers,
    }).set({ version: options.version ?? 'unknown', node: process.version, role: options.role ?? 'all' }, 1);

    const histogram = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      buckets = CALL_BUCKETS,
    ) => new Histogram<L>({ name, help, labelNames, buckets, registers });
    this.http = histogram(
      'kaizen_http_request_duration_seconds',
      'HTTP requests served, by route (paths with ids collapsed) and status code.',
      ['route', 'status'],
    );
    this.keystone = histogram(
      'kaizen_keystone_request_duration_seconds',
      'Requests to Keystone, by operation (method and path with ids collapsed) and outcome.',
      ['operation', 'outcome'],
    );
    this.slack = histogram(
      'kaizen_slack_api_request_duration_seconds',
      'Slack Web API requests (each HTTP attempt), by method and outcome; rate_limited is a 429.',
      ['method', 'outcome'],
    );
    this.smtp = histogram(
      'kaizen_smtp_send_duration_seconds',
      'Messages handed to the mail relay, by outcome: ok, temporary (retried later) or permanent.',
      ['outcome'],
    );
    this.sheetPollDuration = histogram(
      'kaizen_sheet_poll_duration_seconds',
      'Sheet polls (read, new cards posted), by outcome: ok or failed.',
      ['outcome'],
      POLL_BUCKETS,
    );
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers });
    this.approvals = counter(
      'kaizen_approvals_total',
      'Provisioning runs that ended, by outcome: provisioned or failed.',
      ['outcome'],
    );
    this.retries = counter(
      'kaizen_approval_retries_total',
      'Provisioning runs started by Retry on a failed approval, by outcome: provisioned or failed.',
      ['outcome'],
    );
    this.rejections = counter(
      'kaizen_rejections_total',
      'Reject decisions, by outcome: rejected, already_rejected, busy (being approved), approved, not_found.',
      ['outcome'],
    );
    this.stepFailures = counter(
      'kaizen_provision_step_failures_total',
      'Provisioning steps that failed, by step and error kind.',
      ['step', 'kind'],
    );
    this.links = counter(
      'kaizen_setpass_links_total',
      'Password links: issued, redeemed (password set), expired (found expired by the reminders and replaced).',
      ['event'],
    );
    this.wrongPins = counter('kaizen_setpass_wrong_pins_total', 'Wrong PINs typed on the password page.');
    this.lockouts = counter(
      'kaizen_setpass_lockouts_total',
      'Password links disabled after too many wrong PINs.',
    );
    this.reminders = counter(
      'kaizen_reminders_sent_total',
      'Reminders sent: audience user (an email about an unused link) or admin (applicants in a digest).',
      ['audience'],
    );
    this.invalidRows = counter(
      'kaizen_sheet_invalid_rows_total',
      'Sheet rows that cannot become applications, counted when first noticed.',
    );
    this.refusals = counter(
      'kaizen_refused_requests_total',
      'Requests refused, by reason: bad_signature, replay, non_admin, malformed.',
      ['reason'],
    );
    this.jobRuns = counter(
      'kaizen_job_runs_total',
      'Scheduled job ticks this replica ran, by job and outcome: ok, failed, busy (previous run still going).',
      ['job', 'outcome'],
    );
    this.setpassSubmissions = counter(
      'kaizen_setpass_submissions_total',
      'Password page submissions, by outcome.',
      ['outcome'],
    );
    this.jobInterval = new Gauge({
      name: 'kaizen_job_interval_seconds',
      help: 'Time between two ticks of each scheduled job, as of its last tick.',
      labelNames: ['job'],
      registers,
    });
    this.leader = new Gauge({
      name: 'kaizen_job_leader',
      help: '1 while this replica holds the running lease of the job (it runs the current tick).',
      labelNames: ['job'],
      registers,
    });
    this.sharedGauges(registers);
    // Series that exist from the start: `increase()` misses the first event of a series that
    // appears with it.
    for (const outcome of ['provisioned', 'failed']) {
      this.approvals.inc({ outcome }, 0);
      this.retries.inc({ outcome }, 0);
    }
    for (const reason of REFUSAL_REASONS) this.refusals.inc({ reason }, 0);
    for (const event of LINK_EVENTS) this.links.inc({ event }, 0);
    for (const audience of ['user', 'admin']) this.reminders.inc({ audience }, 0);
  }

  /** Where the shared-state gauges read from; set once the clients exist. */
  readFrom(sources: SharedStateSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** The text exposition for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  observeRequest(route: string, status: number, ms: number): void {
    this.http.observe({ route, status: String(status) }, ms / 1000);
  }

  keystoneCall(operation: string, outcome: CallOutcome, seconds: number): void {
    this.keystone.observe({ operation, outcome }, seconds);
  }

  slackCall(method: string, outcome: CallOutcome, seconds: number): void {
    this.slack.observe({ method, outcome }, seconds);
  }

  smtpSend(outcome: CallOutcome, seconds: number): void {
    this.smtp.observe({ outcome }, seconds);
  }

  sheetPoll(outcome: 'ok' | 'failed', seconds: number): void {
    this.sheetPollDuration.observe({ outcome }, seconds);
  }

  approval(outcome: 'provisioned' | 'failed', retry: boolean): void {
    this.approvals.inc({ outcome });
    if (retry) this.retries.inc({ outcome });
  }

  rejection(outcome: string): void {
    this.rejections.inc({ outcome });
  }

  stepFailed(step: string, kind: string): void {
    this.stepFailures.inc({ step, kind });
  }

  link(event: LinkEvent): void {
    this.links.inc({ event });
  }

  wrongPin(): void {
    this.wrongPins.inc();
  }

  lockout(): void {
    this.lockouts.inc();
  }

  remindersSent(audience: 'user' | 'admin', count: number): void {
    if (count > 0) this.reminders.inc({ audience }, count);
  }

  invalidRowsNoticed(count: number): void {
    if (count > 0) this.invalidRows.inc(count);
  }

  refused(reason: RefusalReason): void {
    this.refusals.inc({ reason });
  }

  jobRun(job: string, outcome: 'ok' | 'failed' | 'busy'): void {
    this.jobRuns.inc({ job, outcome });
  }

  jobTick(job: string, intervalSeconds: number): void {
    this.jobInterval.set({ job }, intervalSeconds);
  }

  jobLeader(job: string, held: boolean): void {
    this.leader.set({ job }, held ? 1 : 0);
  }

  setpassSubmission(outcome: string): void {
    this.setpassSubmissions.inc({ outcome });
  }

  /** Gauges whose value is read when scraped; a read that fails leaves its gauge without samples. */
  private sharedGauges(registers: Registry[]): void {
    const sources = () => this.sources;
    new Gauge({
      name: 'kaizen_applications',
      help: 'Applications by state, read from Redis (the same on every replica).',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        const counts = await sources()
          .applicationsByState?.()
          .catch(() => undefined);
        for (const [state, count] of Object.entries(counts ?? {})) this.set({ state }, count);
      },
    });
    const outbox = async () =>
      sources()
        .outbox?.()
        .catch(() => undefined);
    new Gauge({
      name: 'kaizen_mail_outbox_messages',
      help: 'Emails waiting in the outbox (sending or to be retried), read from Redis.',
      registers,
      async collect() {
        this.reset();
        const read = await outbox();
        if (read) this.set(read.depth);
      },
    });
    new Gauge({
      name: 'kaizen_mail_outbox_oldest_age_seconds',
      help: 'Age of the oldest email still waiting in the outbox; 0 when it is empty.',
      registers,
      async collect() {
        this.reset();
        const read = await outbox();
        if (read) this.set(read.oldestAgeSeconds);
      },
    });
    new Gauge({
      name: 'kaizen_sheet_last_read_age_seconds',
      help: 'Seconds since any replica last read the applications sheet successfully (from Redis).',
      registers,
      async collect() {
        this.reset();
        const age = await sources()
          .sheetLastReadAgeSeconds?.()
          .catch(() => undefined);
        if (age !== undefined) this.set(age);
      },
    });
    new Gauge({
      name: 'kaizen_dependency_up',
      help: 'Whether a dependency answers right now (1) or not (0): redis, keystone.',
      labelNames: ['dependency'],
      registers,
      async collect() {
        this.reset();
        const up = await sources()
          .dependencies?.()
          .catch(() => undefined);
        for (const [dependency, ok] of Object.entries(up ?? {})) this.set({ dependency }, ok ? 1 : 0);
      },
    });
  }
}
