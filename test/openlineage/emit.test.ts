import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { factories } from '../factories/index.js';
import { eventually, finished, runNow } from '../scheduler/helpers.js';
import { Role } from '../../core/enums.js';
import { OpenLineageEmitter, lineageEndpoint } from '../../jobs/openlineage/emitter.js';
import { parseOpenLineageEvent } from '../../api/openlineage/validate.js';

const JOB = `query($n: String) { automation(name: $n) { kind name ... on ExternalJob { olNamespace producer } inputs { name kind } outputs { name kind columns { name } }
  lastRun { status rowsWritten trigger parentRun { automation { name } } } } }`;

describe('OpenLineage emission', () => {
  let receiver: TestServer;
  let sender: TestServer;

  beforeAll(async () => {
    receiver = await startTestServer();
    const writer = await receiver.addUser(Role.EDITOR);
    sender = await startTestServer({ OPENLINEAGE_URL: receiver.url, OPENLINEAGE_API_KEY: writer.token, OPENLINEAGE_NAMESPACE: 'tributary-a' });
  }, 60_000);
  afterAll(async () => {
    await sender?.close();
    await receiver?.close();
  });

  it('sends every run of a chain to another Tributary, which draws them as external jobs under their chain', async () => {
    const f = factories(sender);
    writeFileSync(join(sender.filesDir, 'input.csv'), 'id,amount\n1,10\n2,20\n3,30\n');
    const input = await f.file({ name: 'a_orders_file' });
    const output = await f.storage({ name: 'a_orders' });
    const etl = await f.etl(input, output, { name: 'a_load_orders' });
    const chain = await f.chain([etl], { name: 'a_nightly' });
    const run = await finished(sender, (await runNow(sender, chain.id)).id);
    expect(run.status).toBe('SUCCESS');

    const seen = await eventually(
      () => receiver.ok(JOB, { n: 'a_load_orders' }),
      (data) => data.automation?.lastRun?.status === 'SUCCESS',
    );
    expect(seen.automation).toMatchObject({ kind: 'EXTERNAL_JOB', olNamespace: 'tributary-a', producer: expect.stringMatching(/^urn:tributary:/) });
    expect(seen.automation.lastRun).toMatchObject({ rowsWritten: 3, trigger: 'EXTERNAL', parentRun: { automation: { name: 'a_nightly' } } });
    expect(seen.automation.inputs).toEqual([{ name: join(sender.filesDir, 'input.csv'), kind: 'EXTERNAL' }]);
    expect(seen.automation.outputs[0].columns.map((c: { name: string }) => c.name)).toEqual(['id', 'amount']);
    const parent = await eventually(() => receiver.ok(JOB, { n: 'a_nightly' }), (data) => data.automation?.lastRun?.status === 'SUCCESS');
    expect(parent.automation.olNamespace).toBe('tributary-a');
  });

  it('a run succeeds, and the server stops, when the receiver is down', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve())); // nothing listens there now
    const lonely = await startTestServer({ OPENLINEAGE_URL: `http://127.0.0.1:${port}` });
    try {
      const f = factories(lonely);
      writeFileSync(join(lonely.filesDir, 'input.csv'), 'id\n1\n');
      const etl = await f.etl(await f.file(), await f.storage());
      expect((await finished(lonely, (await runNow(lonely, etl.id)).id)).status).toBe('SUCCESS');
    } finally {
      const started = Date.now();
      await lonely.close();
      expect(Date.now() - started).toBeLessThan(20_000); // the emitter's grace, not its half-minute of retries
    }
  });
});

describe(OpenLineageEmitter.name, () => {
  /** A real receiver answering each POST with the next status of `script`, recording the bodies. */
  async function receiverAnswering(script: number[]) {
    const bodies: { status: number; body: unknown; authorization?: string }[] = [];
    const server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk));
      req.on('end', () => {
        const status = script[Math.min(bodies.length, script.length - 1)]!;
        bodies.push({ status, body: JSON.parse(text), authorization: req.headers.authorization });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/base`), bodies, close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t?.close());

  const emitterFor = (url: URL) =>
    new OpenLineageEmitter({
      config: { namespace: 'tributary', url, apiKey: 'secret-key' },
      naming: () => ({ namespace: 'tributary', warehouse: t.server.warehouse.lineageNaming }),
      em: () => t.server.orm.em.fork() as never,
      logger: pino({ level: 'silent' }),
      version: '0.0.0-test',
      backoffMs: [20, 20],
    });

  it('retries 5xx until the receiver takes the event, and sends valid events in order with the key', async () => {
    const f = factories(t);
    writeFileSync(join(t.filesDir, 'input.csv'), 'id\n1\n');
    const etl = await f.etl(await f.file(), await f.storage());
    const run = await finished(t, (await runNow(t, etl.id)).id);
    const receiver = await receiverAnswering([503, 502, 201, 201]);
    const emitter = emitterFor(receiver.url);
    emitter.started(run.id);
    emitter.finished(run.id);
    await emitter.close(10_000);
    await receiver.close();
    expect(receiver.bodies.map((b) => b.status)).toEqual([503, 502, 201, 201]);
    expect(emitter.stats).toEqual({ sent: 2, dropped: 0, retries: 2 });
    const [start, complete] = [receiver.bodies[2]!.body, receiver.bodies[3]!.body] as Record<string, any>[];
    expect(parseOpenLineageEvent(start)).toMatchObject({ kind: 'RUN', eventType: 'START', run: { runId: run.id }, job: { namespace: 'tributary', name: etl.name } });
    expect(parseOpenLineageEvent(complete)).toMatchObject({ kind: 'RUN', eventType: 'COMPLETE', outputs: [{ outputFacets: { outputStatistics: { rowCount: 1 } } }] });
    expect(receiver.bodies[0]!.authorization).toBe('Bearer secret-key');
  });

  it('drops an event the receiver refuses (4xx) without retrying, and never throws', async () => {
    const f = factories(t);
    writeFileSync(join(t.filesDir, 'input.csv'), 'id\n1\n');
    const etl = await f.etl(await f.file(), await f.storage());
    const run = await finished(t, (await runNow(t, etl.id)).id);
    const receiver = await receiverAnswering([400]);
    const emitter = emitterFor(receiver.url);
    emitter.finished(run.id);
    emitter.finished('no-such-run');
    await emitter.close(10_000);
    await receiver.close();
    expect(receiver.bodies).toHaveLength(1);
    expect(emitter.stats).toEqual({ sent: 0, dropped: 1, retries: 0 });
  });

  it('posts to the OpenLineage clients’ default path under the configured URL', () => {
    expect(lineageEndpoint(new URL('http://marquez:5000'))).toBe('http://marquez:5000/api/v1/lineage');
    expect(lineageEndpoint(new URL('http://host/tributary/'))).toBe('http://host/tributary/api/v1/lineage');
    expect(lineageEndpoint(new URL('http://host/custom/api/v1/lineage'))).toBe('http://host/custom/api/v1/lineage');
  });
});
