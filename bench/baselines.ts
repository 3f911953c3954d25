/**
 * The baselines the benchmarks measure against, each run as a process of its own like the bot:
 * - `bolt`: a bare Bolt app in HTTP mode, configured as the bot's receiver (processBeforeResponse),
 *   whose only listener acks every button click; GET /ready answers once it listens.
 * - `page`: a bare node:http server answering every request with one fixed HTML page of
 *   BASELINE_PAGE_BYTES bytes (the size of the real password page).
 */
import { createServer } from 'node:http';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

const port = Number(process.env.PORT ?? 0);

async function bareBolt(): Promise<() => Promise<void>> {
  const receiver = new HTTPReceiver({
    signingSecret: process.env.SLACK_SIGNING_SECRET ?? '',
    endpoints: '/slack/events',
    processBeforeResponse: true,
    customRoutes: [{ path: '/ready', method: ['GET'], handler: (_req, res) => res.end('ok') }],
  });
  const app = new App({
    token: process.env.SLACK_BOT_TOKEN,
    receiver,
    logLevel: LogLevel.ERROR,
    // The bot asks Slack who it is at start-up; the baseline needs no answer from anyone.
    tokenVerificationEnabled: false,
    botId: 'B0KAIZENBOT',
    botUserId: 'U0KAIZENBOT',
    clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
  });
  app.action(/.*/, async ({ ack }) => {
    await ack();
  });
  await app.start(port);
  return async () => {
    await app.stop();
  };
}

async function barePage(): Promise<() => Promise<void>> {
  const size = Number(process.env.BASELINE_PAGE_BYTES ?? 4096);
  const page = `<!doctype html><html><body><p>${'x'.repeat(Math.max(0, size - 44))}</p></body></html>`;
  const server = createServer((request, response) => {
    // Read the body (a form post has one) before answering, as any server must.
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(page);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return () => new Promise((resolve) => server.close(() => resolve()));
}

const stop = process.argv[2] === 'page' ? await barePage() : await bareBolt();
process.once('SIGTERM', () => {
  stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
