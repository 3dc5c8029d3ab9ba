import { useCallback, useEffect, useState } from 'preact/hooks';

/** Data a view loads on open (and again on `reload`), with the reason when it failed. */
export function useLoaded<T>(load: () => Promise<T>): {
  data: T | undefined;
  problem: string;
  reload: () => void;
} {
  const [data, setData] = useState<T>();
  const [problem, setProblem] = useState('');
  const reload = useCallback(() => {
    load().then(
      (value) => {
        setData(value);
        setProblem('');
      },
      (err: Error) => setProblem(err.message),
    );
  }, []);
  useEffect(reload, [reload]);
  return { data, problem, reload };
}
