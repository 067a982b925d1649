import { type DeliveryAttempt, DeliveryAttemptSchema } from '@regwatch/contracts';
import { stateKey } from '@regwatch/queue';
import type { Redis } from 'ioredis';

/** Every delivery attempt, per delivery, capped and expiring, readable by the api. */
export class DeliveryLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly retentionSeconds = 14 * 24 * 3600,
    private readonly maxAttemptsKept = 50,
  ) {}

  private key(deliveryId: string): string {
    return stateKey(this.prefix, 'delivery', deliveryId);
  }

  async record(attempt: DeliveryAttempt): Promise<void> {
    const key = this.key(attempt.deliveryId);
    await this.redis
      .multi()
      .rpush(key, JSON.stringify(attempt))
      .ltrim(key, -this.maxAttemptsKept, -1)
      .expire(key, this.retentionSeconds)
      .zadd(stateKey(this.prefix, 'alert-deliveries', attempt.alertId), Date.parse(attempt.at), attempt.deliveryId)
      .expire(stateKey(this.prefix, 'alert-deliveries', attempt.alertId), this.retentionSeconds)
      .exec();
  }

  async attempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    const raws = await this.redis.lrange(this.key(deliveryId), 0, -1);
    return raws.map((r) => DeliveryAttemptSchema.parse(JSON.parse(r)));
  }
}
