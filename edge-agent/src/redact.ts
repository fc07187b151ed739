/**
 * A URL fit for logs, status and doctor output: `user:password@` removed (a `--hub-url` may carry
 * credentials). Anything that does not parse as a URL is shown as `(unparsable url)` rather than
 * risking a secret in it.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(unparsable url)';
  }
  if (!u.username && !u.password) return url;
  u.username = '';
  u.password = '';
  return u.toString();
}
