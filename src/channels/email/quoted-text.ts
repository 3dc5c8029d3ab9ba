/** The line a mail client writes above the quoted mail: "On Mon, 3 Jun 2024, Ann wrote:". */
const ATTRIBUTION =
  /^(On|Am|Le|El|Il|Op)\s.{0,300}(wrote|schrieb|a écrit|escribió|ha scritto|schreef)(\s.{0,200})?\s?:\s*$/i;
/** Outlook's separators before the quoted mail. */
const ORIGINAL =
  /^(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Forwarded message)\s*-{2,}|_{10,})\s*$/i;
const SIGNATURE = /^-- ?$/;

/**
 * What the sender wrote themself in a reply: the text above the quoted mail, without
 * `>` lines or the signature (after the standard "-- " line). An attribution line that a
 * client wrapped in two is recognised too. A mail that is only quotes keeps its text, so
 * nothing the sender sent vanishes silently.
 */
export function stripQuoted(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const joined = `${line} ${lines[i + 1] ?? ''}`.trim();
    if (ATTRIBUTION.test(line.trim()) || ORIGINAL.test(line.trim())) break;
    if (/^(On|Am|Le|El|Il|Op)\s/i.test(line.trim()) && ATTRIBUTION.test(joined)) break;
    if (SIGNATURE.test(line)) break;
    if (/^\s*>/.test(line)) continue;
    kept.push(line);
  }
  const own = kept.join('\n').trim();
  return own === '' ? text.trim() : own;
}
