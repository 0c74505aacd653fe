import type { EntityManager } from '@mikro-orm/knex';
import type { Logger } from 'pino';
import { Drain } from '../../core/drain.js';
import { DomainError } from '../../core/errors.js';
import type { NamingContext } from '../../jobs/openlineage/naming.js';
import { datasetCount, receiveEvents, receiveGroup, type Group, type Incoming, type Received } from './receive.js';

/** Most events, and datasets they name, taken in by one transaction: a transaction holds the write lock, so it stays short. */
export const GROUP_SIZE = 500;
export const GROUP_DATASETS = 5_000;

interface Waiting {
  incoming: Incoming;
  tokenId: string | null;
  resolve: (received: Received) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for received events: every request hands its checked events here and waits; the
 * events that arrive while a transaction is under way go together in the next one (up to
 * GROUP_SIZE), so many senders at once cost one commit, not one each. A group that fails is taken
 * again event by event, so one event's failure is that event's alone.
 */
export class EventIntake {
  private readonly queue: Waiting[] = [];
  private readonly drain = new Drain(
    () => this.queue.length > 0,
    () => this.takeGroup(),
  );

  constructor(
    private readonly em: () => EntityManager,
    private readonly naming: () => NamingContext,
    private readonly logger: Logger,
  ) {}

  /** Takes in events (in their order); each promise settles with its own outcome. */
  submit(events: Incoming[], tokenId: string | null): Promise<Received>[] {
    const promises = events.map((incoming) => new Promise<Received>((resolve, reject) => this.queue.push({ incoming, tokenId, resolve, reject })));
    this.drain.kick();
    return promises;
  }

  /** One group in one transaction; a failed one again event by event. */
  private async takeGroup(): Promise<void> {
    // The group is picked once the transaction holds the write lock: the events that came in
    // while it waited for it (their requests' own reads share the one SQLite connection) join.
    let group: Waiting[] = [];
    const pick = (): Group => {
      group = this.take();
      return { incoming: group.map((w) => w.incoming), tokenId: group[0]!.tokenId };
    };
    try {
      const received = await receiveGroup(this.em(), pick, this.naming());
      group.forEach((w, i) => w.resolve(received[i]!));
      return;
    } catch (error) {
      if (group.length === 0) group = this.take(); // failed before it picked: those next in line are tried alone
      if (group.length === 1) return group[0]!.reject(error);
      if (!(error instanceof DomainError)) this.logger.warn({ err: error, events: group.length }, 'a group of OpenLineage events failed; taking them one by one');
    }
    for (const w of group) {
      try {
        w.resolve((await receiveEvents(this.em(), [w.incoming], { naming: this.naming(), tokenId: w.tokenId }))[0]!);
      } catch (single) {
        w.reject(single);
      }
    }
  }

  /** The next group: in order, of one sending token (the stored rows name one), within GROUP_SIZE events and GROUP_DATASETS datasets. */
  private take(): Waiting[] {
    const first = this.queue[0]!;
    let size = 1;
    let datasets = datasetCount(first.incoming.event);
    while (size < Math.min(GROUP_SIZE, this.queue.length) && this.queue[size]!.tokenId === first.tokenId) {
      datasets += datasetCount(this.queue[size]!.incoming.event);
      if (datasets > GROUP_DATASETS) break;
      size++;
    }
    return this.queue.splice(0, size);
  }
}
