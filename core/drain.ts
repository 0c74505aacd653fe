/**
 * One worker over a queue someone else keeps: `kick()` after adding work starts `step` when no run
 * is under way, and the run calls `step` while `pending()` holds. `running` is cleared in the step
 * that finds nothing pending, so work added after it starts the next run; work added while a run is
 * under way is taken by that run. (Clearing it one step later, in a `.finally`, left work added in
 * between unread.) Group commit for the OpenLineage intake and the API token lookups.
 */
export class Drain {
  private running = false;

  constructor(
    private readonly pending: () => boolean,
    private readonly step: () => Promise<void>,
  ) {}

  kick(): void {
    if (this.running || !this.pending()) return;
    this.running = true;
    void this.run();
  }

  private async run(): Promise<void> {
    try {
      while (this.pending()) await this.step();
    } finally {
      this.running = false;
    }
  }
}
