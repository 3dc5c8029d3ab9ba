/**
 * The most recent items up to a count and a total weight (bytes): what the web channel keeps
 * of what it sent (buttons offered, files shown) so a click or a download can be checked.
 * Oldest go first.
 */
export class RecentItems<T> {
  private readonly items = new Map<string, { value: T; weight: number }>();
  private totalWeight = 0;

  constructor(
    private readonly maxItems: number,
    private readonly maxWeight = Infinity,
  ) {}

  set(key: string, value: T, weight = 0): void {
    this.delete(key);
    this.items.set(key, { value, weight });
    this.totalWeight += weight;
    for (const [oldest] of this.items) {
      if (this.items.size <= this.maxItems && this.totalWeight <= this.maxWeight) break;
      this.delete(oldest);
    }
  }

  get(key: string): T | undefined {
    return this.items.get(key)?.value;
  }

  private delete(key: string): void {
    const item = this.items.get(key);
    if (!item) return;
    this.items.delete(key);
    this.totalWeight -= item.weight;
  }
}
