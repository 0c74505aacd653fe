import { InMemoryNotificationChannel, type JobNotification } from 'agenda';

/**
 * Notifications within one process: a job this process saves reaches its own job processor at
 * once, without waiting for the next poll.
 *
 * Agenda's InMemoryNotificationChannel hands each notification to the handlers inside publish()
 * and waits for them. Agenda's handler locks every due job of that name, one after another, up
 * to the lock limits; so `save()` waited for that whole locking round, and a burst of saves
 * started one locking round per saved job. Those rounds queue up in the order the jobs were
 * saved: the names saved first took the process's whole `lockLimit` and the names saved last
 * got nothing until jobs finished (fewer jobs ran than `maxConcurrency` allowed).
 *
 * Here publish() only queues the notification. Notifications of one job name are handed over
 * one at a time, in order, each once the handlers of the one before have finished; different
 * names proceed side by side. So a name has at most one locking round in flight, rounds of all
 * names take turns on the connection, and every notification is still delivered.
 */
export class LocalNotificationChannel extends InMemoryNotificationChannel {
  /** Notifications not yet handed over, per job name; a name is present while its delivery runs. */
  private readonly pending = new Map<string, JobNotification[]>();

  override async publish(notification: JobNotification): Promise<void> {
    if (this.state !== 'connected') throw new Error('Cannot publish: channel not connected');
    const queued = this.pending.get(notification.jobName);
    if (queued) {
      queued.push(notification);
      return;
    }
    const queue = [notification];
    this.pending.set(notification.jobName, queue);
    setImmediate(() => void this.deliver(notification.jobName, queue));
  }

  override async disconnect(): Promise<void> {
    for (const queue of this.pending.values()) queue.length = 0;
    this.pending.clear();
    await super.disconnect();
  }

  private async deliver(jobName: string, queue: JobNotification[]): Promise<void> {
    try {
      for (let next = queue.shift(); next !== undefined && this.state === 'connected'; next = queue.shift()) {
        await this.notifyHandlers(next); // reports handler errors as 'error' events, never throws
      }
    } finally {
      if (this.pending.get(jobName) === queue) this.pending.delete(jobName);
    }
  }
}
