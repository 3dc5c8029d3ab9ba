import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_PRICES, PriceFileError, parsePrices, type PriceTable } from './prices.js';

/** More than any price table needs; a bigger file is refused unread. */
const MAX_PRICE_FILE_BYTES = 64 * 1024;

export const PRICE_FILE = 'prices.json';

/**
 * The owner's price table: `CONFIG_DIR/prices.json` over the defaults. Never throws: a file
 * that is missing gives the defaults; one that is bad gives the defaults and `problem`, which
 * names the file, the key and the fix.
 */
export function readPriceFile(configDir: string): { table: PriceTable; problem?: string } {
  const file = path.join(configDir, PRICE_FILE);
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_PRICE_FILE_BYTES) {
      return {
        table: DEFAULT_PRICES,
        problem: `${file} is ${size} bytes, more than ${MAX_PRICE_FILE_BYTES}; keep only the models you use`,
      };
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { table: DEFAULT_PRICES };
    return {
      table: DEFAULT_PRICES,
      problem: `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}); fix its permissions or delete it`,
    };
  }
  try {
    return { table: parsePrices(text, file) };
  } catch (err) {
    if (err instanceof PriceFileError) return { table: DEFAULT_PRICES, problem: err.message };
    throw err;
  }
}
