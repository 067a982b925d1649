/**
 * Joins the new items of polls that finish close together into shared `items` jobs.
 *
 * Every `items` job costs the same whatever it carries: BullMQ's add, take and finish scripts in
 * Redis, and the classifier's round trips for the job (story index, alert save, routing). A poll
 * usually brings a handful of new items, so when many polls run at once, most of that cost is per
 * job. Here a poll that has its feed's response in hand says so ({@link ItemBatcher.expect}); its
 * new items, when it has any, join the batch ({@link BatchTicket.add}); a batch is sent once no
 * announced poll is still on its way to it, once it is full, or after `maxWaitMs` at most.
 *
 * A lone poll therefore waits for nobody (at a quiet moment a batch is one poll's items, as
 * before); under load, polls that parse at the same time share jobs. A ticket's `add` resolves
 * only once its items are in the queue, and rejects when the batch's send failed, so a poll still
 * remembers its items only after they were queued, and a failed send fails every poll in the
 * batch (each is retried; classifying is idempotent per item).
 */
export interface ItemBatcherOptions<T> {
  /** Queues one batch (in as many jobs as the per-job cap needs); resolves once they are in Redis. */
  send: (items: T[]) => Promise<void>;
  /** A batch is sent as soon as it holds this many items. */
  maxItems: number;
  /** The longest a batch waits for announced polls. */
  maxWaitMs: number;
}

export interface BatchTicket<T> {
  /** Adds the poll's new items to the batch; resolves once they are queued. At most once per ticket. */
  add(items: readonly T[]): Promise<void>;
  /** The poll is over (it added its items, had none, or failed): nobody waits for it any more. Idempotent. */
  done(): void;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class ItemBatcher<T> {
  private items: T[] = [];
  private waiters: Waiter[] = [];
  /** Tickets handed out and neither added nor done: polls that may still bring items. */
  private announced = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ItemBatcherOptions<T>) {
    if (!(options.maxItems >= 1)) throw new RangeError(`maxItems must be at least 1, got ${options.maxItems}`);
    if (!(options.maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be 0 or more, got ${options.maxWaitMs}`);
  }

  /** Polls announced and not yet added or done. */
  get waitingFor(): number {
    return this.announced;
  }

  /** A poll has its response and is about to parse it: a batch being formed waits for it (up to `maxWaitMs`). */
  expect(): BatchTicket<T> {
    this.announced++;
    let open = true;
    const close = () => {
      if (!open) return false;
      open = false;
      this.announced--;
      return true;
    };
    return {
      add: (items) => {
        if (!close()) return Promise.reject(new Error('this poll already added its items or is done'));
        if (items.length === 0) {
          this.settle();
          return Promise.resolve();
        }
        const queued = new Promise<void>((resolve, reject) => {
          this.waiters.push({ resolve, reject });
        });
        this.items.push(...items);
        this.settle();
        return queued;
      },
      done: () => {
        if (close()) this.settle();
      },
    };
  }

  /** Sends the batch when nothing more is coming or it is full; otherwise makes sure it waits no longer than `maxWaitMs`. */
  private settle(): void {
    if (this.items.length === 0) return;
    if (this.announced === 0 || this.items.length >= this.options.maxItems) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), this.options.maxWaitMs);
  }

  private flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const items = this.items;
    const waiters = this.waiters;
    this.items = [];
    this.waiters = [];
    if (items.length === 0) return;
    let sent: Promise<void>;
    try {
      sent = this.options.send(items);
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
      },
    );
  }
}
