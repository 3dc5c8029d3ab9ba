import { useState } from 'preact/hooks';
import { ApiCallError } from '../api.js';

/**
 * A change the owner makes with a form: while it is sent, what the host said when it
 * refused (`field` names the input the reason belongs beside), and what it said when done.
 */
export function useChange() {
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<{ reason: string; field: string | null } | null>(null);
  const [done, setDone] = useState('');
  const run = async <T>(send: () => Promise<T>, fallbackField: string): Promise<T | undefined> => {
    setBusy(true);
    setDone('');
    try {
      const result = await send();
      setRefusal(null);
      return result;
    } catch (err) {
      const field = err instanceof ApiCallError && err.field ? err.field : fallbackField;
      setRefusal({ reason: (err as Error).message, field });
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  /** The reason, when it is about `field`. */
  const errorFor = (field: string) => (refusal?.field === field ? refusal.reason : '');
  return { busy, run, errorFor, done, setDone, refusal };
}
