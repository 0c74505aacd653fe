import type { JobNotification } from 'agenda';
import { describe, expect, it } from 'vitest';
import { LocalNotificationChannel } from '../../../jobs/store/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const note = (jobName: string, n: number): JobNotification => ({ jobId: `${jobName}-${n}` as JobNotification['jobId'], jobName, nextRunAt: null, priority: 0, timestamp: new Date() });

/** A handler that records when each notification starts and ends, taking `ms` for each. */
function recorder(ms: number) {
  const log: string[] = [];
  let active = 0;
  let mostActive = 0;
  const handler = async (notification: JobNotification): Promise<void> => {
    active += 1;
    mostActive = Math.max(mostActive, active);
    log.push(`start ${String(notification.jobId)}`);
    await sleep(ms);
    log.push(`end ${String(notification.jobId)}`);
    active -= 1;
  };
  return { log, handler, mostActive: () => mostActive };
}

describe(LocalNotificationChannel.name, () => {
  it('returns from publish() before any handler runs', async () => {
    const channel = new LocalNotificationChannel();
    await channel.connect();
    const { log, handler } = recorder(20);
    channel.subscribe(handler);
    await channel.publish(note('a', 1));
    expect(log).toEqual([]);
    await sleep(60);
    expect(log).toEqual(['start a-1', 'end a-1']);
    await channel.disconnect();
  });

  it('hands over the notifications of one job name one at a time, in order, and other names alongside', async () => {
    const channel = new LocalNotificationChannel();
    await channel.connect();
    const a = recorder(15);
    const b = recorder(15);
    channel.subscribe((n) => (n.jobName === 'a' ? a.handler(n) : b.handler(n)));
    await Promise.all([1, 2, 3].flatMap((i) => [channel.publish(note('a', i)), channel.publish(note('b', i))]));
    await sleep(150);
    expect(a.log).toEqual(['start a-1', 'end a-1', 'start a-2', 'end a-2', 'start a-3', 'end a-3']);
    expect(b.log).toEqual(['start b-1', 'end b-1', 'start b-2', 'end b-2', 'start b-3', 'end b-3']);
    expect(a.mostActive()).toBe(1);
    // 'b' did not wait for all of 'a': both names were being handled at the same time.
    expect(b.log.indexOf('start b-1')).toBe(0);
    await channel.disconnect();
  });

  it('reports a failing handler as an error event and goes on with the next notification', async () => {
    const channel = new LocalNotificationChannel();
    await channel.connect();
    const errors: unknown[] = [];
    channel.on('error', (error) => errors.push(error));
    const seen: string[] = [];
    channel.subscribe((n) => {
      seen.push(String(n.jobId));
      if (n.jobId === 'a-1') throw new Error('handler failed');
    });
    await channel.publish(note('a', 1));
    await channel.publish(note('a', 2));
    await sleep(30);
    expect(seen).toEqual(['a-1', 'a-2']);
    expect(errors).toHaveLength(1);
    await channel.disconnect();
  });

  it('drops what it has not handed over when disconnected, and refuses to publish until connected', async () => {
    const channel = new LocalNotificationChannel();
    await expect(channel.publish(note('a', 0))).rejects.toThrow(/not connected/);
    await channel.connect();
    const { log, handler } = recorder(20);
    channel.subscribe(handler);
    await channel.publish(note('a', 1));
    await channel.publish(note('a', 2));
    await sleep(5);
    await channel.disconnect();
    await sleep(60);
    expect(log).toEqual(['start a-1', 'end a-1']);
    await channel.connect();
    channel.subscribe(handler);
    await channel.publish(note('a', 3));
    await sleep(40);
    expect(log).toEqual(['start a-1', 'end a-1', 'start a-3', 'end a-3']);
    await channel.disconnect();
  });
});
