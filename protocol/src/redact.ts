/**
 * The one URL redactor (hub logs, agent status/doctor, error messages): a URL fit for logs keeps its
 * scheme, user, host, path and query, but not the password of its userinfo (`mqtt://user:secret@host`
 * → `mqtt://user:[REDACTED]@host`, a `@` inside the password included) nor the value of a `token`,
 * `access_token` or `password` query parameter (the WebSocket passes its token in the query). A string
 * that is neither an absolute URL nor a path is shown as `(unparsable url)` rather than risking a
 * secret in it.
 */
export function redactUrl(url: string): string {
  if (!/^([a-z][a-z0-9+.-]*:\/\/|\/)/i.test(url)) return '(unparsable url)';
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#]*@/i, '$1:[REDACTED]@')
    .replace(/([?&](?:token|access_token|password)=)[^&#]*/gi, '$1[REDACTED]');
}
