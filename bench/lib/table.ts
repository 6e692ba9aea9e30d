/** One table of a scenario's report. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

/** Renders a table as GitHub markdown (numbers right-aligned). */
export function renderTable(table: BenchTable): string {
  const cells = table.rows.map((row) => row.map((c) => String(c)));
  const numeric = table.columns.map((_, i) => table.rows.length > 0 && table.rows.every((r) => typeof r[i] === 'number' || /^[-\d.,]+( ?(ms|MB|×|%|s))?$|^–$/.test(String(r[i]))));
  const head = `| ${table.columns.join(' | ')} |`;
  const rule = `|${table.columns.map((_, i) => (numeric[i] ? '---:' : '---')).join('|')}|`;
  const body = cells.map((row) => `| ${row.join(' | ')} |`);
  return [`**${table.title}**`, '', head, rule, ...body].join('\n');
}
