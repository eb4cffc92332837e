// Server-rendered pages of the browser flows: the login form, the consent form and an error page.
// No JavaScript is needed. WCAG basics: `lang`, a descriptive <title>, every input has a <label for>,
// errors are announced (role="alert") and take focus (autofocus on the summary), otherwise the first field does.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1b1f24;margin:0}
main{max-width:24rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.5rem;margin-top:0}label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=email],input[type=password],input[type=text]{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #6b7280;border-radius:4px}
input:focus,button:focus{outline:3px solid #2563eb;outline-offset:2px}
button{margin-top:1.5rem;padding:.65rem 1.2rem;font-size:1rem;border:0;border-radius:4px;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:#4b5563;margin-left:.5rem}
.error{border:2px solid #b91c1c;background:#fef2f2;color:#7f1d1d;padding:.75rem;border-radius:4px}
ul.scopes{padding-left:1.2rem}`;

function layout(title: string, body: string, productName: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)} – ${escapeHtml(productName)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function errorSummary(error: string | undefined): string {
  // tabindex=-1 + autofocus: screen readers announce the alert and keyboard focus starts on it.
  return error ? `<div class="error" id="error-summary" role="alert" tabindex="-1" autofocus>${escapeHtml(error)}</div>\n` : '';
}

export interface LoginPageInput {
  action: string;
  returnTo: string;
  csrfToken: string;
  email?: string;
  tenant?: string;
  error?: string;
  productName: string;
}

export function renderLoginPage(p: LoginPageInput): string {
  const focusFirst = p.error ? '' : ' autofocus';
  const body = `<h1>Sign in</h1>
${errorSummary(p.error)}<form method="post" action="${escapeHtml(p.action)}" novalidate>
<input type="hidden" name="csrf_token" value="${escapeHtml(p.csrfToken)}">
<input type="hidden" name="return_to" value="${escapeHtml(p.returnTo)}">
${p.tenant ? `<input type="hidden" name="tenant" value="${escapeHtml(p.tenant)}">\n` : ''}<label for="email">Email address</label>
<input type="email" id="email" name="email" autocomplete="username" required value="${escapeHtml(p.email ?? '')}"${focusFirst}${p.error ? ' aria-describedby="error-summary"' : ''}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`;
  return layout(p.error ? 'Error: Sign in' : 'Sign in', body, p.productName);
}

export interface ConsentPageInput {
  action: string;
  clientName: string;
  userEmail: string;
  scopes: string[];
  /** The authorization request parameters, re-posted with the answer. */
  params: Readonly<Record<string, string>>;
  csrfToken: string;
  productName: string;
}

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are',
  profile: 'See your user name',
  email: 'See your email address',
  offline_access: 'Stay signed in when you are not using it',
};

export function renderConsentPage(p: ConsentPageInput): string {
  const hidden = Object.entries(p.params)
    .filter(([k]) => k !== 'consent' && k !== 'csrf_token')
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  const items = p.scopes.map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)}</li>`).join('\n');
  const body = `<h1 id="consent-title" tabindex="-1" autofocus>Allow ${escapeHtml(p.clientName)}?</h1>
<p>Signed in as ${escapeHtml(p.userEmail)}. <strong>${escapeHtml(p.clientName)}</strong> asks to:</p>
<ul class="scopes">
${items || '<li>Sign you in</li>'}
</ul>
<form method="post" action="${escapeHtml(p.action)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(p.csrfToken)}">
${hidden}
<button type="submit" name="consent" value="allow">Allow</button>
<button type="submit" name="consent" value="deny" class="secondary">Deny</button>
</form>`;
  return layout(`Allow ${p.clientName}`, body, p.productName);
}

export function renderErrorPage(title: string, message: string, productName: string): string {
  const body = `<h1>${escapeHtml(title)}</h1>
<div class="error" role="alert" tabindex="-1" autofocus>${escapeHtml(message)}</div>`;
  return layout(title, body, productName);
}

export interface LogoutPageInput {
  action: string;
  csrfToken: string;
  returnTo: string;
  productName: string;
}

export function renderLogoutPage(p: LogoutPageInput): string {
  const body = `<h1>Sign out</h1>
<form method="post" action="${escapeHtml(p.action)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(p.csrfToken)}">
<input type="hidden" name="return_to" value="${escapeHtml(p.returnTo)}">
<button type="submit" autofocus>Sign out</button>
</form>`;
  return layout('Sign out', body, p.productName);
}
