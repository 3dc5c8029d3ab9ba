/**
 * The one spelling of a host name that rules, requests, CONNECT targets, Host headers and
 * credentials are compared in: lower case, without the trailing dot of a fully qualified name
 * (`API.Example.com.` and `api.example.com` are the same host to DNS, so they must be the same
 * host to the policy too).
 */
export function canonicalHost(raw: string): string {
  return raw.toLowerCase().replace(/\.$/, '');
}

/**
 * A canonical host with no empty label: `a..b`, a second trailing dot or a leading one would
 * be one more spelling of a name, so the proxy refuses them instead of guessing.
 */
export function wellFormedHost(host: string): boolean {
  return host !== '' && !host.startsWith('.') && !host.endsWith('.') && !host.includes('..');
}
