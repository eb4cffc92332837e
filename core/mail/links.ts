// Builds the links put into emails from configuration only — config.server.public_url plus the
// configured path — never from the request's Host or X-Forwarded-Host, which an attacker controls
// (password-reset poisoning; CouchAuth CVE-2023-39655 class).

/**
 * `path` is normally a path appended to public_url (`/reset-password`); an absolute http(s) URL is
 * used as is, so the link can point at the customer's own front end on another origin.
 */
export function buildTokenLink(publicUrl: string, path: string, token: string): string {
  const target = /^https?:\/\//i.test(path) ? new URL(path) : new URL(`${publicUrl.replace(/\/+$/, '')}${path.startsWith('/') ? '' : '/'}${path}`);
  target.searchParams.set('token', token);
  return target.toString();
}
