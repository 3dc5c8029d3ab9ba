import { groupsApi, type GroupUsage, type UsageNumbers } from '../api-groups.js';
import { useLoaded } from './use-loaded.js';

const n = (v: number) => v.toLocaleString('en-US');
const usd = (v: number) => `$${v < 0.01 && v > 0 ? v.toFixed(4) : v.toFixed(2)}`;
const tokens = (u: UsageNumbers) =>
  u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheWriteTokens;

function budgetText(b: GroupUsage['budget']): string {
  const parts = [
    ...(b.tokens !== null ? [`${n(b.tokens)} tokens`] : []),
    ...(b.usd !== null ? [usd(b.usd)] : []),
  ];
  return parts.length ? `${parts.join(' / ')} a day` : 'none';
}

/** Tokens and estimated cost per group (the numbers `nanocell usage` prints), and budgets. */
export function UsageView() {
  const { data, problem, reload } = useLoaded(groupsApi.usage);
  const periods = [
    ['today', 'Today (UTC)'],
    ['week', '7 days'],
    ['month', '30 days'],
  ] as const;
  return (
    <section aria-label="Usage" class="panel">
      <div class="panel-head">
        <h2>Usage</h2>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      {problem && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      {data?.problem && (
        <p class="problem" role="alert">
          Costs are left out: {data.problem}
        </p>
      )}
      {data && (
        <div class="table-wrap">
          <table aria-label="Usage per group">
            <thead>
              <tr>
                <th scope="col">Group</th>
                {periods.map(([, label]) => (
                  <th scope="col" key={label}>
                    {label}
                  </th>
                ))}
                <th scope="col">Daily budget</th>
              </tr>
            </thead>
            <tbody>
              {data.groups.map((g) => (
                <tr key={g.group}>
                  <th scope="row">{g.group}</th>
                  {periods.map(([period]) => (
                    <td key={period}>
                      {n(tokens(g[period]))} tokens
                      <span class="muted">
                        {' '}
                        · {n(g[period].requests)} requests
                        {data.withCost ? ` · ${usd(g[period].usd)}` : ''}
                      </span>
                    </td>
                  ))}
                  <td>{budgetText(g.budget)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p class="muted">Costs are estimates from the price table (nanocell usage explains it).</p>
    </section>
  );
}
