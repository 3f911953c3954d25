/**
 * The password page's stylesheet and its small optional script, served from /assets/ because the
 * Content-Security-Policy allows no inline style or script. The page works fully without the script:
 * it only adds a live length and match hint and a show-password switch.
 */

export const SETPASS_CSS = `:root {
  --ink: #1b2430;
  --muted: #4d5b6b;
  --line: #c9d2dc;
  --paper: #ffffff;
  --wash: #eef2f6;
  --brand: #17324d;
  --accent: #1f5fa8;
  --accent-dark: #174a84;
  --error: #b3261e;
  --error-wash: #fdeceb;
  --ok: #1e7b45;
  --warn: #8a5300;
  --radius: 10px;
  color-scheme: light;
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  min-height: 100vh;
  display: flex;
  flex-direction: column;
  background: var(--wash);
  color: var(--ink);
  font: 400 1rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); text-underline-offset: 2px; }
a:hover { color: var(--accent-dark); }
.site { background: var(--brand); color: #fff; }
.site-inner {
  max-width: 34rem;
  margin: 0 auto;
  padding: 0.9rem 1.25rem;
  display: flex;
  align-items: center;
  gap: 0.6rem;
}
.site .mark { flex: none; }
.site-name { font-weight: 700; font-size: 1.1rem; letter-spacing: 0.01em; }
.site-sub {
  margin-left: auto;
  font-size: 0.85rem;
  opacity: 0.85;
}
.card {
  width: 100%;
  max-width: 34rem;
  margin: 1.5rem auto;
  padding: 1.75rem 1.5rem 1.5rem;
  background: var(--paper);
  border: 1px solid var(--line);
  border-radius: var(--radius);
  box-shadow: 0 1px 2px rgba(23, 50, 77, 0.06), 0 8px 24px rgba(23, 50, 77, 0.06);
}
h1 { margin: 0 0 0.5rem; font-size: 1.6rem; line-height: 1.25; }
h2 { margin: 1.5rem 0 0.5rem; font-size: 1.1rem; }
.lead { margin: 0 0 1.25rem; color: var(--muted); }
.small { margin: 1.5rem 0 0; font-size: 0.9rem; color: var(--muted); }
.steps { padding-left: 1.25rem; margin: 0; }
.steps li { margin: 0.4rem 0; }
.form { display: grid; gap: 1.1rem; }
.field { display: grid; gap: 0.3rem; }
label { font-weight: 600; }
.hint { margin: 0; font-size: 0.9rem; color: var(--muted); }
.field.checkbox { grid-template-columns: auto 1fr; align-items: center; column-gap: 0.5rem; }
.field.checkbox .hint { grid-column: 2; }
.clouds-yaml { overflow-x: auto; padding: 0.75rem; border: 1px solid var(--muted); border-radius: 6px; font-size: 0.85rem; user-select: all; }
.hint.warn { color: var(--warn); font-weight: 600; }
input[type="text"], input[type="password"] {
  width: 100%;
  min-height: 3rem;
  padding: 0.6rem 0.8rem;
  font: inherit;
  font-size: 1.05rem;
  color: var(--ink);
  background: #fff;
  border: 1.5px solid #8795a5;
  border-radius: 8px;
}
input[readonly] { background: var(--wash); border-color: var(--line); color: var(--muted); }
input:focus { outline: 3px solid rgba(31, 95, 168, 0.35); outline-offset: 1px; border-color: var(--accent); }
#pin { max-width: 9rem; letter-spacing: 0.35em; font-variant-numeric: tabular-nums; }
.has-error input { border-color: var(--error); }
.field-error { margin: 0; color: var(--error); font-weight: 600; font-size: 0.92rem; }
.meter-text { margin: 0; font-size: 0.9rem; color: var(--muted); }
.meter-text:empty { display: none; }
.meter-text.ok { color: var(--ok); }
.meter-text.bad { color: var(--error); }
.alert {
  margin: 0 0 1.25rem;
  padding: 0.85rem 1rem;
  background: var(--error-wash);
  border-left: 4px solid var(--error);
  border-radius: 6px;
}
.alert-title { margin: 0 0 0.25rem; font-weight: 700; color: var(--error); }
.alert ul { margin: 0; padding-left: 1.1rem; }
.button {
  display: inline-block;
  width: 100%;
  min-height: 3rem;
  padding: 0.75rem 1rem;
  font: inherit;
  font-weight: 700;
  font-size: 1.05rem;
  text-align: center;
  text-decoration: none;
  color: #fff;
  background: var(--accent);
  border: 0;
  border-radius: 8px;
  cursor: pointer;
}
.button:hover, .button:focus { background: var(--accent-dark); color: #fff; }
.button:focus { outline: 3px solid rgba(31, 95, 168, 0.35); outline-offset: 2px; }
.toggle {
  justify-self: start;
  padding: 0.2rem 0;
  font: inherit;
  font-size: 0.9rem;
  color: var(--accent);
  background: none;
  border: 0;
  text-decoration: underline;
  cursor: pointer;
}
.success-mark {
  width: 3rem;
  height: 3rem;
  margin-bottom: 0.75rem;
  border-radius: 50%;
  background: var(--ok);
  color: #fff;
  font-size: 1.6rem;
  font-weight: 700;
  line-height: 3rem;
  text-align: center;
}
.site-footer {
  margin-top: auto;
  padding: 1rem 1.25rem 1.5rem;
  text-align: center;
  font-size: 0.85rem;
  color: var(--muted);
}
@media (max-width: 30rem) {
  .card { margin: 0; border-radius: 0; border-left: 0; border-right: 0; padding: 1.25rem 1rem; }
  h1 { font-size: 1.4rem; }
  .site-sub { display: none; }
}
`;

export const SETPASS_JS = `(function () {
  'use strict';
  // The clouds.yaml on the success page: a download button beside it (the page works without it).
  var yaml = document.getElementById('clouds-yaml');
  if (yaml) {
    var save = document.createElement('button');
    save.type = 'button';
    save.className = 'button';
    save.id = 'download-clouds-yaml';
    save.textContent = 'Download clouds.yaml';
    save.addEventListener('click', function () {
      var url = URL.createObjectURL(new Blob([yaml.textContent], { type: 'application/yaml' }));
      var a = document.createElement('a');
      a.href = url;
      a.download = 'clouds.yaml';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    });
    yaml.parentNode.insertBefore(save, yaml.nextSibling);
  }
  var form = document.querySelector('form[data-min-length]');
  if (!form) return;
  var min = Number(form.getAttribute('data-min-length')) || 12;
  var password = document.getElementById('password');
  var confirm = document.getElementById('confirm_password');
  var meter = document.getElementById('password-meter');
  var match = document.getElementById('confirm-meter');

  function say(node, text, state) {
    node.textContent = text;
    node.className = 'meter-text' + (state ? ' ' + state : '');
  }
  function update() {
    var length = Array.from(password.value).length;
    if (length === 0) say(meter, '', '');
    else if (length < min) say(meter, length + ' of ' + min + ' characters', 'bad');
    else say(meter, '\\u2713 ' + length + ' characters; strength is checked when you submit', 'ok');
    if (confirm.value === '') say(match, '', '');
    else if (confirm.value === password.value) say(match, '\\u2713 The passwords match', 'ok');
    else say(match, 'The passwords do not match yet', 'bad');
  }
  password.addEventListener('input', update);
  confirm.addEventListener('input', update);

  var toggle = document.createElement('button');
  toggle.type = 'button';
  toggle.className = 'toggle';
  toggle.textContent = 'Show passwords';
  toggle.setAttribute('aria-pressed', 'false');
  toggle.addEventListener('click', function () {
    var show = password.type === 'password';
    password.type = show ? 'text' : 'password';
    confirm.type = show ? 'text' : 'password';
    toggle.textContent = show ? 'Hide passwords' : 'Show passwords';
    toggle.setAttribute('aria-pressed', show ? 'true' : 'false');
  });
  confirm.parentNode.appendChild(toggle);
})();
`;
